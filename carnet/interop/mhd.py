"""IHE MHD as profiled by the ANS (PDSm): reading a Provide Document Bundle (ITI-65) or a Simplified Publish
DocumentReference (ITI-105) into plain facts, checked against the profile, before anything is stored.

Pure code (no database): the FHIR face resolves the patient and the authors, asks the policy and stores. Every
refusal is an `MhdError` naming the element (`expression`) and the rule broken, in French, without health
content (codes, element paths and identifiers of resources in the bundle only).

Rules taken from the PDSm profiles (ansforge/IG-fhir-partage-de-documents-de-sante, input/fsh/profiles):
masterIdentifier, status `current`, type (JDV_J07), category (TRE_A03 class), subject (an INS), date, at least
one author, securityLabel (JDV_J08: one confidentiality level, visibility statuses), attachment contentType,
title, size and SHA-1 hash (ITI-65), format (JDV_J10), context.facilityType (JDV_J02), context.practiceSetting
(JDV_J04), context.period.start. The bytes must match the declared size and hash.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from . import terminology
from .ins import INS_OIDS

if TYPE_CHECKING:
    from .mhd_folders import FolderInfo

INS_SYSTEMS = {f"urn:oid:{oid}" for oid in INS_OIDS}
RPPS_SYSTEMS = {"urn:oid:1.2.250.1.71.4.2.1", "https://rpps.esante.gouv.fr"}
MHD_LIST_TYPES = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"
IS_ARCHIVED = "http://esante.gouv.fr/cisis/fhir/StructureDefinition/PDSm_isArchived"
SOURCE_ID = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId"
LOINC_URI = "http://loinc.org"
V3_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
MOS = "https://mos.esante.gouv.fr/NOS/{0}/FHIR/{1}"
# Code system OIDs and the URLs the ANS terminology server (MOS/NOS) gives them in FHIR.
SYSTEM_URLS: dict[str, set[str]] = {
    terminology.LOINC: {LOINC_URI},
    terminology.CLASS_SYSTEM: {MOS.format("TRE_A03-ClasseDocument", "TRE-A03-ClasseDocument")},
    terminology.TYPE_DOC_COMPLEMENTAIRE: {MOS.format("TRE_A05-TypeDocComplementaire", "TRE-A05-TypeDocComplementaire")},
    "1.2.250.1.213.1.1.4.13": {MOS.format("TRE_A07-StatusVisibiliteDocument", "TRE-A07-StatusVisibiliteDocument")},
    "2.16.840.1.113883.5.25": {V3_CONFIDENTIALITY},
    "1.2.250.1.71.4.2.4": {MOS.format("TRE_R02-SecteurActivite", "TRE-R02-SecteurActivite")},
    "1.2.250.1.213.1.1.4.9": {MOS.format("TRE_A01-CadreExercice", "TRE-A01-CadreExercice")},
    "1.2.250.1.213.1.1.4.6": {MOS.format("TRE_A00-ProducteurDocNonPS", "TRE-A00-ProducteurDocNonPS")},
    "1.2.250.1.213.1.1.4.2.282": {MOS.format("TRE_A06-FormatCodeComplementaire", "TRE-A06-FormatCodeComplementaire")},
    "1.3.6.1.4.1.19376.1.2.3": {MOS.format("TRE_A11-IheFormatCode", "TRE-A11-IheFormatCode")},
    "1.2.840.10008.2.6.1": {MOS.format("TRE_A09-DICOMuidRegistry", "TRE-A09-DICOMuidRegistry")},
}
MASKING_CODES = ("MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX")
CONFIDENTIALITY_LEVELS = ("N", "R", "V")
DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$")
MAX_ID = 128


class MhdError(Exception):
    """A refusal: HTTP status, FHIR issue type, where (`expression`) and why (French, no health content)."""

    def __init__(self, diagnostics: str, *, expression: str = "", code: str = "invalid", status: int = 422,
                 reason: str = ""):
        self.status, self.code, self.diagnostics = status, code, str(diagnostics)
        self.expression, self.reason = expression, reason
        super().__init__(self.diagnostics)


@dataclass(frozen=True)
class AuthorInfo:
    """A declared author: a person with an RPPS (from a Practitioner or PractitionerRole), or an organisation
    or device known only by name."""

    kind: str  # "practitioner" | "organisation" | "device" | "patient"
    given: str = ""
    family: str = ""
    rpps: str = ""
    role: str = ""
    name: str = ""

    @property
    def label(self) -> str:
        return " ".join(p for p in (self.given, self.family) if p) or self.name

    def as_json(self) -> dict[str, str]:
        return {"given": self.given, "family": self.family, "rpps": self.rpps, "role": self.role}


@dataclass
class PatientRef:
    """Who a resource is about: an INS (OID, number), or one of our Patient ids (`Patient/<uuid>`)."""

    ins_oid: str = ""
    ins_value: str = ""
    local_id: str = ""

    def key(self) -> tuple[str, str, str]:
        return (self.ins_oid, self.ins_value.upper(), self.local_id)


@dataclass
class DocumentInfo:
    """One DocumentReference and its bytes, checked."""

    full_url: str
    unique_id: str
    type_code: str
    type_system: str
    class_code: str
    patient: PatientRef
    date: str
    authors: list[AuthorInfo]
    security_codes: list[str]
    content_type: str
    title: str
    content: bytes
    format_code: str
    facility_type: str
    practice_setting: str
    act_start: dt.datetime | None
    act_end: dt.datetime | None = None
    description: str = ""
    event_codes: list[dict[str, str]] = field(default_factory=list)
    related: list[dict[str, str]] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    replaces: str = ""  # "DocumentReference/<uuid>" or an identifier value (the replaced masterIdentifier)
    archived: bool = False
    binary_full_url: str = ""
    source_patient: dict[str, Any] = field(default_factory=dict)

    @property
    def masked(self) -> bool:
        return "MASQUE_PS" in self.security_codes

    @property
    def invisible_to_holder(self) -> bool:
        return "INVISIBLE_PATIENT" in self.security_codes

    @property
    def hidden_from_representatives(self) -> bool:
        return "INVISIBLE_REPRESENTANTS_LEGAUX" in self.security_codes

    def xds_details(self) -> dict[str, Any]:
        """The XDS facts with no column of their own, for `Document.details["xds"]`."""
        out: dict[str, Any] = {"authors": [a.as_json() for a in self.authors if a.kind == "practitioner"],
                               "related": self.related, "security_labels": self.security_codes,
                               "languages": self.languages}
        organisations = [a.name for a in self.authors if a.kind != "practitioner" and a.name]
        if organisations:
            out["organisations"] = organisations
        if self.description:
            out["comment"] = self.description[:1000]
        if self.act_end:
            out["period_end"] = self.act_end.isoformat()
        if self.source_patient:
            out["source_patient"] = self.source_patient
        return out


@dataclass
class SubmissionInfo:
    """A SubmissionSet List: its uniqueId, source, author and the List as received (for ITI-66)."""

    full_url: str
    unique_id: str
    source_id: str
    title: str
    date: str
    patient: PatientRef
    author_rpps: str
    metadata: dict[str, Any]


@dataclass
class Submission:
    """A whole ITI-65 transaction, in request order (`order`: (resource type, index in its list))."""

    submission_set: SubmissionInfo
    documents: list[DocumentInfo]
    order: list[tuple[str, int]]
    patient: PatientRef
    folders: list[FolderInfo] = field(default_factory=list)  # XDS Folders (mhd_folders), in request order


# --- small readers -----------------------------------------------------------------------------------

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


def _one_of(concept: Any, where: str, allowed: tuple[terminology.Code, ...], value_set: str) -> str:
    """The code of the first coding that belongs to the value set (code and code system), else a refusal."""
    known = {(c.system, c.code) for c in allowed}
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


def _extension(resource: dict[str, Any], url: str) -> dict[str, Any] | None:
    for ext in resource.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == url:
            return ext
    return None


# --- references: patient and authors -----------------------------------------------------------------

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


# --- the DocumentReference ---------------------------------------------------------------------------

def _decode(data: Any, where: str) -> bytes:
    if not isinstance(data, str) or not data:
        raise MhdError(_("Contenu du document absent."), expression=where, code="required")
    try:
        return base64.b64decode(data, validate=True)
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


def security_codes(labels: list[Any], where: str) -> list[str]:
    known = {(c.system, c.code) for c in terminology.confidentiality_codes}
    codes: list[str] = []
    for i, label in enumerate(labels):
        code = _one_of(label, f"{where}[{i}]", tuple(terminology.Code(c, s) for s, c in known), "JDV_J08")
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
    from .terminology import _load

    return set(_load("type_class.json")["classes"]["concepts"])


def _format_codes() -> tuple[terminology.Code, ...]:
    from .terminology import _format_codes as known

    return tuple(known().values())


# --- the bundle --------------------------------------------------------------------------------------

def _submission_set(resource: dict[str, Any], where: str, resolver: Resolver, full_url: str) -> SubmissionInfo:
    resolver = resolver.within(resource)
    if resource.get("status") != "current":
        raise MhdError(_("Un lot de soumission a le statut « current »."), expression=f"{where}.status",
                       code="value")
    identifiers = [i for i in _list(resource.get("identifier"), f"{where}.identifier")
                   if isinstance(i, dict) and isinstance(i.get("value"), str) and i["value"]]
    # MHD: the uniqueId slice has use "usual", the entryUUID slice use "official".
    chosen = next((i for i in identifiers if i.get("use") == "usual"),
                  next((i for i in identifiers if i.get("use") != "official"), None))
    unique_id = master_identifier_value(chosen) if chosen else ""
    if not unique_id or len(unique_id) > MAX_ID:
        raise MhdError(_("Identifiant unique du lot de soumission (identifier uniqueId) obligatoire."),
                       expression=f"{where}.identifier", code="required")
    if "subject" not in resource:
        raise MhdError(_("Patient (subject) du lot obligatoire."), expression=f"{where}.subject", code="required")
    patient = patient_ref(resource["subject"], f"{where}.subject", resolver)
    source_ext = _extension(resource, SOURCE_ID) or next(
        (e for e in resource.get("extension") or [] if isinstance(e, dict)
         and str(e.get("url", "")).endswith("sourceId")), None)
    source_id = ""
    if source_ext and isinstance(source_ext.get("valueIdentifier"), dict):
        source_id = str(source_ext["valueIdentifier"].get("value") or "")[:128]
    author_rpps = ""
    if isinstance(resource.get("source"), dict):
        try:
            author_rpps = author_info(resource["source"], f"{where}.source", resolver).rpps
        except MhdError:
            author_rpps = ""
    metadata = {k: v for k, v in resource.items() if k not in ("entry", "id", "meta", "text")}
    return SubmissionInfo(full_url, unique_id, source_id, _str(resource, "title", f"{where}.title", required=False,
                                                               limit=255),
                          _date(resource, "date", f"{where}.date", required=False), patient, author_rpps, metadata)


def _is_kind(resource: dict[str, Any], kind: str) -> bool:
    return any(system == MHD_LIST_TYPES and code == kind
               for system, code, _d in _codings(resource.get("code") or {"coding": []}, "List.code")) \
        if resource.get("code") else False


def parse_transaction(bundle: Any) -> Submission:
    """Check an ITI-65 Provide Document Bundle and return its facts, or raise `MhdError`."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise MhdError(_("Une ressource Bundle est attendue."), expression="Bundle", code="structure", status=400)
    if bundle.get("type") != "transaction":
        raise MhdError(_("Le Bundle doit être de type « transaction »."), expression="Bundle.type", code="value",
                       status=400)
    entries = _list(bundle.get("entry"), "Bundle.entry")
    resources: dict[str, dict[str, Any]] = {}
    typed: list[tuple[str, str, dict[str, Any], str]] = []  # (type, fullUrl, resource, where)
    puts: set[str] = set()  # fullUrls of Folder Lists sent with PUT (an update)
    for i, entry in enumerate(entries):
        where = f"Bundle.entry[{i}]"
        entry = _obj(entry, where)
        resource = _obj(entry.get("resource"), f"{where}.resource")
        kind = resource.get("resourceType")
        if kind not in ("List", "DocumentReference", "Binary"):
            raise MhdError(_("Ressource non prise en charge dans un lot (List, DocumentReference, Binary)."),
                           expression=f"{where}.resource", code="not-supported")
        request = _obj(entry.get("request"), f"{where}.request")
        if request.get("method") != "POST" and not (request.get("method") == "PUT" and kind == "List"
                                                    and _is_kind(resource, "folder")):  # MHD: a Folder may be updated
            raise MhdError(_("Chaque entrée est une création (request.method = POST)."),
                           expression=f"{where}.request.method", code="not-supported")
        full_url = _str(entry, "fullUrl", f"{where}.fullUrl", limit=300)
        if request.get("method") == "PUT":
            puts.add(full_url)
        if full_url in resources:
            raise MhdError(_("fullUrl en double dans le lot."), expression=f"{where}.fullUrl", code="duplicate",
                           status=400)
        resources[full_url] = resource
        if isinstance(resource.get("id"), str):
            resources.setdefault(f"{kind}/{resource['id']}", resource)
        typed.append((kind, full_url, resource, where))
    resolver = Resolver(resources)
    binaries: dict[str, bytes] = {}
    aliases: dict[str, str] = {}  # what a document may point at -> the Binary entry's fullUrl
    for kind, full_url, resource, where in typed:
        if kind == "Binary":
            binaries[full_url] = _decode(resource.get("data"), f"{where}.resource.data")
            aliases[full_url] = full_url
            if isinstance(resource.get("id"), str):
                binaries.setdefault(f"Binary/{resource['id']}", binaries[full_url])
                aliases.setdefault(f"Binary/{resource['id']}", full_url)
    submission_sets: list[SubmissionInfo] = []
    folders: list[FolderInfo] = []
    documents: list[DocumentInfo] = []
    order: list[tuple[str, int]] = []
    used: set[str] = set()
    for kind, full_url, resource, where in typed:
        if kind == "List":
            if _is_kind(resource, "folder"):
                from .mhd_folders import folder_info

                order.append(("Folder", len(folders)))
                folders.append(folder_info(resource, f"{where}.resource", resolver, full_url,
                                           "PUT" if full_url in puts else "POST"))
                continue
            if not _is_kind(resource, "submissionset"):
                raise MhdError(_("Une List doit être un lot de soumission (code submissionset)."),
                               expression=f"{where}.resource.code", code="code-invalid")
            order.append(("List", len(submission_sets)))
            submission_sets.append(_submission_set(resource, f"{where}.resource", resolver, full_url))
        elif kind == "DocumentReference":
            order.append(("DocumentReference", len(documents)))
            info = document_info(resource, f"{where}.resource", resolver, binaries=binaries, full_url=full_url)
            info.binary_full_url = aliases[info.binary_full_url]
            if info.binary_full_url in used:
                raise MhdError(_("Deux documents désignent la même ressource Binary."), code="business-rule",
                               expression=f"{where}.resource.content[0].attachment.url")
            used.add(info.binary_full_url)
            documents.append(info)
        else:
            order.append(("Binary", -1))
    if len(submission_sets) != 1:
        raise MhdError(_("Le lot doit contenir exactement un lot de soumission (List submissionset)."),
                       expression="Bundle.entry", code="required")
    if not documents:
        raise MhdError(_("Le lot ne contient aucun document."), expression="Bundle.entry", code="required")
    if any(kind == "Binary" and url not in used for kind, url, _r, _w in typed):
        raise MhdError(_("Une ressource Binary n'est référencée par aucun document."), expression="Bundle.entry",
                       code="business-rule")
    ids = [d.unique_id for d in documents]
    if len(set(ids)) != len(ids):
        raise MhdError(_("Deux documents du lot ont le même identifiant unique."), code="duplicate",
                       expression="DocumentReference.masterIdentifier")
    patient = submission_sets[0].patient
    for document in documents:
        if not _same_patient(patient, document.patient):
            raise MhdError(_("Les documents et le lot de soumission doivent concerner le même patient."),
                           expression="DocumentReference.subject", code="business-rule", reason="patient_mismatch")
    if folders:
        from .mhd_folders import link

        for folder in folders:
            if not _same_patient(patient, folder.patient):
                raise MhdError(_("Les classeurs et le lot de soumission doivent concerner le même patient."),
                               expression="List.subject", code="business-rule", reason="patient_mismatch")
        link(folders, documents, resources)
    submission = Submission(submission_sets[0], documents, order, patient, folders)
    owner = {d.binary_full_url: j for j, d in enumerate(documents)}
    binary_urls = iter([u for k, u, _r, _w in typed if k == "Binary"])
    for position, (kind, _index) in enumerate(order):
        if kind == "Binary":
            order[position] = ("Binary", owner[next(binary_urls)])
    return submission


def _same_patient(a: PatientRef, b: PatientRef) -> bool:
    """Named the same way and the same (an INS, or one of our Patient ids): the bundle must not mix patients."""
    return a.key() == b.key()


def parse_simplified(resource: Any) -> DocumentInfo:
    """Check an ITI-105 Simplified Publish DocumentReference (the document inline)."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "DocumentReference":
        raise MhdError(_("Une ressource DocumentReference est attendue."), expression="DocumentReference",
                       code="structure", status=400)
    return document_info(resource, "DocumentReference", Resolver({}), binaries=None)
