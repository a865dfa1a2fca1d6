"""PDSm (IHE MHD, ANS profile) resources for the write tests, translated by hand from the published FHIR Shorthand
examples in /work/shared/samples/pdsm/ (ansforge/IG-fhir-partage-de-documents-de-sante, input/fsh/Examples,
commit 96bc12cfd830a016409e26c58709bb0eeaa5d921):

- `published_document_reference()`: DR_comprehensive.fsh, element by element;
- `published_simplified()`: DR_simplified.fsh;
- `published_submission_set()`: List_lotDeSoumission.fsh (identifier slices: `uniqueId` carries use "usual" and
  `entryUUID` use "official", as the IHE MHD SubmissionSet profile fixes them; the authorOrg, designationType and
  intendedRecipient extensions are left out: they carry nothing Carnet stores);
- `practitioner()`, `practitioner_role()`, `organization()`: ExemplesSupport.fsh (practitioner-example,
  practitionerrole-example, org-example), kept to the elements the profile reads;
- the Binary `6789` of ExemplesSupport.fsh ("Hello World" as application/pdf).

`document_reference()` / `bundle()` build valid submissions from the same shapes, with real CI-SIS CDA documents
from /work/shared/samples/cda/ as content. `WriteClient` sends them and checks every FHIR answer with the R4B models.
"""

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from .conftest import FHIR_JSON, assert_valid_fhir

SAMPLES = Path("/work/shared/samples")
# BIO-TROD_2024.01_Cystite.xml: 30,899 bytes, type 96173-0, test INS 279035121518989 (OID 1.2.250.1.213.1.4.10).
TROD_CDA = SAMPLES / "cda/ci-sis-3.0/BIO-TROD_2024.01_Cystite.xml"
# CARD-F-PRC-PPV_2022.01.xml: type 34133-9 (as DR_comprehensive.fsh), same test INS.
CARD_CDA = SAMPLES / "cda/ci-sis-3.0/CARD-F-PRC-PPV_2022.01.xml"
SAMPLE_INS = "279035121518989"
TEST_INS_OID = "1.2.250.1.213.1.4.10"
MOS = "https://mos.esante.gouv.fr/NOS/{0}/FHIR/{1}"
CLASS = MOS.format("TRE_A03-ClasseDocument", "TRE-A03-ClasseDocument")
VISIBILITY = MOS.format("TRE_A07-StatusVisibiliteDocument", "TRE-A07-StatusVisibiliteDocument")
IHE_FORMAT = MOS.format("TRE_A11-IheFormatCode", "TRE-A11-IheFormatCode")
FORMAT_A06 = MOS.format("TRE_A06-FormatCodeComplementaire", "TRE-A06-FormatCodeComplementaire")
SECTOR = MOS.format("TRE_R02-SecteurActivite", "TRE-R02-SecteurActivite")
SETTING = MOS.format("TRE_A01-CadreExercice", "TRE-A01-CadreExercice")
V3_CONF = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
MHD_LIST_TYPES = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"
IS_ARCHIVED = "http://esante.gouv.fr/cisis/fhir/StructureDefinition/PDSm_isArchived"
SAMPLE_RPPS = "10101201234"  # practitioner-example's RPPS (IDNPS 810101201234)
HELLO_WORLD = base64.b64decode("SGVsbG8gV29ybGQ=")  # Binary 6789 of ExemplesSupport.fsh


def sha1_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()


def practitioner(rpps: str = SAMPLE_RPPS, family: str = "Leclerc", given: str = "Sophie") -> dict[str, Any]:
    return {
        "resourceType": "Practitioner", "id": "practitioner-example",
        "identifier": [
            {"use": "official", "system": "urn:oid:1.2.250.1.71.4.2.1", "value": f"8{rpps}"},
            {"use": "official", "system": "https://rpps.esante.gouv.fr", "value": rpps},
        ],
        "active": True,
        "name": [{"text": f"{family} {given}", "family": family, "given": [given], "prefix": ["MME"]}],
    }


def practitioner_role() -> dict[str, Any]:
    return {
        "resourceType": "PractitionerRole", "id": "practitionerrole-example",
        "identifier": [{"use": "official", "system": "https://rpps.esante.gouv.fr", "value": "1011848351"}],
        "active": True,
        "practitioner": {"reference": "#practitioner-example"},
        "organization": {"reference": "#org-example"},
        "code": [{"coding": [{"system": MOS.format("TRE_R21-Fonction", "TRE-R21-Fonction"), "code": "FON-05"}]}],
    }


def organization() -> dict[str, Any]:
    return {
        "resourceType": "Organization", "id": "org-example",
        "identifier": [{"use": "official", "system": "urn:oid:1.2.250.1.71.4.2.2", "value": "2264403106"}],
        "active": True, "name": "HOPITAL INTERCOMMUNAL DE LA PRESQU'ILE G",
    }


def published_document_reference() -> dict[str, Any]:
    """DR_comprehensive.fsh as published (references to the other example instances kept as `Type/id`)."""
    return {
        "resourceType": "DocumentReference",
        "meta": {"versionId": "1"},
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:12345678-abcd-1234-abcd-1234567890ab"},
        "contained": [practitioner()],
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "34133-9",
                             "display": "Résumé de sortie d’hospitalisation"}]},
        "category": [{"coding": [{"system": CLASS, "code": "10", "display": "Compte-rendu"}]}],
        "subject": {"reference": "Patient/fr-patient-123"},
        "date": "2025-04-29T12:00:00+01:00",
        "custodian": {"reference": "Organization/org-example"},
        "author": [{"reference": "PractitionerRole/practitionerrole-example"}],
        "authenticator": {"reference": "Organization/org-example"},
        "description": "Compte rendu d’hospitalisation suite à une chirurgie.",
        "securityLabel": [{"coding": [{"system": VISIBILITY, "code": "N", "display": "Normal"}]}],
        "content": [{
            "attachment": {"contentType": "application/pdf", "language": "fr-FR", "size": 345678,
                           "hash": "2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "title": "CR Hospitalisation", "url": "Binary/6789",
                           "creation": "2025-04-25T09:30:00+01:00"},
            "format": {"system": IHE_FORMAT, "code": "urn:ihe:lab:xd-lab:2008",
                       "display": "Compte rendu structuré d'examens de biologie médicale"},
        }],
        "context": {
            "period": {"start": "2025-04-20T08:00:00+01:00", "end": "2025-04-25T08:00:00+01:00"},
            "facilityType": {"coding": [{"system": SECTOR, "code": "SA01",
                                         "display": "Etablissement public de santé"}]},
            "practiceSetting": {"coding": [{"system": SETTING, "code": "ETABLISSEMENT",
                                            "display": "Etablissement de santé"}]},
            "sourcePatientInfo": {"reference": "Patient/fr-patient-123"},
        },
    }


def published_simplified() -> dict[str, Any]:
    """DR_simplified.fsh as published."""
    return {
        "resourceType": "DocumentReference",
        "meta": {"versionId": "1"},
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:abcd-efgh-ijkl-mnop"},
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "15507-7", "display": "Note d’évolution"}]},
        "category": [{"coding": [{"system": CLASS, "code": "10", "display": "Compte rendu"}]}],
        "subject": {"reference": "Patient/fr-patient-123"},
        "date": "2025-04-30T09:30:00+01:00",
        "custodian": {"reference": "Organization/org-example"},
        "author": [{"reference": "PractitionerRole/practitionerrole-example"}],
        "authenticator": {"reference": "PractitionerRole/practitionerrole-example"},
        "description": "Note d'évolution suite à une consultation de suivi.",
        "content": [{
            "attachment": {"contentType": "application/pdf", "language": "fr-FR", "data": "SGVsbG8gV29ybGQ=",
                           "title": "Note de suivi du 30 avril 2025", "creation": "2025-04-29T17:00:00+01:00",
                           "size": 250000, "hash": "2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
            "format": {"system": IHE_FORMAT, "code": "urn:ihe:iti:xds-sd:pdf:2008",
                       "display": "Document à corps non structuré en Pdf/A-1"},
        }],
        "context": {
            "facilityType": {"coding": [{"system": SECTOR, "code": "SA05", "display": "Centre de santé"}]},
            "practiceSetting": {"coding": [{"system": SETTING, "code": "ETABLISSEMENT",
                                            "display": "Etablissement de santé"}]},
        },
    }


def published_submission_set() -> dict[str, Any]:
    """List_lotDeSoumission.fsh as published (see the module docstring for what is left out)."""
    return {
        "resourceType": "List",
        "contained": [practitioner_role(), organization(), practitioner()],
        "extension": [
            {"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId",
             "valueIdentifier": {"system": "urn:oid:1.2.250.1.213.1.1.1", "value": "SRC-01"}},
            {"url": IS_ARCHIVED, "valueBoolean": False},
        ],
        "identifier": [
            {"use": "usual", "system": "urn:ietf:rfc:3986", "value": "urn:uuid:11111111-aaaa-bbbb-cccc-222222222222"},
            {"use": "official", "system": "urn:ietf:rfc:3986",
             "value": "urn:uuid:33333333-dddd-eeee-ffff-444444444444"},
        ],
        "status": "current",
        "mode": "working",
        "title": "Dossier de suivi post-opératoire",
        "code": {"coding": [{"system": MHD_LIST_TYPES, "code": "submissionset", "display": "Submission Set"}]},
        "date": "2025-04-30T14:00:00+01:00",
        "subject": {"reference": "Patient/fr-patient-123"},
        "source": {"reference": "#practitionerrole-example"},
        "note": [{"text": "Suivi post-chirurgical – documents cliniques regroupés."}],
        "entry": [{"item": {"reference": "DocumentReference/exemple-pdsm-documentreference"}}],
    }


def subject(ins: str = SAMPLE_INS, oid: str = TEST_INS_OID) -> dict[str, Any]:
    """A logical reference by INS, as PDSm software sends the patient."""
    return {"identifier": {"system": f"urn:oid:{oid}", "value": ins}}


def document_reference(content: bytes, *, unique_id: str, binary_url: str = "urn:uuid:binary-1",
                       ins: str = SAMPLE_INS, oid: str = TEST_INS_OID, type_code: str = "96173-0",
                       class_code: str = "52", content_type: str = "text/xml", rpps: str = SAMPLE_RPPS,
                       security: tuple[str, ...] = ("N",), format_code: str = "urn:asipSante:modelesHorsProfils:2011",
                       inline: bool = False, replaces: str = "") -> dict[str, Any]:
    """The published comprehensive example made valid: the patient by INS, the author contained, the real
    content's size and SHA-1, the chosen type/class/format, and a SubmissionSet-free shape for ITI-105."""
    resource = published_document_reference()
    resource["masterIdentifier"] = {"system": "urn:ietf:rfc:3986", "value": unique_id}
    resource["contained"] = [practitioner(rpps), practitioner_role(), organization()]
    resource["type"] = {"coding": [{"system": "http://loinc.org", "code": type_code}]}
    resource["category"] = [{"coding": [{"system": CLASS, "code": class_code}]}]
    resource["subject"] = subject(ins, oid)
    resource["custodian"] = {"reference": "#org-example"}
    resource["author"] = [{"reference": "#practitionerrole-example"}]
    resource["authenticator"] = {"reference": "#org-example"}
    labels = []
    for code in security:
        system = V3_CONF if code in ("N", "R", "V") else VISIBILITY
        labels.append({"coding": [{"system": system, "code": code}]})
    resource["securityLabel"] = labels
    attachment = resource["content"][0]["attachment"]
    attachment.update({"contentType": content_type, "size": len(content), "hash": sha1_b64(content)})
    if inline:
        attachment.pop("url")
        attachment["data"] = base64.b64encode(content).decode()
    else:
        attachment["url"] = binary_url
    system = FORMAT_A06 if not format_code.startswith("urn:ihe:") else IHE_FORMAT
    resource["content"][0]["format"] = {"system": system, "code": format_code}
    resource["context"]["sourcePatientInfo"] = subject(ins, oid)
    if replaces:
        resource["relatesTo"] = [{"code": "replaces", "target": {"reference": replaces}}]
    return resource


def submission_set(*, unique_id: str, ins: str = SAMPLE_INS, oid: str = TEST_INS_OID,
                   items: tuple[str, ...] = ("urn:uuid:doc-1",)) -> dict[str, Any]:
    resource = published_submission_set()
    resource["identifier"][0]["value"] = unique_id
    resource["subject"] = subject(ins, oid)
    resource["entry"] = [{"item": {"reference": item}} for item in items]
    return resource


def bundle(documents: list[tuple[dict[str, Any], bytes]], *, set_id: str = "urn:uuid:list-1",
           unique_id: str = "urn:oid:1.2.250.1.999.1", ins: str = SAMPLE_INS, oid: str = TEST_INS_OID) -> dict:
    """A transaction: the SubmissionSet, then each DocumentReference and its Binary (fullUrls urn:uuid:doc-N and
    the `binary_url` of each DocumentReference)."""
    doc_urls = [f"urn:uuid:doc-{i + 1}" for i in range(len(documents))]
    entries: list[dict[str, Any]] = [{
        "fullUrl": set_id, "resource": submission_set(unique_id=unique_id, ins=ins, oid=oid, items=tuple(doc_urls)),
        "request": {"method": "POST", "url": "List"}}]
    for url, (reference, content) in zip(doc_urls, documents, strict=True):
        entries.append({"fullUrl": url, "resource": reference, "request": {"method": "POST",
                                                                           "url": "DocumentReference"}})
        entries.append({"fullUrl": reference["content"][0]["attachment"]["url"],
                        "resource": {"resourceType": "Binary", "contentType": reference["content"][0]["attachment"][
                            "contentType"], "data": base64.b64encode(content).decode()},
                        "request": {"method": "POST", "url": "Binary"}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def cda_bundle(path: Path = TROD_CDA, *, unique_id: str = "1.2.250.1.999.1.1", set_unique_id: str =
               "urn:oid:1.2.250.1.999.1", ins: str = SAMPLE_INS, oid: str = TEST_INS_OID, **kwargs) -> dict[str, Any]:
    content = path.read_bytes()
    return bundle([(document_reference(content, unique_id=unique_id, binary_url="urn:uuid:binary-1", ins=ins,
                                       oid=oid, **kwargs), content)], unique_id=set_unique_id, ins=ins, oid=oid)


def validate(data: dict[str, Any]) -> dict[str, Any]:
    """R4B model validation for any resource; searchsets and OperationOutcomes get conftest's checks too."""
    if data.get("resourceType") == "Bundle" and data.get("type") != "searchset":
        get_fhir_model_class("Bundle").model_validate(data)
        return data
    return assert_valid_fhir(data)


class WriteClient:
    """A CSRF-enforcing client with a bearer token that sends JSON bodies with any method."""

    def __init__(self, token: str):
        self.client = Client(enforce_csrf_checks=True)
        self.token = token

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": FHIR_JSON, **(extra or {})}

    def send(self, method: str, path: str, body: Any = None, *, content_type: str = FHIR_JSON,
             headers: dict[str, str] | None = None, raw: bytes | None = None, **extra: str):
        data = raw if raw is not None else json.dumps(copy.deepcopy(body)).encode()
        call = getattr(self.client, method.lower())
        response = call(path, data=data, content_type=content_type, headers=self._headers(headers), **extra)
        if response["Content-Type"].startswith(FHIR_JSON):
            response.data = validate(json.loads(response.content))
        return response

    def post(self, path: str, body: Any, **kwargs):
        return self.send("POST", path, body, **kwargs)

    def patch(self, path: str, operations: Any, **kwargs):
        kwargs.setdefault("content_type", "application/json-patch+json")
        return self.send("PATCH", path, operations, **kwargs)

    def get(self, path: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None):
        response = self.client.get(path, params or {}, headers=self._headers(headers))
        if response["Content-Type"].startswith(FHIR_JSON):
            response.data = validate(json.loads(response.content))
        return response


def reason(response) -> str:
    """The reason code of a refusal (OperationOutcome.issue.details.coding), '' when none."""
    issue = response.data["issue"][0]
    return next((c["code"] for c in issue.get("details", {}).get("coding", [])), "")
