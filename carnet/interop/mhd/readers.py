"""Small readers of FHIR JSON (objects, lists, strings, dates, instants) and codings checked against value sets:
each refuses with an `MhdError` naming the element."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from .. import terminology
from .model import DATE, SYSTEM_URLS, MhdError


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MhdError(_("Élément absent ou mal formé (objet JSON attendu)."), expression=where, code="structure",
                       status=400)
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MhdError(_("Élément mal formé (liste JSON attendue)."), expression=where, code="structure", status=400)
    return value


def _str(resource: dict[str, Any], key: str, where: str, *, required: bool = True, limit: int = 1000) -> str:
    value = resource.get(key)
    if value is None or value == "":
        if required:
            raise MhdError(_("Élément obligatoire absent."), expression=where, code="required")
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise MhdError(_("Élément mal formé (texte attendu)."), expression=where, code="structure", status=400)
    return value


def _date(resource: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = _str(resource, key, where, required=required, limit=40)
    if value and not DATE.match(value):
        raise MhdError(_("Date mal formée."), expression=where, code="value")
    return value


def parse_instant(value: str) -> dt.datetime | None:
    """A FHIR dateTime as an aware datetime (a date alone: noon UTC), None when absent."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(12), tzinfo=dt.UTC)
        if len(value) < 10:
            return None
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def system_oid(system: str) -> str:
    """A coding's system as an OID (`urn:oid:` stripped, a MOS or LOINC URL mapped back), else as given."""
    if system.startswith("urn:oid:"):
        return system.removeprefix("urn:oid:")
    for oid, urls in SYSTEM_URLS.items():
        if system in urls:
            return oid
    return system


def _codings(concept: Any, where: str) -> list[tuple[str, str, str]]:
    concept = _obj(concept, where)
    out = []
    for i, coding in enumerate(_list(concept.get("coding"), f"{where}.coding")):
        coding = _obj(coding, f"{where}.coding[{i}]")
        code = coding.get("code")
        if isinstance(code, str) and code:
            system = coding.get("system") if isinstance(coding.get("system"), str) else ""
            display = coding.get("display") if isinstance(coding.get("display"), str) else ""
            out.append((system_oid(system or ""), code, display or ""))
    if not out:
        raise MhdError(_("Code absent."), expression=where, code="required")
    return out


_PAIRS: dict[int, tuple[tuple[terminology.Code, ...], frozenset[tuple[str | None, str]]]] = {}


def _pairs(allowed: tuple[terminology.Code, ...]) -> frozenset[tuple[str | None, str]]:
    """A value set's (system, code) pairs, built once per value set: the terminology's tuples are module data that
    never change (the tuple is kept with its pairs, so its id cannot be reused by another)."""
    cached = _PAIRS.get(id(allowed))
    if cached is not None and cached[0] is allowed:
        return cached[1]
    pairs = frozenset((c.system, c.code) for c in allowed)
    if len(_PAIRS) < 64:  # the profile's value sets; a tuple a caller built for one call is not kept forever
        _PAIRS[id(allowed)] = (allowed, pairs)
    return pairs


def _one_of(concept: Any, where: str, allowed: tuple[terminology.Code, ...], value_set: str) -> str:
    """The code of the first coding that belongs to the value set (code and code system), else a refusal."""
    known = _pairs(allowed)
    for system, code, _display in _codings(concept, where):
        if (system, code) in known:
            return code
    raise MhdError(_("Code hors du jeu de valeurs %(vs)s.") % {"vs": value_set}, expression=where,
                   code="code-invalid")


def master_identifier_value(identifier: dict[str, Any]) -> str:
    """A masterIdentifier as stored (XDS uniqueId): an OID without `urn:oid:`, anything else as written."""
    value = identifier.get("value")
    if not isinstance(value, str):
        return ""
    return value.removeprefix("urn:oid:").strip()


def list_unique_id(resource: dict[str, Any], where: str) -> str:
    """The uniqueId of an MHD List (SubmissionSet or Folder), "" when absent: MHD puts it in the identifier slice
    with use "usual" (the entryUUID is the "official" one); an identifier without use is taken otherwise."""
    identifiers = [i for i in _list(resource.get("identifier"), f"{where}.identifier")
                   if isinstance(i, dict) and isinstance(i.get("value"), str) and i["value"]]
    chosen = next((i for i in identifiers if i.get("use") == "usual"),
                  next((i for i in identifiers if i.get("use") != "official"), None))
    return master_identifier_value(chosen) if chosen else ""


def _extension(resource: dict[str, Any], url: str) -> dict[str, Any] | None:
    for ext in resource.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == url:
            return ext
    return None
