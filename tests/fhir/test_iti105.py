"""ITI-105 Simplified Publish (IHE MHD, ANS PDSm profile): `POST /fhir/DocumentReference` with the document inline.

Material: DR_simplified.fsh and ExemplesSupport.fsh of /work/shared/samples/pdsm/ (translated in pdsm_bundles.py),
the CI-SIS 3.0 CDA BIO-TROD_2024.01_Cystite.xml (test INS 279035121518989) from /work/shared/samples/cda/ci-sis-3.0/.
"""

import base64

import pytest

from carnet.record.models import Document
from carnet.sharing.models import AccessEvent, Block

from . import pdsm_bundles as pdsm
from .conftest import make_pdf
from .pdsm_bundles import SAMPLE_RPPS, reason
from .test_iti65 import stored

pytestmark = pytest.mark.django_db


def inline_cda(**kwargs) -> dict:
    return pdsm.document_reference(pdsm.TROD_CDA.read_bytes(), unique_id="1.2.250.1.999.9.1", inline=True, **kwargs)


def test_an_inline_cda_is_published(software, holder, author):
    response = software.post("/fhir/DocumentReference", inline_cda())
    assert response.status_code == 201, response.data
    document = Document.objects.get(person=holder)
    assert response.data["id"] == str(document.uuid) and response.data["meta"]["versionId"] == "1"
    assert response["Location"].endswith(f"/fhir/DocumentReference/{document.uuid}/_history/1")
    assert response.data["extension"] == [{"url": pdsm.IS_ARCHIVED, "valueBoolean": False}]
    assert document.size == pdsm.TROD_CDA.stat().st_size and document.submission_set is None
    assert (document.type_code, document.facility_type_code, document.author_identifier) == (
        "96173-0", "SA01", SAMPLE_RPPS)
    assert AccessEvent.objects.filter(person=holder, professional=author, action="document.add").count() == 1


def test_republishing_is_idempotent_and_a_reused_id_with_other_bytes_a_conflict(software, holder):
    first = software.post("/fhir/DocumentReference", inline_cda())
    before = stored()
    again = software.post("/fhir/DocumentReference", inline_cda())
    assert again.status_code == 200 and again.data["id"] == first.data["id"]
    assert stored() == before
    other = pdsm.document_reference(pdsm.CARD_CDA.read_bytes(), unique_id="1.2.250.1.999.9.1", inline=True,
                                    type_code="34133-9", class_code="10")
    conflict = software.post("/fhir/DocumentReference", other)
    assert conflict.status_code == 409 and reason(conflict) == "duplicate_unique_id"
    assert stored() == before


def test_bad_base64_is_a_400_with_nothing_stored(software, holder):
    body = inline_cda()
    body["content"][0]["attachment"]["data"] = "not base64!"
    before = stored()
    response = software.post("/fhir/DocumentReference", body)
    assert response.status_code == 400 and "data" in response.data["issue"][0]["expression"][0]
    assert stored() == before


def test_a_blocked_author_cannot_publish(software, holder, author):
    Block.objects.create(person=holder, professional=author)
    before = stored()
    response = software.post("/fhir/DocumentReference", inline_cda())
    assert response.status_code == 403 and reason(response) == "blocked"
    assert stored() == before


def test_other_resource_types_cannot_be_created(software, holder):
    response = software.post("/fhir/Patient", {"resourceType": "Patient"})
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    patched = software.patch(f"/fhir/Patient/{software.token[:8]}", [])
    assert patched.status_code == 405 and response.data["resourceType"] == "OperationOutcome"


def test_the_published_simplified_example_is_refused_for_each_of_its_defects_then_accepted(software, holder):
    """DR_simplified.fsh as published cannot be filed; each defect is refused with its reason, in this order:
    1. the author references `practitionerrole-example`, not contained;
    2. no securityLabel (Carnet requires the confidentiality level of JDV_J08 on every document, as the DMP does);
    3. size (250000) and hash (SHA-1 of an empty file) are not those of the inline data;
    4. no context.period.start (required by the PDSm DocumentReference profile);
    5. the patient (fr-patient-123) carries no INS;
    6. the data ("Hello World") is not the PDF its contentType declares.
    With a real PDF it is accepted (its uniqueId `urn:uuid:abcd-efgh-ijkl-mnop` is kept as sent)."""
    resource = pdsm.published_simplified()

    def send(status: int):
        pdsm.validate(resource)
        before = stored()
        response = software.post("/fhir/DocumentReference", resource)
        assert response.status_code == status, response.data
        if status >= 400:
            assert stored() == before
        return response

    assert reason(send(422)) == "unknown_author"
    resource["contained"] = [pdsm.practitioner(), pdsm.practitioner_role(), pdsm.organization()]
    resource["author"] = [{"reference": "#practitionerrole-example"}]
    assert send(422).data["issue"][0]["expression"] == ["DocumentReference.securityLabel"]
    resource["securityLabel"] = [{"coding": [{"system": pdsm.V3_CONF, "code": "N"}]}]
    assert reason(send(422)) == "size_mismatch"
    attachment = resource["content"][0]["attachment"]
    attachment.update(size=len(pdsm.HELLO_WORLD), hash=pdsm.sha1_b64(pdsm.HELLO_WORLD))
    assert send(422).data["issue"][0]["expression"] == ["DocumentReference.context.period"]
    resource["context"]["period"] = {"start": "2025-04-30T09:00:00+01:00"}
    assert reason(send(422)) == "space_not_open"
    resource["subject"] = pdsm.subject()
    assert reason(send(422)) == "mime_mismatch"
    pdf = make_pdf("Note de suivi")
    attachment.update(data=base64.b64encode(pdf).decode(), size=len(pdf), hash=pdsm.sha1_b64(pdf))
    accepted = send(201)
    document = Document.objects.get(uuid=accepted.data["id"])
    assert document.unique_id == "urn:uuid:abcd-efgh-ijkl-mnop" and document.mime_type == "application/pdf"
    assert (document.type_code, document.facility_type_code, document.format_code) == (
        "15507-7", "SA05", "urn:ihe:iti:xds-sd:pdf:2008")
