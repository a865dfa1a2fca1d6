"""Activation, opposition and new codes through the API: the same domain actions as the portal."""

import pytest

from carnet.identity.enums import SpaceStatus
from carnet.identity.models import Account, Opposition, Person
from tests.conftest import code_in, last_message_to

pytestmark = pytest.mark.django_db


def identity(person, code):
    return {"nir": person.nir, "vitale_serial": person.vitale_serial, "provisional_code": code}


def test_activation_then_login_gives_a_token_that_reads_me(api, family):
    person = family.person(status=SpaceStatus.NOTIFIED)
    code = family.code_for(person)

    response = api.post("/api/enrolment/activation", identity(person, code))
    assert response.status_code == 200, response.content
    ticket = response.json()
    assert ticket["given_names"] == person.given_names
    assert ticket["suggested_email"] == person.email

    response = api.post("/api/enrolment/activation/otp", {
        "activation_token": ticket["activation_token"], "channel": "email", "destination": "moi@example.org",
    })
    assert response.status_code == 200, response.content
    sent = response.json()
    assert sent["masked_destination"] == "m***@example.org"
    otp_code = code_in(last_message_to("moi@example.org").body)

    response = api.post("/api/enrolment/activation/complete", {
        "activation_token": ticket["activation_token"], "otp_id": sent["otp_id"], "otp_code": otp_code,
        "username": "camille.api", "password": "Une-phrase-de-passe-2026", "accept_terms": True,
    })
    assert response.status_code == 201, response.content
    assert response.json() == {"username": "camille.api"}
    person.refresh_from_db()
    assert person.status == SpaceStatus.ACTIVE

    credentials = {"username": "camille.api", "password": "Une-phrase-de-passe-2026"}
    response = api.post("/api/auth/login", credentials)
    assert response.status_code == 200, response.content
    challenge = response.json()
    assert challenge["channel"] == "email"
    login_code = code_in(last_message_to("moi@example.org").body)
    response = api.post("/api/auth/login/otp", {"otp_id": challenge["otp_id"], "code": login_code,
                                                "device_name": "Pixel de Camille"})
    assert response.status_code == 200, response.content
    token = response.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0

    response = api.get("/api/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert response.status_code == 200, response.content
    me = response.json()
    assert me["id"] == str(person.uuid)
    assert me["ins"] == person.nir
    assert me["username"] == "camille.api"
    assert me["email"] == "moi@example.org"
    assert me["status"] == "active"


def test_wrong_nir_serial_or_code_get_the_same_400(api, family):
    person = family.person()
    code = family.code_for(person)
    other = family.person()

    answers = [
        api.post("/api/enrolment/activation", identity(person, "AAAA-BBBB-CCCC")),
        api.post("/api/enrolment/activation", {**identity(person, code), "vitale_serial": "999999999999"}),
        api.post("/api/enrolment/activation", {**identity(person, code), "nir": other.nir}),
        api.post("/api/enrolment/opposition", identity(person, "AAAA-BBBB-CCCC")),
    ]

    assert [a.status_code for a in answers] == [400] * 4
    assert len({a.content for a in answers}) == 1
    assert answers[0].json()["detail"].startswith("Les informations saisies ne correspondent pas")
    assert not Account.objects.filter(person=person).exists()


def test_five_failures_lock_the_nir_with_a_429(api, family):
    person = family.person()
    family.code_for(person)
    for _ in range(5):
        assert api.post("/api/enrolment/activation", identity(person, "AAAA-BBBB-CCCC")).status_code == 400
    response = api.post("/api/enrolment/activation", identity(person, "AAAA-BBBB-CCCC"))
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Trop de tentatives")


def test_opposition_keeps_only_the_proof(api, family):
    person = family.person(status=SpaceStatus.NOTIFIED)
    code = family.code_for(person)

    response = api.post("/api/enrolment/opposition", identity(person, code))

    assert response.status_code == 200, response.content
    proof = response.json()["proof_number"]
    assert Opposition.objects.filter(proof_number=proof).exists()
    assert not Person.objects.filter(pk=person.pk).exists()


def test_new_code_answers_the_same_whether_or_not_the_person_exists(api, family):
    person = family.person()
    matching = api.post("/api/enrolment/new-code", {
        "nir": person.nir, "vitale_serial": person.vitale_serial, "birth_date": person.birth_date.isoformat(),
    })
    unknown = api.post("/api/enrolment/new-code", {
        "nir": "185057800608436", "vitale_serial": "123456789012", "birth_date": "1985-05-01",
    })

    assert matching.status_code == unknown.status_code == 202
    assert matching.content == unknown.content
    assert "/code-provisoire/lien/" in last_message_to(person.email).body


def test_a_minor_attached_to_a_parent_cannot_self_activate(api, family):
    parent = family.holder()
    child = family.person(age=9, parent=parent.person)
    code = family.code_for(child)

    response = api.post("/api/enrolment/activation", identity(child, code))

    assert response.status_code == 400
    assert "représentant légal" in response.json()["detail"]


def test_invalid_body_is_a_422(api):
    response = api.post("/api/enrolment/activation", {"nir": "1"})
    assert response.status_code == 422


@pytest.mark.django_db
def test_an_oversized_body_gets_a_json_413(client):
    body = '{"nir": "%s", "vitale_serial": "1", "provisional_code": "x"}' % ("1" * 3_000_000)
    response = client.post("/api/enrolment/activation", data=body, content_type="application/json")
    assert response.status_code == 413 and response.json()["detail"]
