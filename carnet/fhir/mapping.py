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
    return uri.removeprefix("urn:oid:")


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


def security_labels(document: Document) -> list[dict[str, Any]]:
    """The DMP confidentiality codes (JDV_J08) for the flags set, else Normal."""
    flags = []
    if document.masked_to_professionals:
        flags.append("MASQUE_PS")
    if document.invisible_to_holder and (
        document.invisible_to_holder_until is None or document.invisible_to_holder_until > timezone.localdate()
    ):
        flags.append("INVISIBLE_PATIENT")
    if document.hidden_from_representatives:
        flags.append("INVISIBLE_REPRESENTANTS_LEGAUX")
    if not flags:
        return [{"coding": [coding(CONFIDENTIALITY_V3, "N", "normal")]}]
    labels = []
    for flag in flags:
        known = terminology.confidentiality(flag)
        labels.append({"coding": [coding(CONFIDENTIALITY_CISIS, flag, known.label if known else None)]})
    return labels


def _master_identifier(unique_id: str) -> dict[str, str] | None:
    if not unique_id:
        return None
    if OID.match(unique_id):
        return {"system": "urn:ietf:rfc:3986", "value": f"urn:oid:{unique_id}"}
    return {"value": unique_id}


def document_reference(document: Document) -> dict[str, Any]:
    """A document's metadata (never its content); `relatesTo` names the version it replaces."""
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
    if document.author_label:
        resource["author"] = [{"display": document.author_label}]
    if document.title:
        resource["description"] = document.title
    if document.replaces is not None:
        resource["relatesTo"] = [{"code": "replaces",
                                  "target": {"reference": f"DocumentReference/{document.replaces.uuid}"}}]
    if document.act_date:
        resource["context"] = {"period": {"start": instant(document.act_date)}}
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
