"""Our models as FHIR R4 resources: Patient, DocumentReference, Binary.

Choices a client should know (also stated in the CapabilityStatement):
- ids are our public UUIDs; a document's Binary has the same id as its DocumentReference;
- DocumentReference.date is when the document was filed in the space (`created_at`); the date of the
  act it reports is `context.period.start`;
- `attachment.hash` is left out: FHIR R4 wants SHA-1 and we keep SHA-256 only (computing SHA-1 would
  mean decrypting every document on every search). The SHA-256 is in the extension `SHA256_EXTENSION`
  as lowercase hex, for a client to check the bytes it downloads from `Binary/<id>`.
"""

import base64
import re
from typing import Any

from django.utils import timezone

from carnet.identity.enums import Sex, SpaceStatus
from carnet.identity.models import INS_OID, Person
from carnet.interop import terminology
from carnet.record.models import Document

from .params import instant

LOINC_URI = "http://loinc.org"
CLASS_SYSTEM = f"urn:oid:{terminology.CLASS_SYSTEM}"
CONFIDENTIALITY_CISIS = "urn:oid:1.2.250.1.213.1.1.4.13"
CONFIDENTIALITY_V3 = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
INS_SYSTEM = f"urn:oid:{INS_OID}"
FR_IDENTIFIER_TYPE = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
CARNET = "https://carnet.sante.fr/fhir/"
CATEGORY_SYSTEM = CARNET + "CodeSystem/document-category"  # the holder's categories (PatientCategory)
SHA256_EXTENSION = CARNET + "StructureDefinition/attachment-sha256"
# The PDSm extension that tells archived documents and submission sets from active ones (SearchParameter
# PDSm-isArchived reads this URL).
IS_ARCHIVED_EXTENSION = "http://esante.gouv.fr/cisis/fhir/StructureDefinition/PDSm_isArchived"
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
RFC3986 = "urn:ietf:rfc:3986"
# The same code systems under their MOS (NOS) FHIR URLs, as PDSm examples write them: accepted in searches.
MOS_SYSTEMS: dict[str, str] = {
    "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument": "1.2.250.1.213.1.1.4.1",
    "https://mos.esante.gouv.fr/NOS/TRE_A01-CadreExercice/FHIR/TRE-A01-CadreExercice": "1.2.250.1.213.1.1.4.9",
    "https://mos.esante.gouv.fr/NOS/TRE_A00-ProducteurDocNonPS/FHIR/TRE-A00-ProducteurDocNonPS":
        "1.2.250.1.213.1.1.4.6",
    "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite": "1.2.250.1.71.4.2.4",
    "https://mos.esante.gouv.fr/NOS/TRE_A07-StatusVisibiliteDocument/FHIR/TRE-A07-StatusVisibiliteDocument":
        "1.2.250.1.213.1.1.4.13",
    "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire":
        terminology.TYPE_DOC_COMPLEMENTAIRE,
    CONFIDENTIALITY_V3: "2.16.840.1.113883.5.25",
}
OID = re.compile(r"^[0-2](\.(0|[1-9]\d*))+$")
GENDERS: dict[str, str] = {Sex.MALE: "male", Sex.FEMALE: "female"}


def system_uri(system: str) -> str:
    """A code system as FHIR names it: LOINC by its URL, any other OID as `urn:oid:`, a URI unchanged."""
    if system == terminology.LOINC:
        return LOINC_URI
    return f"urn:oid:{system}" if OID.match(system) else system


def system_oid(uri: str) -> str:
    """The reverse of `system_uri`, for matching a searched system against our stored OIDs."""
    if uri == LOINC_URI:
        return terminology.LOINC
    return MOS_SYSTEMS.get(uri) or uri.removeprefix("urn:oid:")


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = str(display)
    return out


def meta(updated_at, version: int | None = None) -> dict[str, str]:
    out = {"lastUpdated": instant(updated_at)}
    if version is not None:
        out["versionId"] = str(version)
    return out


def patient(person: Person) -> dict[str, Any]:
    """The holder as FHIR knows them, with the INS (matricule INS = the NIR) as official identifier."""
    return {
        "resourceType": "Patient",
        "id": str(person.uuid),
        "meta": meta(person.updated_at),
        "identifier": [{
            "use": "official",
            "type": {"coding": [coding(FR_IDENTIFIER_TYPE, "INS-NIR")]},
            "system": INS_SYSTEM,
            "value": person.ins,
        }],
        "active": person.status == SpaceStatus.ACTIVE,
        "name": [{"use": "official", "family": person.family_name, "given": person.given_names.split()}],
        "gender": GENDERS.get(person.sex, "unknown"),
        "birthDate": person.birth_date.isoformat(),
    }


FLAG_LABELS = ("MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX")


def xds(document: Document) -> dict[str, Any]:
    """The XDS metadata an IHE MHD submission brought that has no column (authors, related ids, labels)."""
    found = (document.details or {}).get("xds")
    return found if isinstance(found, dict) else {}


def label_codes(document: Document) -> list[tuple[str, str]]:
    """The document's confidentiality as (system URI, code): the DMP flags (JDV_J08, from the columns, which the
    masking actions keep current), then the HL7 confidentiality level the sender gave (R, V), else Normal."""
    labels = []
    if document.masked_to_professionals:
        labels.append((CONFIDENTIALITY_CISIS, "MASQUE_PS"))
    if document.invisible_to_holder and (
        document.invisible_to_holder_until is None or document.invisible_to_holder_until > timezone.localdate()
    ):
        labels.append((CONFIDENTIALITY_CISIS, "INVISIBLE_PATIENT"))
    if document.hidden_from_representatives:
        labels.append((CONFIDENTIALITY_CISIS, "INVISIBLE_REPRESENTANTS_LEGAUX"))
    for code in xds(document).get("security_labels") or []:
        if isinstance(code, str) and code not in FLAG_LABELS and (CONFIDENTIALITY_V3, code) not in labels:
            labels.append((CONFIDENTIALITY_V3, code))
    if not labels:
        labels.append((CONFIDENTIALITY_V3, "N"))
    return labels


def patient_status(person: Person) -> dict[str, Any]:
    """The answer to a space existence check: which person (id, INS) and whether the space is open, without the
    identity traits the caller did not give (sex is in the INS itself)."""
    full = patient(person)
    return {key: full[key] for key in ("resourceType", "id", "meta", "identifier", "active", "gender")}


def security_labels(document: Document) -> list[dict[str, Any]]:
    """The DMP confidentiality codes (JDV_J08) for the flags set and the sender's level, else Normal."""
    out = []
    for system, code in label_codes(document):
        known = terminology.confidentiality(code)
        label = known.label if known else None
        if system == CONFIDENTIALITY_V3 and code == "N":
            label = "normal"
        out.append({"coding": [coding(system, code, label)]})
    return out


def _master_identifier(unique_id: str) -> dict[str, str] | None:
    """XDS uniqueId as masterIdentifier: an OID or a UUID as an RFC 3986 URI, anything else as it is."""
    if not unique_id:
        return None
    if OID.match(unique_id):
        return {"system": RFC3986, "value": f"urn:oid:{unique_id}"}
    if unique_id.startswith(("urn:oid:", "urn:uuid:")):
        return {"system": RFC3986, "value": unique_id}
    return {"value": unique_id}


def authors(document: Document) -> list[dict[str, str]]:
    """Who wrote it, as {given, family, rpps, role}: the MHD submission's authors, else the CDA header's, else
    the label the document was filed with."""
    found = xds(document).get("authors") or ((document.details or {}).get("cda") or {}).get("authors") or []
    people = [a for a in found if isinstance(a, dict)]
    if people:
        return [{"given": str(a.get("given") or ""), "family": str(a.get("family") or ""),
                 "rpps": str(a.get("rpps") or ""), "role": str(a.get("role") or ""),
                 "name": str(a.get("name") or "")} for a in people]
    if document.author_label or document.author_identifier:
        return [{"given": "", "family": "", "rpps": document.author_identifier, "role": "",
                 "name": document.author_label}]
    return []


def _author_reference(author: dict[str, str]) -> dict[str, Any]:
    display = " ".join(p for p in (author["given"], author["family"]) if p) or author["name"]
    out: dict[str, Any] = {}
    if author["rpps"]:
        out["identifier"] = {"system": RPPS_SYSTEM, "value": author["rpps"]}
    if display:
        out["display"] = display
    return out


def related_identifiers(document: Document) -> list[tuple[str, str]]:
    """XDS referenceIdList (context.related) as (system, value)."""
    return [(str(r.get("system") or ""), str(r.get("value") or "")) for r in xds(document).get("related") or []
            if isinstance(r, dict) and r.get("value")]


def _code_of(codes: tuple[terminology.Code, ...], code: str) -> dict[str, str]:
    found = next((c for c in codes if c.code == code), None)
    if found is None:
        return {"code": code}
    return coding(system_uri(found.system or ""), code, found.label)


def document_reference(document: Document) -> dict[str, Any]:
    """A document's metadata (never its content), with every fact ITI-67 searches on: what is searchable is
    shown. `relatesTo` names the version it replaces; is-archived is the PDSm extension."""
    known_type = terminology.document_type(document.type_code)
    category: list[dict[str, Any]] = []
    if document.class_code:
        found = terminology.class_for_type(document.type_code)
        label = found.label if found and found.code == document.class_code else None
        category.append({"coding": [coding(CLASS_SYSTEM, document.class_code, label)]})
    if document.category:
        found_category = dict(terminology.PatientCategory.choices).get(document.category)
        category_label = str(found_category) if found_category else None
        category.append({"coding": [coding(CATEGORY_SYSTEM, document.category, category_label)]})
    attachment: dict[str, Any] = {
        "contentType": document.mime_type,
        "url": f"Binary/{document.uuid}",
        "size": document.size,
        "creation": instant(document.created_at),
        "extension": [{"url": SHA256_EXTENSION, "valueString": document.sha256}],
    }
    if document.title:
        attachment["title"] = document.title
    content: dict[str, Any] = {"attachment": attachment}
    format_code = terminology.format_code(document.format_code) if document.format_code else None
    if format_code is not None:
        content["format"] = coding(system_uri(format_code.system or ""), format_code.code, format_code.label)
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": str(document.uuid),
        "meta": meta(document.updated_at, document.version),
        "extension": [{"url": IS_ARCHIVED_EXTENSION, "valueBoolean": bool(document.archived)}],
        "status": document.status,
        "type": {"coding": [coding(system_uri(document.type_system), document.type_code,
                                   known_type.label if known_type else None)]},
        "subject": {"reference": f"Patient/{document.person.uuid}"},
        "date": instant(document.created_at),
        "securityLabel": security_labels(document),
        "content": [content],
    }
    master = _master_identifier(document.unique_id)
    if master:
        resource["masterIdentifier"] = master
    if category:
        resource["category"] = category
    written_by = [ref for ref in (_author_reference(a) for a in authors(document)) if ref]
    if written_by:
        resource["author"] = written_by
    if document.title:
        resource["description"] = document.title
    if document.replaces is not None:
        resource["relatesTo"] = [{"code": "replaces",
                                  "target": {"reference": f"DocumentReference/{document.replaces.uuid}"}}]
    context: dict[str, Any] = {}
    if document.act_date:
        context["period"] = {"start": instant(document.act_date)}
    events = [e for e in document.event_codes or [] if isinstance(e, dict) and e.get("code")]
    if events:
        context["event"] = [{"coding": [coding(system_uri(str(e.get("system") or "")), str(e["code"]),
                                               e.get("display"))]} for e in events]
    if document.facility_type_code:
        context["facilityType"] = {"coding": [_code_of(terminology.facility_types, document.facility_type_code)]}
    if document.practice_setting_code:
        context["practiceSetting"] = {"coding": [_code_of(terminology.practice_settings,
                                                          document.practice_setting_code)]}
    related = related_identifiers(document)
    if related:
        context["related"] = [{"identifier": {"system": system, "value": value} if system else {"value": value}}
                              for system, value in related]
    if context:
        resource["context"] = context
    return resource


def binary(document: Document, content: bytes) -> dict[str, Any]:
    """The bytes as a Binary resource (base64), for clients that asked for FHIR JSON."""
    return {
        "resourceType": "Binary",
        "id": str(document.uuid),
        "meta": meta(document.updated_at, document.version),
        "contentType": document.mime_type,
        "securityContext": {"reference": f"DocumentReference/{document.uuid}"},
        "data": base64.b64encode(content).decode("ascii"),
    }
