"""References inside a submission: the patient (by INS, or one of our Patient ids) and the declared authors
(Practitioner, PractitionerRole, Organization, Device), contained or in the bundle."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from .model import INS_SYSTEMS, RPPS_SYSTEMS, AuthorInfo, MhdError, PatientRef
from .readers import _codings, _list, _obj


class Resolver:
    """Finds what a reference points to: a contained resource (`#id`), an entry of the bundle (its fullUrl,
    or `Type/id` of a resource in it), or nothing (a reference to the server: `Patient/<uuid>`)."""

    def __init__(self, entries: dict[str, dict[str, Any]], contained: list[Any] | None = None):
        self.entries = entries
        self.contained = {c.get("id"): c for c in contained or [] if isinstance(c, dict) and c.get("id")}

    def within(self, resource: dict[str, Any]) -> Resolver:
        return Resolver(self.entries, _list(resource.get("contained"), "contained"))

    def find(self, reference: str) -> dict[str, Any] | None:
        if reference.startswith("#"):
            return self.contained.get(reference[1:])
        return self.entries.get(reference)


def _ins_of(identifiers: Any, where: str) -> tuple[str, str] | None:
    for identifier in _list(identifiers, where):
        if isinstance(identifier, dict) and identifier.get("system") in INS_SYSTEMS and identifier.get("value"):
            return str(identifier["system"]).removeprefix("urn:oid:"), str(identifier["value"]).strip()
    return None


def patient_ref(reference: Any, where: str, resolver: Resolver) -> PatientRef:
    """The patient a `subject` (or sourcePatientInfo) names: by INS identifier (logical reference), by a
    contained or bundled Patient carrying an INS, or by our own Patient id."""
    reference = _obj(reference, where)
    if isinstance(reference.get("identifier"), dict):
        found = _ins_of([reference["identifier"]], f"{where}.identifier")
        if found:
            return PatientRef(*found)
    target = reference.get("reference")
    if isinstance(target, str) and target:
        resource = resolver.find(target)
        if resource is not None:
            if resource.get("resourceType") != "Patient":
                raise MhdError(_("La référence doit désigner un Patient."), expression=where, code="structure")
            found = _ins_of(resource.get("identifier"), f"{where}.identifier")
            if found:
                return PatientRef(*found)
            raise MhdError(_("Le patient n'est pas identifié par son INS (matricule INS, OID "
                             "1.2.250.1.213.1.4.8 ou 1.2.250.1.213.1.4.10)."), expression=where, code="required",
                           reason="no_ins")
        kind, _slash, ident = target.rstrip("/").rpartition("/")
        if kind == "Patient" or kind.endswith("/Patient"):
            return PatientRef(local_id=ident)
    raise MhdError(_("Le patient n'est pas identifié par son INS (matricule INS, OID 1.2.250.1.213.1.4.8 ou "
                     "1.2.250.1.213.1.4.10)."), expression=where, code="required", reason="no_ins")


def _rpps(identifiers: Any) -> str:
    for identifier in identifiers or []:
        if not isinstance(identifier, dict) or identifier.get("system") not in RPPS_SYSTEMS:
            continue
        value = str(identifier.get("value") or "").strip()
        if identifier["system"] == "urn:oid:1.2.250.1.71.4.2.1" and len(value) == 12 and value.startswith("8"):
            value = value[1:]  # IDNPS = "8" + RPPS
        if value:
            return value[:64]
    return ""


def _name(resource: dict[str, Any]) -> tuple[str, str]:
    for name in resource.get("name") or []:
        if isinstance(name, dict):
            given = " ".join(g for g in name.get("given") or [] if isinstance(g, str))
            family = name.get("family") if isinstance(name.get("family"), str) else ""
            return given[:100], (family or "")[:100]
    return "", ""


def author_info(reference: Any, where: str, resolver: Resolver) -> AuthorInfo:
    """A declared author from its reference: Practitioner, PractitionerRole (then its Practitioner),
    Organization or Device, contained or in the bundle; or a logical reference with an RPPS identifier."""
    reference = _obj(reference, where)
    if isinstance(reference.get("identifier"), dict):
        rpps = _rpps([reference["identifier"]])
        if rpps:
            return AuthorInfo("practitioner", rpps=rpps, name=str(reference.get("display") or "")[:200])
    target = reference.get("reference")
    resource = resolver.find(target) if isinstance(target, str) else None
    if resource is None:
        raise MhdError(_("Auteur introuvable : la référence doit désigner une ressource contenue ou du lot."),
                       expression=where, code="required", reason="unknown_author")
    kind = resource.get("resourceType")
    if kind == "PractitionerRole":
        role = ""
        for concept in resource.get("code") or []:
            codes = _codings(concept, f"{where}.code") if isinstance(concept, dict) and concept.get("coding") else []
            if codes:
                role = codes[0][1][:64]
                break
        practitioner = resource.get("practitioner")
        person = resolver.find(practitioner.get("reference", "")) if isinstance(practitioner, dict) else None
        if person is None:
            return AuthorInfo("practitioner", rpps=_rpps(resource.get("identifier")), role=role)
        given, family = _name(person)
        return AuthorInfo("practitioner", given, family, _rpps(person.get("identifier")), role)
    if kind == "Practitioner":
        given, family = _name(resource)
        return AuthorInfo("practitioner", given, family, _rpps(resource.get("identifier")))
    if kind in ("Organization", "Device"):
        label = resource.get("name") if kind == "Organization" else (resource.get("deviceName") or [{}])[0]
        name = label if isinstance(label, str) else (label.get("name", "") if isinstance(label, dict) else "")
        return AuthorInfo("organisation" if kind == "Organization" else "device", name=str(name)[:200])
    if kind == "Patient":
        return AuthorInfo("patient")
    raise MhdError(_("Type d'auteur non pris en charge."), expression=where, code="not-supported")
