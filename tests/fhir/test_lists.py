"""ITI-66 Find Lists: SubmissionSets filed through ITI-65, shown to whoever may read at least one of their documents,
with only those documents; a search is one access event on the space.

Material: List_lotDeSoumission.fsh (/work/shared/samples/pdsm/, in pdsm_bundles.py) and the CI-SIS 3.0 CDA
BIO-TROD_2024.01_Cystite.xml (/work/shared/samples/cda/ci-sis-3.0/).
"""

import pytest

from carnet.record.models import Document, SubmissionSet
from carnet.sharing.models import AccessEvent, Authorisation, Professional
from carnet.sharing.tokens import issue_professional_token

from . import pdsm_bundles as pdsm
from .pdsm_bundles import SAMPLE_INS, SAMPLE_RPPS, WriteClient, reason

pytestmark = pytest.mark.django_db


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


@pytest.fixture
def filed(author, holder) -> SubmissionSet:
    assert client_of(author).post("/fhir/", pdsm.cda_bundle()).status_code == 200
    return SubmissionSet.objects.get(person=holder)


def colleague(holder, *, authorised: bool = True) -> Professional:
    professional = Professional.objects.create(rpps="30000000777", family_name="Martin", given_names="Claire",
                                               profession_code="10")
    if authorised:
        Authorisation.objects.create(person=holder, professional=professional, granted_by=holder)
    return professional


def test_an_authorised_professional_finds_the_submission_set(filed, holder):
    reader = colleague(holder)
    response = client_of(reader).get("/fhir/List", {"patient": f"Patient/{holder.uuid}", "code": "submissionset"})
    assert response.status_code == 200 and response.data["total"] == 1
    listed = response.data["entry"][0]["resource"]
    document = Document.objects.get(person=holder)
    assert listed["id"] == str(filed.uuid) and listed["code"]["coding"][0]["code"] == "submissionset"
    assert listed["identifier"] == [{"use": "usual", "system": "urn:ietf:rfc:3986",
                                     "value": "urn:oid:1.2.250.1.999.1"}]
    assert listed["entry"] == [{"item": {"reference": f"DocumentReference/{document.uuid}"}}]
    assert listed["title"] == "Dossier de suivi post-opératoire"
    assert AccessEvent.objects.filter(person=holder, professional=reader, action="record.read",
                                      subject="search:List").count() == 1


@pytest.mark.parametrize(("params", "total"), [
    ({"identifier": "urn:ietf:rfc:3986|urn:oid:1.2.250.1.999.1"}, 1),
    ({"identifier": "urn:oid:1.2.250.1.999.2"}, 0),
    ({"code": "folder"}, 0),
    ({"status": "current"}, 1),
    ({"status": "retired"}, 0),
    ({"date": "ge2025-04-30"}, 1),
    ({"date": "lt2025-04-30"}, 0),
    ({"sourceId": "SRC-01"}, 1),
    ({"sourceId": "SRC-02"}, 0),
])
def test_search_parameters(filed, holder, params, total):
    response = client_of(colleague(holder)).get("/fhir/List", {"patient": str(holder.uuid), **params})
    assert response.status_code == 200 and response.data["total"] == total


def test_the_holder_finds_it_with_their_device_token(filed, account, client_for):
    response = client_for(account).get("/fhir/List")
    assert response.status_code == 200 and response.json()["total"] == 1


def test_an_unauthorised_professional_is_refused_at_space_level(filed, holder):
    response = client_of(colleague(holder, authorised=False)).get("/fhir/List", {"patient": str(holder.uuid)})
    assert response.status_code == 403 and reason(response) == "no_authorisation"


def test_a_submission_set_whose_documents_are_all_masked_is_not_listed(author, filed, holder):
    masking = [{"op": "replace", "path": "/securityLabel", "value": [
        {"coding": [{"system": pdsm.VISIBILITY, "code": "MASQUE_PS"}]}]}]
    document = Document.objects.get(person=holder)
    assert client_of(author).patch(f"/fhir/DocumentReference/{document.uuid}", masking).status_code == 200
    reader = client_of(colleague(holder))
    assert reader.get("/fhir/List", {"patient": str(holder.uuid)}).data["total"] == 0
    assert reader.get(f"/fhir/List/{filed.uuid}").status_code == 404
    # The author reads their document one by one (the policy's author rule) but, not authorised on the space,
    # does not search or read its lists: a List is read at space level.
    mine = client_of(author).get(f"/fhir/List/{filed.uuid}")
    assert mine.status_code == 403 and reason(mine) == "no_authorisation"


def test_read_by_id(filed, holder):
    response = client_of(colleague(holder)).get(f"/fhir/List/{filed.uuid}")
    assert response.status_code == 200 and response.data["resourceType"] == "List"
    assert response.data["subject"] == {"reference": f"Patient/{holder.uuid}"}


def test_the_patient_may_be_named_by_ins(filed, holder):
    response = client_of(colleague(holder)).get(
        "/fhir/List", {"patient.identifier": f"urn:oid:{pdsm.TEST_INS_OID}|{SAMPLE_INS}"})
    assert response.status_code == 200 and response.data["total"] == 1
