"""ITI-65 Provide Document Bundle (IHE MHD, ANS PDSm profile): `POST /fhir/` with a transaction Bundle.

Material: the PDSm examples of /work/shared/samples/pdsm/ (DR_comprehensive.fsh, List_lotDeSoumission.fsh,
ExemplesSupport.fsh, transaction_response_example.fsh; translated in pdsm_bundles.py) and the CI-SIS 3.0 CDA
documents BIO-TROD_2024.01_Cystite.xml, CARD-F-PRC-PPV_2022.01.xml (test INS 279035121518989) and
OBP-SCM_2024.01.xml (another INS, production OID 277076322082910) from /work/shared/samples/cda/ci-sis-3.0/.
"""

import base64
import copy
import itertools
import os

import pytest
from django.conf import settings

from carnet.identity.enums import SpaceStatus
from carnet.notifications.models import Notification
from carnet.record.enums import DocumentSource, DocumentStatus
from carnet.record.models import Document, SubmissionSet
from carnet.sharing.models import AccessEvent, Authorisation, Block, Professional
from carnet.sharing.tokens import issue_professional_token
from carnet.vault.models import Blob

from . import pdsm_bundles as pdsm
from .conftest import make_pdf
from .pdsm_bundles import SAMPLE_INS, SAMPLE_RPPS, WriteClient, reason

pytestmark = pytest.mark.django_db
_rpps = itertools.count(30000000001)
OTHER_CDA = pdsm.SAMPLES / "cda/ci-sis-3.0/OBP-SCM_2024.01.xml"


def vault_files() -> int:
    root = settings.STORAGES["vault"]["OPTIONS"]["location"]
    return sum(len(files) for _d, _s, files in os.walk(root)) if os.path.isdir(root) else 0


def stored() -> tuple[int, int, int, int]:
    """Rows and files that a refused submission must not leave behind."""
    return Document.objects.count(), Blob.objects.count(), SubmissionSet.objects.count(), vault_files()


def test_cda_bundle_is_filed_with_its_xds_metadata(software, holder, author):
    response = software.post("/fhir/", pdsm.cda_bundle())
    assert response.status_code == 200, response.data
    bundle = response.data
    assert bundle["type"] == "transaction-response"
    kinds = [e["response"]["location"].split("/")[0] for e in bundle["entry"]]
    assert kinds == ["List", "DocumentReference", "Binary"]
    assert all(e["response"]["status"].startswith("201") for e in bundle["entry"])
    document = Document.objects.get(person=holder)
    assert bundle["entry"][1]["response"]["location"] == f"DocumentReference/{document.uuid}"
    assert bundle["entry"][2]["response"]["location"] == f"Binary/{document.uuid}"
    assert (document.type_code, document.class_code, document.format) == ("96173-0", "52", "cda")
    assert (document.practice_setting_code, document.facility_type_code) == ("ETABLISSEMENT", "SA01")
    assert document.unique_id == "1.2.250.1.999.1.1" and document.source == DocumentSource.PROFESSIONAL
    assert document.author_identifier == SAMPLE_RPPS and document.author_label == "Sophie Leclerc"
    assert document.details["xds"]["authors"] == [{"given": "Sophie", "family": "Leclerc", "rpps": SAMPLE_RPPS,
                                                   "role": "FON-05"}]
    assert document.details["xds"]["security_labels"] == ["N"]
    assert document.details["cda"]["type"]["code"] == "96173-0"  # indexed from its header, as add_document does
    assert document.size == pdsm.TROD_CDA.stat().st_size
    submission_set = SubmissionSet.objects.get(person=holder)
    assert document.submission_set == submission_set and submission_set.unique_id == "1.2.250.1.999.1"
    assert submission_set.source_id == "SRC-01" and submission_set.author_identifier == SAMPLE_RPPS
    assert bundle["entry"][0]["response"]["location"] == f"List/{submission_set.uuid}"
    event = AccessEvent.objects.get(person=holder, action="document.add")
    assert event.professional == author and event.subject == f"document:{document.uuid}"
    assert Notification.objects.filter(person=holder, code="document_added").count() == 1


def test_response_has_the_shape_of_the_published_transaction_response(software, holder):
    """transaction_response_example.fsh: type transaction-response, one entry per request entry with
    response.status 201 and response.location Type/id; ours adds etag and lastModified."""
    response = software.post("/fhir/", pdsm.cda_bundle())
    for entry in response.data["entry"]:
        assert set(entry) == {"response"}
        assert {"status", "location", "etag", "lastModified"} == set(entry["response"])
        assert entry["response"]["etag"] == 'W/"1"'


def test_round_trip_iti65_iti67_iti68_gives_identical_bytes_and_equal_metadata(software, holder, author):
    Authorisation.objects.create(person=holder, professional=author, granted_by=holder)
    content = pdsm.CARD_CDA.read_bytes()
    reference = pdsm.document_reference(content, unique_id="1.2.250.1.999.2.1", type_code="34133-9",
                                        class_code="10", security=("N", "INVISIBLE_REPRESENTANTS_LEGAUX"))
    sent = pdsm.bundle([(reference, content)], unique_id="urn:oid:1.2.250.1.999.2")
    assert software.post("/fhir/", sent).status_code == 200

    found = software.get("/fhir/DocumentReference", {"patient": f"Patient/{holder.uuid}"})
    assert found.status_code == 200 and found.data["total"] == 1
    listed = found.data["entry"][0]["resource"]
    assert listed["masterIdentifier"]["value"] == "urn:oid:1.2.250.1.999.2.1"
    assert listed["type"]["coding"][0]["code"] == "34133-9"
    assert {"system": "urn:oid:1.2.250.1.213.1.1.4.1", "code": "10"}.items() <= listed["category"][0]["coding"][
        0].items()
    assert listed["status"] == "current"
    # The visibility status comes back; ITI-67's mapping shows the level N only when no status is set.
    assert {c["code"] for label in listed["securityLabel"] for c in label["coding"]} - {"N"} == {
        "INVISIBLE_REPRESENTANTS_LEGAUX"}
    attachment = listed["content"][0]["attachment"]
    assert attachment["size"] == len(content) and attachment["title"] == "CR Hospitalisation"
    assert listed["context"]["period"]["start"].startswith("2025-04-20T07:00:00")  # 08:00+01:00, in UTC

    raw = software.get(f"/fhir/{attachment['url']}", headers={"Accept": "*/*"})
    assert raw.status_code == 200
    assert b"".join(raw.streaming_content) == content
    as_json = software.get(f"/fhir/{attachment['url']}")
    assert base64.b64decode(as_json.data["data"]) == content
    assert as_json.data["contentType"] == attachment["contentType"]


def test_resending_the_same_submission_is_idempotent(software, holder):
    first = software.post("/fhir/", pdsm.cda_bundle())
    before = stored()
    events = AccessEvent.objects.filter(person=holder).count()
    again = software.post("/fhir/", pdsm.cda_bundle())
    assert again.status_code == 200 and again.content == first.content
    assert stored() == before
    assert AccessEvent.objects.filter(person=holder, action="document.add").count() == 1
    assert AccessEvent.objects.filter(person=holder).count() >= events
    assert Notification.objects.filter(person=holder, code="document_added").count() == 1


def test_a_reused_unique_id_with_other_content_is_a_conflict(software, holder):
    software.post("/fhir/", pdsm.cda_bundle())
    before = stored()
    other = pdsm.cda_bundle(pdsm.CARD_CDA, type_code="34133-9", class_code="10")  # same uniqueIds
    response = software.post("/fhir/", other)
    assert response.status_code == 409 and reason(response) == "duplicate_unique_id"
    assert stored() == before


def test_a_replacement_supersedes_the_old_version(software, holder):
    first = software.post("/fhir/", pdsm.cda_bundle())
    old = Document.objects.get(person=holder)
    content = pdsm.TROD_CDA.read_bytes().replace(b"Cystite", b"Cystite.")
    reference = pdsm.document_reference(content, unique_id="1.2.250.1.999.1.2",
                                        replaces=f"DocumentReference/{old.uuid}")
    response = software.post("/fhir/", pdsm.bundle([(reference, content)], unique_id="urn:oid:1.2.250.1.999.3"))
    assert first.status_code == response.status_code == 200, response.data
    old.refresh_from_db()
    new = Document.objects.get(person=holder, unique_id="1.2.250.1.999.1.2")
    assert old.status == DocumentStatus.SUPERSEDED and new.replaces == old and new.version == 2
    assert response.data["entry"][1]["response"]["etag"] == 'W/"2"'


def test_only_the_author_may_replace_a_document(software, holder):
    software.post("/fhir/", pdsm.cda_bundle())
    old = Document.objects.get(person=holder)
    stranger = Professional.objects.create(rpps=str(next(_rpps)), family_name="Autre", given_names="Paul",
                                           profession_code="10")
    _row, token = issue_professional_token(stranger)
    content = pdsm.TROD_CDA.read_bytes().replace(b"Cystite", b"Cystite.")
    reference = pdsm.document_reference(content, unique_id="1.2.250.1.999.1.3", rpps=stranger.rpps,
                                        replaces=f"DocumentReference/{old.uuid}")
    before = stored()
    response = WriteClient(token).post("/fhir/", pdsm.bundle([(reference, content)],
                                                             unique_id="urn:oid:1.2.250.1.999.4"))
    assert response.status_code == 403 and reason(response) == "not_author"
    assert stored() == before
    assert AccessEvent.objects.filter(person=holder, professional=stranger, allowed=False,
                                      reason="not_author").exists()


def second_about_another_patient(series: int) -> dict:
    """Two documents, the second a CDA about another patient (OBP-SCM_2024.01.xml): found only once its header is
    read, after the first document's statement ran in the same transaction."""
    good, bad = pdsm.TROD_CDA.read_bytes(), OTHER_CDA.read_bytes()
    return pdsm.bundle([
        (pdsm.document_reference(good, unique_id=f"1.2.250.1.999.{series}.1", binary_url="urn:uuid:b1"), good),
        (pdsm.document_reference(bad, unique_id=f"1.2.250.1.999.{series}.2", binary_url="urn:uuid:b2",
                                 type_code="89235-6", class_code="10"), bad),
    ], unique_id=f"urn:oid:1.2.250.1.999.{series}")


def test_all_documents_of_a_bundle_or_none(software, holder):
    """The second document is about another patient, found after the first was written: both are refused, no
    file is left."""
    sent = second_about_another_patient(5)
    before = stored()
    response = software.post("/fhir/", sent)
    assert response.status_code == 422 and reason(response) == "patient_mismatch"
    assert stored() == before
    assert not Notification.objects.filter(person=holder, code="document_added").exists()


def test_two_documents_in_one_bundle_make_one_notice(software, holder):
    one, two = pdsm.TROD_CDA.read_bytes(), pdsm.CARD_CDA.read_bytes()
    sent = pdsm.bundle([
        (pdsm.document_reference(one, unique_id="1.2.250.1.999.6.1", binary_url="urn:uuid:b1"), one),
        (pdsm.document_reference(two, unique_id="1.2.250.1.999.6.2", binary_url="urn:uuid:b2",
                                 type_code="34133-9", class_code="10"), two),
    ], unique_id="urn:oid:1.2.250.1.999.6")
    response = software.post("/fhir/", sent)
    assert response.status_code == 200, response.data
    assert len(response.data["entry"]) == 5 and Document.objects.filter(person=holder).count() == 2
    listed = SubmissionSet.objects.get(person=holder)  # one row: the first document's statement inserted it
    assert set(Document.objects.filter(person=holder).values_list("submission_set_id", flat=True)) == {listed.pk}
    notices = Notification.objects.filter(person=holder, code="document_added")
    assert notices.count() == 1 and "De nouveaux documents" in notices.get().title


def _refused(software, body, status: int, *, why: str = "", expression: str = "", **kwargs):
    before = stored()
    response = software.post("/fhir/", body, **kwargs)
    assert response.status_code == status, response.data if hasattr(response, "data") else response.content
    assert response.data["resourceType"] == "OperationOutcome"
    if why:
        assert reason(response) == why, response.data
    if expression:
        assert expression in response.data["issue"][0].get("expression", [""])[0], response.data
    assert stored() == before
    return response


def test_malformed_json_is_a_400(software, holder):
    _refused(software, None, 400, raw=b'{"resourceType": "Bundle", "type": ')


def test_a_body_with_a_byte_order_mark_is_read_as_before(software, holder):
    """The JSON parser (orjson) refuses a UTF-8 byte-order mark, which some clinical software writes and the
    standard library accepts: such a body falls back to it and is filed."""
    import json

    response = software.post("/fhir/", None, raw=b"\xef\xbb\xbf" + json.dumps(pdsm.cda_bundle()).encode())
    assert response.status_code == 200, response.data
    assert Document.objects.filter(person=holder).count() == 1


@pytest.mark.parametrize("raw", [b'{"resourceType": "Bundle", "type": NaN}', b"[" * 5000 + b"]" * 5000,
                                 b'{"resourceType": "Bundle", "id": "\xff"}'])
def test_json_that_neither_parser_takes_as_a_bundle_is_a_400(software, holder, raw):
    _refused(software, None, 400, raw=raw)


def test_base64_with_padding_past_its_end_is_a_400(software, holder):
    """`QUJD==`: the standard library skipped the surplus padding; RFC 4648 does not allow it, nor does this
    server (pybase64): refused as badly encoded, not filed as `ABC`."""
    content = b"ABC"
    body = pdsm.bundle([(pdsm.document_reference(content, unique_id="1.2.250.1.999.7.1"), content)])
    binary = body["entry"][2]["resource"]
    assert binary["resourceType"] == "Binary" and binary["data"] == "QUJD"
    assert base64.b64decode("QUJD==", validate=True) == content  # what the standard library made of it
    binary["data"] = "QUJD=="
    response = _refused(software, body, 400)
    assert response.data["issue"][0]["expression"] == ["Bundle.entry[2].resource.data"], response.data


def test_a_bundle_that_is_not_a_transaction_is_refused(software, holder):
    body = pdsm.cda_bundle()
    body["type"] = "batch"
    _refused(software, body, 400, expression="Bundle.type")


def test_a_resource_other_than_a_bundle_is_refused(software, holder):
    _refused(software, {"resourceType": "Patient"}, 400, expression="Bundle")


def test_a_document_about_another_patient_than_the_submission_set_is_refused(software, holder, family):
    family.holder(nir="277076322082910")
    body = pdsm.cda_bundle()
    body["entry"][1]["resource"]["subject"] = pdsm.subject("277076322082910", "1.2.250.1.213.1.4.8")
    body["entry"][1]["resource"]["context"]["sourcePatientInfo"] = body["entry"][1]["resource"]["subject"]
    _refused(software, body, 422, why="patient_mismatch")


def test_an_unknown_ins_and_a_space_not_open_get_the_same_answer(software, family):
    unknown = _refused(software, pdsm.cda_bundle(), 422, why="space_not_open")
    notified = family.person(status=SpaceStatus.NOTIFIED, nir=SAMPLE_INS)
    closed = _refused(software, pdsm.cda_bundle(), 422, why="space_not_open")
    assert unknown.data == closed.data
    assert AccessEvent.objects.filter(person=notified, allowed=False, reason="not_active").exists()
    notified.status = SpaceStatus.ARCHIVED
    notified.save()
    _refused(software, pdsm.cda_bundle(), 422, why="space_not_open")


def test_a_space_created_but_not_yet_activated_receives_documents(software, family):
    """After the opposition window (CREATED) professionals may already file; the holder sees it once active
    (DESIGN.md §2). Only the window itself (NOTIFIED), an opposition or a closure refuse (test above)."""
    created = family.person(status=SpaceStatus.CREATED, nir=SAMPLE_INS)
    response = software.post("/fhir/", pdsm.cda_bundle())
    assert response.status_code == 200, response.data
    [document] = Document.objects.filter(person=created)
    assert document.status == DocumentStatus.CURRENT
    assert AccessEvent.objects.filter(person=created, allowed=True, professional__isnull=False).exists()


def test_an_ins_with_a_broken_control_key_is_refused(software, holder):
    _refused(software, pdsm.cda_bundle(ins="279035121518988"), 422, why="ins_invalid")


def test_a_patient_without_ins_is_refused(software, holder):
    body = pdsm.cda_bundle()
    body["entry"][0]["resource"]["subject"] = {"reference": "#nobody"}
    _refused(software, body, 422, why="no_ins")


def test_a_type_outside_jdv_j07_is_refused(software, holder):
    _refused(software, pdsm.cda_bundle(type_code="00000-0"), 422, why="unknown_type", expression="type")


@pytest.mark.parametrize(("element", "value"), [
    ("category", [{"coding": [{"system": pdsm.CLASS, "code": "77"}]}]),
    ("securityLabel", [{"coding": [{"system": pdsm.V3_CONF, "code": "SECRET"}]}]),
])
def test_codes_outside_their_value_sets_are_refused(software, holder, element, value):
    body = pdsm.cda_bundle()
    body["entry"][1]["resource"][element] = value
    _refused(software, body, 422, expression=element)


@pytest.mark.parametrize("element", ["facilityType", "practiceSetting"])
def test_facility_and_practice_setting_outside_their_value_sets_are_refused(software, holder, element):
    body = pdsm.cda_bundle()
    body["entry"][1]["resource"]["context"][element] = {"coding": [{"system": pdsm.SECTOR, "code": "XX99"}]}
    _refused(software, body, 422, expression=element)


def test_a_format_outside_jdv_j10_is_refused(software, holder):
    body = pdsm.cda_bundle()
    body["entry"][1]["resource"]["content"][0]["format"] = {"system": pdsm.IHE_FORMAT, "code": "urn:nope"}
    _refused(software, body, 422, expression="format")


@pytest.mark.parametrize("element", ["masterIdentifier", "securityLabel", "author", "date"])
def test_required_metadata_is_required(software, holder, element):
    body = pdsm.cda_bundle()
    del body["entry"][1]["resource"][element]
    _refused(software, body, 422, expression=element)


def test_a_binary_not_matching_its_declared_hash_is_refused(software, holder):
    body = pdsm.cda_bundle()
    body["entry"][1]["resource"]["content"][0]["attachment"]["hash"] = pdsm.sha1_b64(b"something else")
    _refused(software, body, 422, why="hash_mismatch")


def test_a_binary_not_matching_its_declared_size_is_refused(software, holder):
    body = pdsm.cda_bundle()
    body["entry"][1]["resource"]["content"][0]["attachment"]["size"] += 1
    _refused(software, body, 422, why="size_mismatch")


def test_content_not_matching_its_declared_media_type_is_refused(software, holder):
    body = pdsm.cda_bundle()
    body["entry"][1]["resource"]["content"][0]["attachment"]["contentType"] = "application/pdf"
    _refused(software, body, 422, why="mime_mismatch")


def test_a_2_gb_body_is_refused_before_it_is_read(software, holder):
    response = _refused(software, pdsm.cda_bundle(), 413, CONTENT_LENGTH=str(2 * 1024 ** 3))
    assert "Mo" in response.data["issue"][0]["diagnostics"]


def test_a_body_over_the_limit_is_refused(software, holder, settings):
    settings.CARNET_FHIR_MAX_BODY_BYTES = 10_000  # the 30 KB CDA in base64 is over it
    _refused(software, pdsm.cda_bundle(), 413)


def test_a_body_that_is_not_json_is_a_415(software, holder):
    _refused(software, pdsm.cda_bundle(), 415, content_type="application/xml")


def test_a_blocked_author_is_refused_and_the_denial_recorded(software, holder, author):
    Block.objects.create(person=holder, professional=author)
    _refused(software, pdsm.cda_bundle(), 403, why="blocked")
    assert AccessEvent.objects.filter(person=holder, professional=author, allowed=False, reason="blocked").exists()


def test_a_declared_author_blocked_by_the_holder_is_refused_even_if_someone_else_sends(holder, author):
    sender = Professional.objects.create(rpps=str(next(_rpps)), family_name="Secrétariat", given_names="Logiciel",
                                         profession_code="10")
    _row, token = issue_professional_token(sender)
    Block.objects.create(person=holder, professional=author)
    _refused(WriteClient(token), pdsm.cda_bundle(), 403, why="blocked")


def test_an_author_unknown_to_the_directory_is_refused(software, holder):
    _refused(software, pdsm.cda_bundle(rpps="99999999999"), 403, why="unknown_author")
    assert AccessEvent.objects.filter(person=holder, allowed=False, reason="unknown_author").exists()


def test_a_holder_token_may_not_submit(client_for, family):
    account = family.holder(nir=SAMPLE_INS)
    _refused(WriteClient(client_for(account).token), pdsm.cda_bundle(), 403, why="professionals_only")


def test_without_a_token_it_is_a_401(holder):
    before = stored()
    response = WriteClient("").post("/fhir/", pdsm.cda_bundle())
    assert response.status_code == 401 and "WWW-Authenticate" in response
    assert stored() == before


def test_a_folder_without_unique_id_is_refused_not_half_filed(software, holder):
    """List_folder.fsh: folders are kept (tests/fhir/test_folders.py), but one with no uniqueId is refused and
    nothing of the bundle is filed."""
    body = pdsm.cda_bundle()
    folder = copy.deepcopy(body["entry"][0])
    folder["fullUrl"] = "urn:uuid:folder-1"
    folder["resource"]["code"]["coding"][0]["code"] = "folder"
    folder["resource"].pop("identifier")
    body["entry"].append(folder)
    _refused(software, body, 422, expression="identifier")


def test_the_published_comprehensive_example_is_refused_for_each_of_its_defects_then_accepted(software, holder):
    """DR_comprehensive.fsh with List_lotDeSoumission.fsh and Binary 6789 of ExemplesSupport.fsh, as published,
    cannot be filed. Each defect is refused with its own reason; once all are corrected it is accepted:
    1. the author references `practitionerrole-example`, which is neither contained nor in the bundle;
    2. its securityLabel is `N` under the TRE_A07 visibility system: the profile's `confidentiality` slice (1..1)
       is bound to v3-ConfidentialityClassification, where N belongs (JDV_J08 lists it there too);
    3. the declared size (345678) and hash (the SHA-1 of an empty file) are not those of the Binary;
    4. the patient (fr-patient-123) carries no INS, the only identity PDSm accepts for filing;
    5. the Binary ("Hello World") is not the PDF that contentType declares."""
    reference = pdsm.published_document_reference()
    listed = pdsm.published_submission_set()
    binary = {"resourceType": "Binary", "id": "6789", "contentType": "application/pdf", "data": "SGVsbG8gV29ybGQ="}

    def send(expected_status: int):
        body = {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": "urn:uuid:11111111-0000-0000-0000-000000000001", "resource": listed,
             "request": {"method": "POST", "url": "List"}},
            {"fullUrl": "urn:uuid:11111111-0000-0000-0000-000000000002", "resource": reference,
             "request": {"method": "POST", "url": "DocumentReference"}},
            {"fullUrl": "urn:uuid:11111111-0000-0000-0000-000000000003", "resource": binary,
             "request": {"method": "POST", "url": "Binary"}},
        ]}
        pdsm.validate(body)  # the translation itself is valid FHIR R4
        before = stored()
        response = software.post("/fhir/", body)
        assert response.status_code == expected_status, response.data
        if expected_status != 200:
            assert stored() == before
        return response

    assert reason(send(422)) == "unknown_author"
    reference["contained"] = [pdsm.practitioner(), pdsm.practitioner_role(), pdsm.organization()]
    reference["author"] = [{"reference": "#practitionerrole-example"}]
    refused = send(422)
    assert refused.data["issue"][0]["expression"] == ["Bundle.entry[1].resource.securityLabel[0]"]
    reference["securityLabel"] = [{"coding": [{"system": pdsm.V3_CONF, "code": "N", "display": "Normal"}]}]
    refused = send(422)
    assert reason(refused) == "size_mismatch", refused.data
    reference["content"][0]["attachment"].update(size=len(pdsm.HELLO_WORLD), hash=pdsm.sha1_b64(pdsm.HELLO_WORLD))
    assert reason(send(422)) == "space_not_open"  # Patient/fr-patient-123 is no id of this server
    for resource in (reference, reference["context"], listed):
        key = "sourcePatientInfo" if resource is reference["context"] else "subject"
        resource[key] = pdsm.subject()
    assert reason(send(422)) == "mime_mismatch"
    content = pdsm.CARD_CDA.read_bytes()
    binary["data"] = base64.b64encode(content).decode()
    reference["content"][0]["attachment"].update(contentType="text/xml", size=len(content),
                                                 hash=pdsm.sha1_b64(content))
    binary["contentType"] = "text/xml"
    accepted = send(200)
    assert [e["response"]["status"] for e in accepted.data["entry"]] == ["201 Created"] * 3
    document = Document.objects.get(person=holder)
    assert document.unique_id == "urn:uuid:12345678-abcd-1234-abcd-1234567890ab"
    assert (document.type_code, document.class_code, document.format_code) == ("34133-9", "10",
                                                                                "urn:ihe:lab:xd-lab:2008")
    assert document.details["xds"]["comment"] == "Compte rendu d’hospitalisation suite à une chirurgie."
    assert document.details["xds"]["period_end"].startswith("2025-04-25T08:00:00")
    assert SubmissionSet.objects.get(person=holder).unique_id == "urn:uuid:11111111-aaaa-bbbb-cccc-222222222222"


def test_the_capability_statement_declares_the_writes(fhir):
    statement = fhir.get("/fhir/metadata").json()
    rest = statement["rest"][0]
    assert [i["code"] for i in rest["interaction"]] == ["transaction"]
    by_type = {r["type"]: [i["code"] for i in r["interaction"]] for r in rest["resource"]}
    assert {"create", "patch", "read", "search-type"} <= set(by_type["DocumentReference"])
    assert by_type["List"] == ["read", "search-type"]
    assert "create" not in by_type["Binary"] and "patch" not in by_type["Patient"]


def test_a_dmp_import_run_sends_one_notice_per_person_not_one_per_document(tmp_path, family):
    """The other batch that files many documents at once (record.dmp_import, add_document(notify=False)): three
    CI-SIS 3.0 samples for one person in one XDM archive (tests/interop/xdm_archives.py) make one notice."""
    from django.core.management import call_command

    from tests.interop.xdm_archives import sample_30, write_xdm

    person = family.holder(nir=SAMPLE_INS).person
    path = write_xdm(tmp_path / "dmp.zip", [
        sample_30("BIO-TROD_2024.01_Cystite.xml", "1.2.250.1.999.20.1", "96173-0"),
        sample_30("CARD-F-PRC-PPV_2022.01.xml", "1.2.250.1.999.20.2", "34133-9"),
        sample_30("SDM-MR_2022.01.xml", "1.2.250.1.999.20.3", "34133-9"),
    ])
    call_command("import_dmp", str(path))
    assert Document.objects.filter(person=person).count() == 3
    notices = Notification.objects.filter(person=person, code="document_added")
    assert notices.count() == 1 and "De nouveaux documents" in notices.get().title
    call_command("import_dmp", str(path))  # nothing new: no notice
    assert Notification.objects.filter(person=person, code="document_added").count() == 1


def test_a_result_held_for_an_announcement_is_not_announced(software, holder):
    """INVISIBLE_PATIENT: filed, hidden from the holder until released, and no notice (as the pro portal does)."""
    response = software.post("/fhir/", pdsm.cda_bundle(security=("N", "INVISIBLE_PATIENT")))
    assert response.status_code == 200
    document = Document.objects.get(person=holder)
    assert document.invisible_to_holder and document.invisible_to_holder_until is not None
    assert not Notification.objects.filter(person=holder, code="document_added").exists()


def test_a_document_unique_id_already_filed_by_another_submission_is_a_conflict(software, holder):
    assert software.post("/fhir/", pdsm.cda_bundle()).status_code == 200
    before = stored()
    response = software.post("/fhir/", pdsm.cda_bundle(set_unique_id="urn:oid:1.2.250.1.999.42"))
    assert response.status_code == 409 and reason(response) == "duplicate_unique_id"
    assert stored() == before


@pytest.mark.parametrize("hostile", ["pdf_javascript", "xml_bomb"])
def test_hostile_content_in_a_binary_is_refused_and_nothing_stored(software, holder, hostile):
    """The content checks of an upload (record.actions.add_document → interop.formats) hold on this path too: a PDF
    that runs JavaScript when opened, a CDA that expands entities (a 'billion laughs')."""
    if hostile == "pdf_javascript":
        content = make_pdf("CR").replace(b"/Type /Catalog",
                                         b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
        reference = pdsm.document_reference(content, unique_id="1.2.250.1.999.30.1", content_type="application/pdf",
                                            format_code="urn:ihe:iti:xds-sd:pdf:2008")
    else:
        laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
        content = (f'<?xml version="1.0"?><!DOCTYPE ClinicalDocument [<!ENTITY l0 "ha">{laughs}]>'
                   '<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&l9;</title></ClinicalDocument>').encode()
        reference = pdsm.document_reference(content, unique_id="1.2.250.1.999.30.2")
    response = _refused(software, pdsm.bundle([(reference, content)]), 422)
    assert reason(response) == {"pdf_javascript": "record:pdf_javascript", "xml_bomb": "record:xml_entities"}[hostile]
