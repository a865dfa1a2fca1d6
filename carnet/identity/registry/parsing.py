"""What a valid registry row is, and how the file is read.

Every rule and message an operator sees for a rejected row lives here; the rest of the import only
handles rows that passed. Reading is streamed: one row at a time, whatever the file's size.
"""

import csv
import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from stdnum.fr import nir as stdnum_nir

from ..models import Person
from ..validators import normalise_phone, validate_nir, validate_serial

COLUMNS = ["nir", "vitale_serial", "family_name", "given_names", "birth_date", "sex", "email", "phone",
           "address", "postal_code", "city", "parent_nir"]
_email = EmailValidator()


class RegistryFileError(Exception):
    """The file itself is unusable (not UTF-8 CSV, wrong header). `line` is where reading stopped:
    on the header nothing was imported; further down, the chunks before it were (re-running the
    corrected file is safe: the import is idempotent)."""

    def __init__(self, message: str, line: int = 1):
        self.line = line
        super().__init__(message)


class RowInvalid(Exception):
    pass


@dataclass
class RegistryRow:
    line: int
    nir: str
    vitale_serial: str
    family_name: str
    given_names: str
    birth_date: dt.date
    sex: str
    email: str
    phone: str
    address: str
    postal_code: str
    city: str
    parent_nir: str
    digest: str = ""
    opposition_digest: str = ""  # the keyed hash an opposition to this NIR is filed under

    # Names as notices print them, by the same rules as a Person's.
    first_name = Person.first_name
    full_name = Person.full_name

    def raw(self) -> list[str]:
        return [str(self.line), self.nir, self.vitale_serial, self.family_name, self.given_names,
                self.birth_date.isoformat(), self.sex, self.email, self.phone, self.address, self.postal_code,
                self.city, self.parent_nir]



_COMPACT_NIR = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}")


def _valid_nir(value: str) -> str:
    """validate_nir, quicker on a NIR already written as registry extracts write them (15 characters,
    no spaces): for those its clean-up changes nothing and only the check digits remain to compare,
    by the same function. Anything else, or a wrong key, goes through validate_nir and its message."""
    if _COMPACT_NIR.fullmatch(value) and stdnum_nir.calc_check_digits(value) == value[13:]:
        return value
    return validate_nir(value)


def parse_row(raw: dict, line: int, day: dt.date) -> RegistryRow:
    """Validate one CSV row; raises RowInvalid with a reason a registry operator can act on."""
    def get(name: str) -> str:
        return (raw.get(name) or "").strip()

    try:
        nir = _valid_nir(get("nir"))
    except ValidationError as exc:
        raise RowInvalid(exc.messages[0]) from None
    try:
        serial = validate_serial(get("vitale_serial"))
    except ValidationError as exc:
        raise RowInvalid(exc.messages[0]) from None
    family_name, given_names = get("family_name"), " ".join(get("given_names").split())
    if not family_name or not given_names:
        raise RowInvalid("nom ou prénoms manquants")
    if len(family_name) > 100 or len(given_names) > 150:
        raise RowInvalid("nom ou prénoms trop longs")
    try:
        birth_date = dt.date.fromisoformat(get("birth_date"))
    except ValueError:
        raise RowInvalid("date de naissance invalide (AAAA-MM-JJ attendu)") from None
    if birth_date > day or birth_date.year < 1880:
        raise RowInvalid("date de naissance hors limites")
    sex = get("sex").upper()
    if sex not in ("M", "F"):
        raise RowInvalid("sexe invalide (M ou F attendu)")
    if (nir[0] == "1" and sex != "M") or (nir[0] == "2" and sex != "F"):
        raise RowInvalid("le sexe ne correspond pas au NIR")
    email = get("email")
    if email:
        try:
            _email(email)
        except ValidationError:
            raise RowInvalid("adresse électronique invalide") from None
    phone = get("phone")
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValidationError:
            raise RowInvalid("numéro de téléphone invalide") from None
    address, postal_code, city = get("address"), get("postal_code"), get("city")
    if not (address and postal_code and city):
        raise RowInvalid("adresse postale incomplète")
    parent_nir = get("parent_nir")
    if parent_nir:
        try:
            parent_nir = _valid_nir(parent_nir)
        except ValidationError as exc:
            raise RowInvalid(f"parent_nir : {exc.messages[0]}") from None
        if parent_nir == nir:
            raise RowInvalid("une personne ne peut pas être son propre parent")
    row = RegistryRow(line, nir, serial, family_name, given_names, birth_date, sex, email.lower(), phone,
                      address, postal_code, city, parent_nir)
    row.digest = _digest(row)
    return row


def _digest(row: RegistryRow) -> str:
    return hashlib.sha256("\x1f".join(row.raw()[2:]).encode()).hexdigest()


def read_rows(stream: TextIO) -> Iterator[tuple[int, dict]]:
    """(line number, {column: value}) for each non-empty line after the header, as csv.DictReader
    reads them (a short line lacks its last keys), without its per-row overhead."""
    reader = csv.reader(stream)
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise RegistryFileError(f"colonnes manquantes dans l'en-tête : {', '.join(missing)}")
        for values in reader:
            if values:
                yield reader.line_num, dict(zip(header, values, strict=False))
    except (csv.Error, UnicodeDecodeError) as exc:
        reason = "pas en UTF-8" if isinstance(exc, UnicodeDecodeError) else "CSV mal formé"
        line = max(reader.line_num, 1)
        raise RegistryFileError(f"ligne {line} : fichier illisible ({reason})", line) from None
