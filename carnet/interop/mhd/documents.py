"""One DocumentReference checked against the PDSm profile (value sets, identifiers, context), and its bytes
against the declared size and SHA-1."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from typing import Any

import pybase64
from django.utils.translation import gettext as _

from .. import terminology
from .model import CONFIDENTIALITY_LEVELS, IS_ARCHIVED, MAX_ID, DocumentInfo, MhdError
from .readers import _codings, _date, _extension, _list, _obj, _one_of, _str, master_identifier_value, parse_instant
from .references import Resolver, author_info, patient_ref


def _decode(data: Any, where: str) -> bytes:
    """The attachment's bytes. pybase64 (SIMD) decodes a 40 KB attachment in 3 µs where the standard library takes
    80-130: the largest single step of an ITI-65 document after the XML parse (bench/README, seventh round). It refuses
    what the standard library refuses, and also padding beyond the last quantum (`QUJD==`), which RFC 4648 does
    not allow and the standard library skipped."""
    if not isinstance(data, str) or not data:
        raise MhdError(_("Contenu du document absent."), expression=where, code="required")
    try:
        return pybase64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise MhdError(_("Contenu mal encodé (base64 attendu)."), expression=where, code="structure",
                       status=400) from None


def check_bytes(content: bytes, attachment: dict[str, Any], where: str, *, required: bool) -> None:
    """The bytes against the declared size and SHA-1 (base64, as R4 says; hex accepted): refused otherwise."""
    size, digest = attachment.get("size"), attachment.get("hash")
    if required and (size is None or digest is None):
        raise MhdError(_("Taille (size) et empreinte (hash) du document obligatoires."), code="required",
                       expression=f"{where}.{'size' if size is None else 'hash'}")
    if size is not None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise MhdError(_("Taille mal formée."), expression=f"{where}.size", code="structure", status=400)
        if size != len(content):
            raise MhdError(_("La taille déclarée ne correspond pas au contenu reçu."), expression=f"{where}.size",
                           code="value", reason="size_mismatch")
    if digest is not None:
        sha1 = hashlib.sha1(content, usedforsecurity=False).digest()
        if not isinstance(digest, str) or digest not in (base64.b64encode(sha1).decode(), sha1.hex()):
            raise MhdError(_("L'empreinte SHA-1 déclarée ne correspond pas au contenu reçu."),
                           expression=f"{where}.hash", code="value", reason="hash_mismatch")


def document_info(resource: dict[str, Any], where: str, resolver: Resolver, *, binaries: dict[str, bytes] | None,
                  full_url: str = "") -> DocumentInfo:
    """Check one DocumentReference against the PDSm profile. `binaries` (fullUrl → bytes) for ITI-65, where
    the attachment points at a Binary of the bundle; None for ITI-105, where the data is inline."""
    resolver = resolver.within(resource)
    master = resource.get("masterIdentifier")
    unique_id = master_identifier_value(master) if isinstance(master, dict) else ""
    if not unique_id:
        raise MhdError(_("Identifiant unique du document (masterIdentifier) obligatoire."),
                       expression=f"{where}.masterIdentifier", code="required")
    if len(unique_id) > MAX_ID:
        raise MhdError(_("Identifiant unique trop long."), expression=f"{where}.masterIdentifier", code="value")
    if resource.get("status") != "current":
        raise MhdError(_("Un document déposé a le statut « current »."), expression=f"{where}.status", code="value")
    type_system, type_code = "", ""
    for system, code, _display in _codings(resource.get("type"), f"{where}.type"):
        found = terminology.document_type(code, system or None)
        if found is not None:
            type_system, type_code = found.system, found.code
            break
    if not type_code:
        raise MhdError(_("Type de document hors du jeu de valeurs JDV_J07."), expression=f"{where}.type",
                       code="code-invalid", reason="unknown_type")
    categories = _list(resource.get("category"), f"{where}.category")
    if not categories:
        raise MhdError(_("Classe du document (category) obligatoire."), expression=f"{where}.category",
                       code="required")
    classes = _class_codes()
    class_code = next((code for system, code, _d in _codings(categories[0], f"{where}.category[0]")
                       if system == terminology.CLASS_SYSTEM and code in classes), "")
    if not class_code:
        raise MhdError(_("Classe hors du jeu de valeurs JDV_J06 (TRE_A03)."), expression=f"{where}.category",
                       code="code-invalid")
    if "subject" not in resource:
        raise MhdError(_("Patient (subject) obligatoire."), expression=f"{where}.subject", code="required")
    patient = patient_ref(resource["subject"], f"{where}.subject", resolver)
    date = _date(resource, "date", f"{where}.date")
    authors = [author_info(a, f"{where}.author[{i}]", resolver)
               for i, a in enumerate(_list(resource.get("author"), f"{where}.author"))]
    if not authors:
        raise MhdError(_("Au moins un auteur obligatoire."), expression=f"{where}.author", code="required")
    security = _security(resource, where)
    contents = _list(resource.get("content"), f"{where}.content")
    if len(contents) != 1:
        raise MhdError(_("Un et un seul contenu (content) par document."), expression=f"{where}.content",
                       code="structure")
    content = _obj(contents[0], f"{where}.content[0]")
    attachment = _obj(content.get("attachment"), f"{where}.content[0].attachment")
    at = f"{where}.content[0].attachment"
    content_type = _str(attachment, "contentType", f"{at}.contentType", limit=64)
    title = _str(attachment, "title", f"{at}.title", limit=255)
    binary_url = ""
    if binaries is None:
        data = _decode(attachment.get("data"), f"{at}.data")
    else:
        binary_url = _str(attachment, "url", f"{at}.url", limit=300)
        if binary_url not in binaries:
            raise MhdError(_("Le contenu (attachment.url) doit désigner une ressource Binary du lot."),
                           expression=f"{at}.url", code="required")
        data = binaries[binary_url]
    check_bytes(data, attachment, at, required=binaries is not None)
    format_coding = content.get("format")  # a Coding, not a CodeableConcept
    format_code = _one_of({"coding": [format_coding]} if isinstance(format_coding, dict) else None,
                          f"{where}.content[0].format", _format_codes(), "JDV_J10")
    if not isinstance(resource.get("context"), dict):
        raise MhdError(_("Contexte (context : secteur d'activité, cadre d'exercice, date de l'acte) obligatoire."),
                       expression=f"{where}.context", code="required")
    context = resource["context"]
    facility = _one_of(context.get("facilityType"), f"{where}.context.facilityType", terminology.facility_types,
                       "JDV_J02")
    setting = _one_of(context.get("practiceSetting"), f"{where}.context.practiceSetting",
                      terminology.practice_settings, "JDV_J04")
    if not isinstance(context.get("period"), dict):
        raise MhdError(_("Date de l'acte (context.period.start) obligatoire."), expression=f"{where}.context.period",
                       code="required")
    period = context["period"]
    act_start = parse_instant(_date(period, "start", f"{where}.context.period.start"))
    act_end = parse_instant(_date(period, "end", f"{where}.context.period.end", required=False))
    events = []
    for i, concept in enumerate(_list(context.get("event"), f"{where}.context.event")):
        for system, code, display in _codings(concept, f"{where}.context.event[{i}]"):
            events.append({"system": system, "code": code[:64], "display": display[:200]})
    related = []
    for i, rel in enumerate(_list(context.get("related"), f"{where}.context.related")):
        identifier = _obj(rel, f"{where}.context.related[{i}]").get("identifier")
        if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
            related.append({"system": str(identifier.get("system") or "")[:200], "value": identifier["value"][:200]})
    source_patient = {}
    if isinstance(context.get("sourcePatientInfo"), dict):
        other = patient_ref(context["sourcePatientInfo"], f"{where}.context.sourcePatientInfo", resolver)
        if other.key() != patient.key():
            raise MhdError(_("sourcePatientInfo ne désigne pas le même patient que subject."),
                           expression=f"{where}.context.sourcePatientInfo", code="business-rule",
                           reason="patient_mismatch")
        source_patient = {"ins_oid": other.ins_oid} if other.ins_oid else {}
    language = attachment.get("language")
    archived_ext = _extension(resource, IS_ARCHIVED)
    return DocumentInfo(
        full_url=full_url, unique_id=unique_id, type_code=type_code, type_system=type_system, class_code=class_code,
        patient=patient, date=date, authors=authors, security_codes=security, content_type=content_type,
        title=title, content=data, format_code=format_code, facility_type=facility, practice_setting=setting,
        act_start=act_start, act_end=act_end,
        description=resource["description"] if isinstance(resource.get("description"), str) else "",
        event_codes=events, related=related, languages=[language] if isinstance(language, str) else [],
        replaces=_replaces(resource, where), archived=bool(archived_ext and archived_ext.get("valueBoolean")),
        binary_full_url=binary_url, source_patient=source_patient,
    )


def _security(resource: dict[str, Any], where: str) -> list[str]:
    """The confidentiality level (N, R, V: exactly one) and the DMP visibility statuses (JDV_J08)."""
    labels = _list(resource.get("securityLabel"), f"{where}.securityLabel")
    if not labels:
        raise MhdError(_("Niveau de confidentialité (securityLabel) obligatoire."),
                       expression=f"{where}.securityLabel", code="required")
    return security_codes(labels, f"{where}.securityLabel")


@functools.cache
def _confidentiality() -> tuple[terminology.Code, ...]:
    """JDV_J08 as (code, system) pairs only, built once (its display labels play no part in the check)."""
    known = {(c.system, c.code) for c in terminology.confidentiality_codes}
    return tuple(terminology.Code(c, s) for s, c in known)


def security_codes(labels: list[Any], where: str) -> list[str]:
    allowed = _confidentiality()
    codes: list[str] = []
    for i, label in enumerate(labels):
        code = _one_of(label, f"{where}[{i}]", allowed, "JDV_J08")
        if code not in codes:
            codes.append(code)
    if sum(1 for c in codes if c in CONFIDENTIALITY_LEVELS) > 1:
        raise MhdError(_("Un seul niveau de confidentialité (N, R ou V)."), expression=where, code="business-rule")
    return codes


def _replaces(resource: dict[str, Any], where: str) -> str:
    relations = _list(resource.get("relatesTo"), f"{where}.relatesTo")
    for i, relation in enumerate(relations):
        relation = _obj(relation, f"{where}.relatesTo[{i}]")
        if relation.get("code") != "replaces":
            raise MhdError(_("Seule la relation « replaces » est prise en charge."),
                           expression=f"{where}.relatesTo[{i}].code", code="not-supported")
        target = _obj(relation.get("target"), f"{where}.relatesTo[{i}].target")
        if isinstance(target.get("reference"), str) and target["reference"]:
            return target["reference"][:300]
        if isinstance(target.get("identifier"), dict):
            value = master_identifier_value(target["identifier"])
            if value:
                return value
        raise MhdError(_("Document remplacé non désigné."), expression=f"{where}.relatesTo[{i}].target",
                       code="required")
    return ""


def _class_codes() -> set[str]:
    from ..terminology import _load

    return set(_load("type_class.json")["classes"]["concepts"])


def _format_codes() -> tuple[terminology.Code, ...]:
    from ..terminology import _format_codes as known

    return tuple(known().values())
