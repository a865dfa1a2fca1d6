"""What every section spec does: turn checked input into a FHIR resource (plus its search
columns), and turn a stored resource back into something to show and a form to edit.

Input comes as a dict of Python values from the portal forms or the API bodies; the specs check
the rules (lengths, choices, dates after birth) and raise `MedicalError` with the field's name.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal, overload

from django.utils.translation import gettext as _

from ..dates import PartialDate, check_not_before_birth
from ..errors import MedicalError

COMMENT_MAX = 3000
LOCAL = "https://carnet.sante.fr/fhir/CodeSystem/"  # our own code systems (documented in data/README.md)
EXTENSION = "https://carnet.sante.fr/fhir/StructureDefinition/"


@dataclass
class Built:
    """A resource without id/meta/subject (the action adds them) and its search columns."""

    resource: dict
    code_system: str = ""
    code: str = ""
    effective: dt.datetime | None = None
    status: str = ""
    category: str = ""


@dataclass
class Summary:
    title: str
    when: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)


class SectionSpec:
    key: ClassVar[str]
    resource_type: ClassVar[str]
    subject_field: ClassVar[str] = "subject"
    single: ClassVar[bool] = False  # at most one entry (blood group)

    def fhir_model(self):
        import importlib

        module = importlib.import_module(f"fhir.resources.R4B.{self.resource_type.lower()}")
        return getattr(module, self.resource_type)

    def build(self, person, data: dict) -> Built:  # pragma: no cover - abstract
        raise NotImplementedError

    def summary(self, resource: dict) -> Summary:  # pragma: no cover - abstract
        raise NotImplementedError

    def initial(self, resource: dict) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


# --- input helpers ----------------------------------------------------------------------------------------


def text(data: dict, name: str, max_length: int, *, required: bool = False, label: str = "") -> str:
    value = data.get(name)
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise MedicalError(_("Ce champ est obligatoire : %(label)s.") % {"label": label or name}, name)
    if len(value) > max_length:
        raise MedicalError(_("%(max)s caractères au maximum.") % {"max": max_length}, name)
    return value


def comment(data: dict, name: str = "comment") -> str:
    return text(data, name, COMMENT_MAX)


def choice(data: dict, name: str, choices, *, required: bool = False, label: str = "") -> str:
    value = data.get(name) or ""
    if not value:
        if required:
            raise MedicalError(_("Choisissez une valeur : %(label)s.") % {"label": label or name}, name)
        return ""
    if value not in dict(choices):
        raise MedicalError(_("Valeur inconnue."), name)
    return str(value)


def choices_list(data: dict, name: str, choices, *, required: bool = False) -> list[str]:
    values = data.get(name) or []
    if isinstance(values, str):
        values = [values]
    known = dict(choices)
    if any(v not in known for v in values):
        raise MedicalError(_("Valeur inconnue."), name)
    if required and not values:
        raise MedicalError(_("Choisissez au moins une valeur."), name)
    return sorted(set(values), key=list(known).index)


def integer(data: dict, name: str, low: int, high: int, *, required: bool = False) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise MedicalError(_("Ce champ est obligatoire."), name)
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise MedicalError(_("Indiquez un nombre entier."), name) from None
    if not low <= number <= high:
        raise MedicalError(_("Indiquez un nombre entre %(low)s et %(high)s.") % {"low": low, "high": high}, name)
    return number


@overload
def decimal(data: dict, name: str, low: Decimal, high: Decimal, places: int, *, required: Literal[True] = True,
            unit: str = "") -> Decimal: ...
@overload
def decimal(data: dict, name: str, low: Decimal, high: Decimal, places: int, *, required: bool,
            unit: str = "") -> Decimal | None: ...
def decimal(data: dict, name: str, low: Decimal, high: Decimal, places: int, *, required: bool = True,
            unit: str = "") -> Decimal | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise MedicalError(_("Indiquez une valeur."), name)
        return None
    try:
        number = Decimal(str(value).replace(",", ".")).quantize(Decimal(1).scaleb(-places))
    except (InvalidOperation, ValueError):
        raise MedicalError(_("Indiquez un nombre."), name) from None
    if not low <= number <= high:
        raise MedicalError(_("La valeur doit être comprise entre %(low)s et %(high)s %(unit)s.")
                           % {"low": low, "high": high, "unit": unit}, name)
    return number


@overload
def past_date(person, data: dict, name: str, *, required: Literal[True], label: str = "") -> PartialDate: ...
@overload
def past_date(person, data: dict, name: str, *, required: bool = False, label: str = "") -> PartialDate | None: ...
def past_date(person, data: dict, name: str, *, required: bool = False, label: str = "") -> PartialDate | None:
    value = PartialDate.parse(data.get(name), name)
    if value is None and required:
        raise MedicalError(_("Indiquez au moins l'année : %(label)s.") % {"label": label or name}, name)
    check_not_before_birth(person, value, name)
    return value


def flag(data: dict, name: str) -> bool:
    value = data.get(name)
    return value in (True, "true", "on", "1", 1)


# --- output helpers ---------------------------------------------------------------------------------------


def concept(text_value: str = "", *codings: dict) -> dict:
    out: dict[str, Any] = {}
    if codings:
        out["coding"] = [c for c in codings if c]
    if text_value:
        out["text"] = text_value
    return out


def coding(system: str, code: str, display: str = "") -> dict:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def notes(value: str) -> list[dict]:
    return [{"text": value}] if value else []


def note_text(resource: dict) -> str:
    return "\n".join(n.get("text", "") for n in resource.get("note") or [])


def code_of(concept_value: dict | None, system: str) -> str:
    for c in (concept_value or {}).get("coding") or []:
        if c.get("system") == system:
            return c.get("code", "")
    return ""


def show_date(value) -> str:
    parsed = PartialDate.parse(value[:10]) if value else None
    return parsed.display() if parsed else ""


def label_of(choices, value) -> str:
    return str(dict(choices).get(value, value or ""))


def ext(resource: dict, name: str) -> dict:
    for e in resource.get("extension") or []:
        if e.get("url") == EXTENSION + name:
            return e
    return {}


def clean(d: dict) -> dict:
    """Drop empty values: FHIR forbids empty strings, lists and objects."""
    out = {}
    for key, value in d.items():
        if isinstance(value, dict):
            value = clean(value)
        elif isinstance(value, list):
            value = [clean(v) if isinstance(v, dict) else v for v in value]
            value = [v for v in value if v not in ("", None, {}, [])]
        if value in ("", None, {}, []):
            continue
        out[key] = value
    return out
