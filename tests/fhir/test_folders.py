"""XDS Folders through IHE MHD: ITI-65 files a Folder List with its documents (or adds documents to an existing
folder), ITI-66 finds it with only the documents the caller may read.

Material: List_folder.fsh (/work/shared/samples/pdsm/, translated in `folder_list` below: the uniqueId slice has
use `usual`, the entryUUID slice use `official`, the subject is the INS as PDSm software sends it), with the
submission set and DocumentReference of pdsm_bundles.py (List_lotDeSoumission.fsh, DR_comprehensive.fsh), and the
CI-SIS 3.0 CDAs BIO-TROD_2024.01_Cystite.xml (patient 279035121518989) and OBP-SCM_2024.01.xml (patient
277076322082910) from /work/shared/samples/cda/ci-sis-3.0/.
"""

import copy
import os
from typing import Any

import pytest
from django.conf import settings

from carnet.record.models import Document, SubmissionSet, XdsFolder
from carnet.sharing.models import AccessEvent, Authorisation, Professional
from carnet.sharing.tokens import issue_professional_token
from carnet.vault.models import Blob

from . import pdsm_bundles as pdsm
from .pdsm_bundles import MHD_LIST_TYPES, SAMPLE_INS, SAMPLE_RPPS, WriteClient, reason

pytestmark = pytest.mark.django_db

FOLDER_ID = "urn:uuid:55555555-aaaa-bbbb-cccc-666666666666"  # List_folder.fsh identifier[uniqueId]
OTHER_INS = "277076322082910"  # OBP-SCM_2024.01.xml's patient, production INS OID
OTHER_CDA = pdsm.SAMPLES / "cda/ci-sis-3.0/OBP-SCM_2024.01.xml"
SNOMED = "http://snomed.info/sct"


def folder_list(items: tuple[str, ...], *, unique_id: str = FOLDER_ID, ins: str = SAMPLE_INS,
                oid: str = pdsm.TEST_INS_OID) -> dict[str, Any]:
    """List_folder.fsh (ExampleFolder) as JSON, with our entries and patient."""
    return {
        "resourceType": "List",
        "extension": [{"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType",
                       "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "80146002",
                                                            "display": "Appendectomy (procedure)"}]}}],
        "identifier": [
            {"use": "usual", "system": "urn:ietf:rfc:3986", "value": unique_id},
            {"use": "official", "system": "urn:ietf:rfc:3986",
             "value": "urn:uuid:77777777-dddd-eeee-ffff-888888888888"},
        ],
        "status": "current",
        "mode": "working",
        "title": "Classeur de suivi diabète",
        "code": {"coding": [{"system": MHD_LIST_TYPES, "code": "folder", "display": "Folder"}]},
        "date": "2025-04-28T10:30:00+01:00",
        "subject": pdsm.subject(ins, oid),
        "note": [{"text": "Classeur regroupant les documents liés à l'intervention."}],
        "entry": [{"item": {"reference": item}} for item in items],
    }


def with_folder(body: dict[str, Any], items: tuple[str, ...] = ("urn:uuid:doc-1",), *, method: str = "POST",
                **kwargs) -> dict[str, Any]:
    body = copy.deepcopy(body)
    body["entry"].insert(1, {"fullUrl": "urn:uuid:folder-1", "resource": folder_list(items, **kwargs),
                             "request": {"method": method, "url": "List"}})
    return body


def first_bundle() -> dict[str, Any]:
    return with_folder(pdsm.cda_bundle())


def second_bundle(**kwargs) -> dict[str, Any]:
    """Another submission (new set, new document) adding its document to the folder."""
    return with_folder(pdsm.cda_bundle(unique_id="1.2.250.1.999.1.2", set_unique_id="urn:oid:1.2.250.1.999.2",
                                       **kwargs), method="PUT")


def vault_files() -> int:
    root = settings.STORAGES["vault"]["OPTIONS"]["location"]
    return sum(len(files) for _d, _s, files in os.walk(root)) if os.path.isdir(root) else 0


def stored() -> tuple[int, ...]:
    """Rows and files a refused submission must not leave behind."""
    through = XdsFolder.documents.through
    return (Document.objects.count(), Blob.objects.count(), SubmissionSet.objects.count(), XdsFolder.objects.count(),
            through.objects.count(), vault_files())


@pytest.fixture
def account(family):
    return family.holder(nir=SAMPLE_INS)


@pytest.fixture
def holder(account):
    return account.person


@pytest.fixture
def author():
    return Professional.objects.create(rpps=SAMPLE_RPPS, family_name="Leclerc", given_names="Sophie",
                                       profession_code="10")


def client_of(professional: Professional) -> WriteClient:
    _row, token = issue_professional_token(professional)
    return WriteClient(token)


def colleague(holder) -> Professional:
    professional = Professional.objects.create(rpps="30000000777", family_name="Martin", given_names="Claire",
                                               profession_code="10")
    Authorisation.objects.create(person=holder, professional=professional, granted_by=holder)
    return professional


def find_folders(professional: Professional, holder, **params: str):
    response = client_of(professional).get("/fhir/List", {"patient": f"Patient/{holder.uuid}", "code": "folder",
                                                          **params})
    assert response.status_code == 200, response.data
    return response.data


def items(resource: dict[str, Any]) -> list[str]:
    return [e["item"]["reference"] for e in resource["entry"]]


def test_a_new_folder_is_filed_with_its_document_and_found_by_iti66(author, holder):
    response = client_of(author).post("/fhir/", first_bundle())
    assert response.status_code == 200, response.data
    folder = XdsFolder.objects.get(person=holder)
    document = Document.objects.get(person=holder)
    assert (folder.unique_id, folder.title, folder.status) == (FOLDER_ID, "Classeur de suivi diabète", "current")
    assert folder.codes == [{"system": SNOMED, "code": "80146002", "display": "Appendectomy (procedure)"}]
    assert list(folder.documents.all()) == [document]
    assert response.data["entry"][1]["response"]["location"] == f"List/{folder.uuid}"

    reader = colleague(holder)
    found = find_folders(reader, holder)
    assert found["total"] == 1
    listed = found["entry"][0]["resource"]
    assert listed["id"] == str(folder.uuid)
    assert listed["code"]["coding"][0]["code"] == "folder"
    assert listed["identifier"][0]["value"] == FOLDER_ID
    assert listed["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "80146002"
    assert items(listed) == [f"DocumentReference/{document.uuid}"]
    # searchable by its own parameters; the submission set is not a folder
    assert find_folders(reader, holder, identifier=FOLDER_ID)["total"] == 1
    assert find_folders(reader, holder, designationType=f"{SNOMED}|80146002")["total"] == 1
    assert find_folders(reader, holder, designationType=f"{SNOMED}|0000")["total"] == 0
    assert find_folders(reader, holder, status="current")["total"] == 1
    assert find_folders(reader, holder, date="ge2000-01-01")["total"] == 1
    assert find_folders(reader, holder, date="lt2000-01-01")["total"] == 0
    every = client_of(reader).get("/fhir/List", {"patient": f"Patient/{holder.uuid}"}).data
    assert sorted(e["resource"]["code"]["coding"][0]["code"] for e in every["entry"]) == ["folder", "submissionset"]
    read = client_of(reader).get(f"/fhir/List/{folder.uuid}")
    assert read.status_code == 200 and items(read.data) == [f"DocumentReference/{document.uuid}"]
    assert AccessEvent.objects.filter(person=holder, professional=reader, allowed=True).exists()


def test_a_second_bundle_adds_its_document_to_the_same_folder(author, holder):
    assert client_of(author).post("/fhir/", first_bundle()).status_code == 200
    folder = XdsFolder.objects.get(person=holder)
    response = client_of(author).post("/fhir/", second_bundle())
    assert response.status_code == 200, response.data
    assert XdsFolder.objects.count() == 1
    folder.refresh_from_db()
    assert folder.version == 2
    assert folder.documents.count() == 2
    listed = find_folders(colleague(holder), holder)["entry"][0]["resource"]
    assert sorted(items(listed)) == sorted(f"DocumentReference/{d.uuid}" for d in Document.objects.of(holder))
    assert listed["meta"]["versionId"] == "2"


def test_a_folder_update_may_name_a_document_already_filed(author, holder):
    assert client_of(author).post("/fhir/", pdsm.cda_bundle()).status_code == 200
    earlier = Document.objects.get(person=holder)
    body = with_folder(pdsm.cda_bundle(unique_id="1.2.250.1.999.1.2", set_unique_id="urn:oid:1.2.250.1.999.2"),
                       ("urn:uuid:doc-1", f"DocumentReference/{earlier.uuid}"))
    assert client_of(author).post("/fhir/", body).status_code == 200
    assert XdsFolder.objects.get(person=holder).documents.count() == 2


def test_a_masked_document_is_not_listed_to_a_professional_who_did_not_write_it(author, holder):
    assert client_of(author).post("/fhir/", first_bundle()).status_code == 200
    assert client_of(author).post("/fhir/", second_bundle(security=("N", "MASQUE_PS"))).status_code == 200
    masked = Document.objects.get(person=holder, masked_to_professionals=True)
    plain = Document.objects.get(person=holder, masked_to_professionals=False)
    reader = colleague(holder)
    listed = find_folders(reader, holder)["entry"][0]["resource"]
    assert items(listed) == [f"DocumentReference/{plain.uuid}"]
    Authorisation.objects.create(person=holder, professional=author, granted_by=holder)  # the author reads all
    assert sorted(items(find_folders(author, holder)["entry"][0]["resource"])) == sorted(
        f"DocumentReference/{d.uuid}" for d in (masked, plain))
    # a folder holding only the masked document is not shown to the colleague at all
    only_masked = with_folder(pdsm.cda_bundle(unique_id="1.2.250.1.999.1.3", set_unique_id="urn:oid:1.2.250.1.999.3",
                                              security=("N", "MASQUE_PS")), unique_id="urn:oid:1.2.250.1.999.77")
    assert client_of(author).post("/fhir/", only_masked).status_code == 200
    assert find_folders(reader, holder)["total"] == 1
    assert find_folders(author, holder)["total"] == 2
    hidden = XdsFolder.objects.get(unique_id="1.2.250.1.999.77")
    assert client_of(reader).get(f"/fhir/List/{hidden.uuid}").status_code == 404


def test_re_sending_the_same_bundle_changes_nothing(author, holder):
    first = client_of(author).post("/fhir/", first_bundle())
    before = stored()
    again = client_of(author).post("/fhir/", first_bundle())
    assert again.status_code == 200
    assert stored() == before
    assert [e["response"]["location"] for e in again.data["entry"]] == [
        e["response"]["location"] for e in first.data["entry"]]
    assert client_of(author).post("/fhir/", second_bundle()).status_code == 200
    before = stored()
    assert client_of(author).post("/fhir/", second_bundle()).status_code == 200
    assert stored() == before
    assert XdsFolder.objects.get(person=holder).version == 2


def _refused(author, body, why: str, expression: str = "") -> None:
    before = stored()
    response = client_of(author).post("/fhir/", body)
    assert response.status_code == 422, response.data
    assert response.data["resourceType"] == "OperationOutcome"
    assert reason(response) == why
    if expression:
        assert expression in response.data["issue"][0]["expression"][0]
    assert stored() == before


def test_a_folder_naming_a_document_of_another_patient_is_refused_and_nothing_is_stored(author, holder, family):
    other = family.holder(nir=OTHER_INS).person
    sent = pdsm.cda_bundle(OTHER_CDA, unique_id="1.2.250.1.999.9.1", set_unique_id="urn:oid:1.2.250.1.999.9",
                           ins=OTHER_INS, oid="1.2.250.1.213.1.4.8", type_code="89235-6")
    assert client_of(author).post("/fhir/", sent).status_code == 200, "OBP-SCM for its own patient is accepted"
    theirs = Document.objects.get(person=other)
    body = with_folder(pdsm.cda_bundle(), ("urn:uuid:doc-1", f"DocumentReference/{theirs.uuid}"))
    denials = AccessEvent.objects.filter(person=holder, allowed=False).count()
    _refused(author, body, "folder_entry_not_found")
    assert AccessEvent.objects.filter(person=holder, allowed=False).count() == denials + 1


def test_a_folder_about_another_patient_is_refused(author, holder, family):
    family.holder(nir=OTHER_INS)
    body = with_folder(pdsm.cda_bundle(), ins=OTHER_INS, oid="1.2.250.1.213.1.4.8")
    _refused(author, body, "patient_mismatch")


def test_a_folder_entry_missing_from_the_bundle_is_refused(author, holder):
    _refused(author, with_folder(pdsm.cda_bundle(), ("urn:uuid:doc-1", "urn:uuid:nowhere")),
             "folder_entry_not_found", "entry[1]")


def test_a_folder_without_unique_id_or_with_a_codeless_designation_is_refused(author, holder):
    body = with_folder(pdsm.cda_bundle())
    body["entry"][1]["resource"]["identifier"] = []
    _refused(author, body, "folder_unique_id", "identifier")
    body = with_folder(pdsm.cda_bundle())
    body["entry"][1]["resource"]["extension"][0]["valueCodeableConcept"]["coding"][0].pop("system")
    _refused(author, body, "folder_code", "extension[0]")


def test_updating_a_folder_that_does_not_exist_is_refused(author, holder):
    _refused(author, second_bundle(), "folder_not_found")


def test_folders_and_submission_sets_are_paged_together_newest_first(author, holder):
    assert client_of(author).post("/fhir/", first_bundle()).status_code == 200
    assert client_of(author).post("/fhir/", second_bundle()).status_code == 200  # the folder is updated last
    reader, patient = colleague(holder), f"Patient/{holder.uuid}"
    pages = [client_of(reader).get("/fhir/List", {"patient": patient, "_count": "1", "_page": str(n)}).data
             for n in (1, 2, 3)]
    assert [p["total"] for p in pages] == [3, 3, 3]
    kinds = [p["entry"][0]["resource"]["code"]["coding"][0]["code"] for p in pages]
    assert kinds[0] == "folder" and sorted(kinds) == ["folder", "submissionset", "submissionset"]
    assert client_of(reader).get("/fhir/List", {"patient": patient, "code": "submissionset"}).data["total"] == 2
    assert client_of(reader).get("/fhir/List", {"patient": patient, "sourceId": "SRC-01"}).data["total"] == 2


def test_the_holder_finds_the_folder_with_their_device_token(author, account, client_for):
    assert client_of(author).post("/fhir/", first_bundle()).status_code == 200
    response = client_for(account).get("/fhir/List", {"code": "folder"})
    assert response.status_code == 200 and response.json()["total"] == 1
    assert response.json()["entry"][0]["resource"]["title"] == "Classeur de suivi diabète"


def test_a_replacing_document_joins_the_folders_of_the_one_it_replaces(author, holder):
    assert client_of(author).post("/fhir/", first_bundle()).status_code == 200
    old = Document.objects.get(person=holder)
    body = pdsm.cda_bundle(unique_id="1.2.250.1.999.1.2", set_unique_id="urn:oid:1.2.250.1.999.2",
                           replaces=f"DocumentReference/{old.uuid}")
    assert client_of(author).post("/fhir/", body).status_code == 200
    new = Document.objects.get(person=holder, replaces=old)
    folder = XdsFolder.objects.get(person=holder)
    assert set(folder.documents.all()) == {old, new} and folder.version == 2
    listed = find_folders(colleague(holder), holder)["entry"][0]["resource"]
    assert f"DocumentReference/{new.uuid}" in items(listed)
