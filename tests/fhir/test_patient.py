"""Authentication, Patient read and search: the holder, their represented child, and strangers."""

import pytest

from carnet.identity.actions.login import sign_out_everywhere
from carnet.identity.enums import SpaceStatus
from carnet.sharing.models import AccessEvent

from .conftest import FhirClient, fhir_json

pytestmark = pytest.mark.django_db
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_no_token_is_a_401_with_the_bearer_challenge(fhir, family):
    holder = family.holder()

    response = fhir.get(f"/fhir/Patient/{holder.person.uuid}")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="carnet"'
    assert fhir_json(response)["issue"][0]["code"] == "login"


def test_an_invalid_or_ended_token_is_a_401_saying_invalid_token(family, client_for):
    holder = family.holder()
    client = client_for(holder)
    assert client.get("/fhir/Patient").status_code == 200
    sign_out_everywhere(holder)

    for response in (client.get("/fhir/Patient"), FhirClient("not-a-token").get("/fhir/DocumentReference")):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="carnet", error="invalid_token"'
        fhir_json(response)


def test_a_session_cookie_is_not_enough(family, fhir):
    """The portal login does not open the FHIR endpoint: only a bearer token does."""
    holder = family.holder()
    fhir.client.force_login(holder)
    assert fhir.get("/fhir/Patient").status_code == 401


def test_the_holder_reads_their_own_patient(family, client_for):
    holder = family.holder()
    person = holder.person

    patient = fhir_json(client_for(holder).get(f"/fhir/Patient/{person.uuid}"))

    assert patient["id"] == str(person.uuid)
    assert patient["identifier"][0]["system"] == "urn:oid:1.2.250.1.213.1.4.8"
    assert patient["identifier"][0]["value"] == person.nir
    assert patient["name"][0]["family"] == person.family_name
    assert patient["birthDate"] == person.birth_date.isoformat()
    assert patient["gender"] == {"M": "male", "F": "female"}[person.sex]
    assert patient["active"] is True
    assert not AccessEvent.objects.filter(person=person, action="record.read").exists()  # holder reads: no event


def test_a_parent_reads_and_lists_their_represented_child(represented_child, client_for):
    parent, child = represented_child
    client = client_for(parent)

    patient = fhir_json(client.get(f"/fhir/Patient/{child.uuid}"))
    bundle = fhir_json(client.get("/fhir/Patient"))

    assert patient["id"] == str(child.uuid)
    assert bundle["total"] == 2
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(parent.person.uuid), str(child.uuid)]
    assert bundle["entry"][1]["fullUrl"] == f"http://testserver/fhir/Patient/{child.uuid}"
    events = AccessEvent.objects.filter(person=child, actor=parent.person, action="record.read", allowed=True)
    assert events.count() == 2  # the read and the listing are both traced for the child


def test_patient_search_by_id(represented_child, client_for):
    parent, child = represented_child
    bundle = fhir_json(client_for(parent).get("/fhir/Patient", {"_id": str(child.uuid)}))
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(child.uuid)]


def test_an_unrelated_person_is_a_404_like_an_unknown_id_and_the_denial_is_recorded(family, client_for):
    stranger, other = family.holder(), family.holder()
    client = client_for(stranger)

    response = client.get(f"/fhir/Patient/{other.person.uuid}")
    unknown = client.get(f"/fhir/Patient/{UNKNOWN}")
    malformed = client.get("/fhir/Patient/not-a-uuid")

    assert response.status_code == unknown.status_code == malformed.status_code == 404
    assert fhir_json(response) == fhir_json(unknown)
    assert fhir_json(response)["issue"][0]["code"] == "not-found"
    event = AccessEvent.objects.get(person=other.person, actor=stranger.person)
    assert (event.allowed, event.action, event.reason) == (False, "record.read", "no_relationship")


def test_a_closed_child_space_is_not_listed_and_reading_it_is_forbidden(represented_child, client_for):
    parent, child = represented_child
    child.status = SpaceStatus.ARCHIVED
    child.save()
    client = client_for(parent)

    assert fhir_json(client.get("/fhir/Patient"))["total"] == 1
    response = client.get(f"/fhir/Patient/{child.uuid}")
    assert response.status_code == 403
    assert fhir_json(response)["issue"][0]["code"] == "forbidden"
