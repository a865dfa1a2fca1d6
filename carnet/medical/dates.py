"""Partial dates (year, month and year, or a full date) as the profile lets people give them."""

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from carnet.common.dates import start_of_day, today

from .errors import MedicalError

PARTIAL_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True, order=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None

    def __str__(self) -> str:
        """The FHIR form: YYYY, YYYY-MM or YYYY-MM-DD."""
        text = f"{self.year:04d}"
        if self.month:
            text += f"-{self.month:02d}"
            if self.day:
                text += f"-{self.day:02d}"
        return text

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    @property
    def last_day(self) -> dt.date:
        if self.day:
            return self.first_day
        if self.month:
            following = dt.date(self.year + self.month // 12, self.month % 12 + 1, 1)
            return following - dt.timedelta(days=1)
        return dt.date(self.year, 12, 31)

    def start_datetime(self) -> dt.datetime:
        return start_of_day(self.first_day)

    @classmethod
    def parse(cls, value, field: str = "") -> "PartialDate | None":
        """From a PartialDate, a date, or text YYYY[-MM[-DD]]; None for empty; MedicalError otherwise."""
        if value in (None, ""):
            return None
        if isinstance(value, PartialDate):
            return value
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return cls(value.year, value.month, value.day)
        match = PARTIAL_RE.match(str(value).strip())
        if not match:
            raise MedicalError(_("Date invalide : indiquez l'année, le mois et l'année, ou la date complète."),
                               field)
        year, month, day = (int(g) if g else None for g in match.groups())
        return cls.of(year, month, day, field)

    @classmethod
    def of(cls, year, month=None, day=None, field: str = "") -> "PartialDate | None":
        """From separate day / month / year inputs (the year is needed whenever anything is given)."""
        if not year:
            if month or day:
                raise MedicalError(_("Indiquez au moins l'année."), field)
            return None
        if day and not month:
            raise MedicalError(_("Indiquez le mois si vous indiquez le jour."), field)
        try:
            dt.date(int(year), int(month or 1), int(day or 1))
        except (ValueError, TypeError):
            raise MedicalError(_("Cette date n'existe pas."), field) from None
        if int(year) < 1900:
            raise MedicalError(_("Cette date est trop ancienne."), field)
        return cls(int(year), int(month) if month else None, int(day) if day else None)

    def display(self) -> str:
        from django.utils import formats

        if self.day:
            return formats.date_format(self.first_day, "j F Y")
        if self.month:
            return formats.date_format(self.first_day, "F Y")
        return str(self.year)


def check_not_before_birth(person, value: PartialDate | None, field: str) -> None:
    """Start dates must be on or after the birth date (compared at the precision given) and not in the future."""
    if value is None:
        return
    if value.last_day < person.birth_date:
        raise MedicalError(_("Cette date est antérieure à la date de naissance."), field)
    if value.first_day > today():
        raise MedicalError(_("Cette date est dans le futur."), field)


def check_order(start: PartialDate | None, end: PartialDate | None, field: str = "end") -> None:
    if start and end and end.last_day < start.first_day:
        raise MedicalError(_("La date de fin est antérieure à la date de début."), field)
