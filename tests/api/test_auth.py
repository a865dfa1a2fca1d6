"""Sign-in, tokens, sign-out and forgotten credentials through the API."""

import pytest

from carnet.identity.models import DeviceSession
from tests.api.conftest import ApiClient, sign_in
from tests.conftest import PASSWORD, code_in, last_message_to

pytestmark = pytest.mark.django_db


def test_no_token_is_a_401_naming_the_bearer_scheme(api):
    response = api.get("/api/me")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="carnet"'
    assert response.json()["detail"]


def test_an_unknown_token_is_a_401_invalid_token():
    response = ApiClient("not-a-token").get("/api/me")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_only_the_hash_of_the_token_is_stored(family):
    account = family.holder()
    client = sign_in(account, device_name="Téléphone")

    device = DeviceSession.objects.get(account=account, kind="api")
    assert device.user_agent == "Téléphone"
    assert client.token not in device.token_hash
    assert len(device.token_hash) == 64


def test_logout_revokes_the_token(family):
    client = sign_in(family.holder())
    assert client.get("/api/me").status_code == 200

    assert client.post("/api/auth/logout").status_code == 204

    assert client.get("/api/me").status_code == 401


def test_logout_everywhere_revokes_every_token(family):
    account = family.holder()
    phone, tablet = sign_in(account), sign_in(account)

    assert phone.post("/api/auth/logout-everywhere").status_code == 204

    assert phone.get("/api/me").status_code == 401
    assert tablet.get("/api/me").status_code == 401


def test_an_idle_token_expires(family, settings):
    client = sign_in(family.holder())
    settings.CARNET_API_TOKEN_IDLE_SECONDS = 0

    assert client.get("/api/me").status_code == 401


def test_wrong_password_and_wrong_otp_are_400(api, family):
    account = family.holder()
    response = api.post("/api/auth/login", {"username": account.username, "password": "nope"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Identifiant ou mot de passe incorrect.", "field": ""}

    response = api.post("/api/auth/login", {"username": account.username, "password": PASSWORD})
    otp_id = response.json()["otp_id"]
    response = api.post("/api/auth/login/otp", {"otp_id": otp_id, "code": "000000"})
    assert response.status_code == 400
    assert "access_token" not in response.json()


def test_unknown_username_gets_the_same_answer_as_a_wrong_password(api, family):
    account = family.holder()
    wrong = api.post("/api/auth/login", {"username": account.username, "password": "nope"})
    unknown = api.post("/api/auth/login", {"username": "personne.inconnue", "password": "nope"})
    assert wrong.content == unknown.content


def test_api_needs_no_csrf_token(family):
    """The API authenticates with a header, never a cookie: a CSRF-enforcing client gets through."""
    account = family.holder()
    client = ApiClient()
    response = client.post("/api/auth/login", {"username": account.username, "password": PASSWORD})
    assert response.status_code == 200


def test_password_reset_through_the_api(api, family):
    account = family.holder()
    other_device = sign_in(account)

    response = api.post("/api/auth/password-reset", {"username": account.username})
    assert response.status_code == 202
    otp_id = response.json()["otp_id"]
    code = code_in(last_message_to(account.email).body)
    response = api.post("/api/auth/password-reset/confirm", {
        "otp_id": otp_id, "code": code, "new_password": "Nouvelle-phrase-secrete-2026",
    })
    assert response.status_code == 204, response.content

    assert other_device.get("/api/me").status_code == 401  # signed out everywhere
    assert sign_in(account, password="Nouvelle-phrase-secrete-2026").get("/api/me").status_code == 200


def test_password_reset_answers_alike_for_an_unknown_username(api, family):
    response = api.post("/api/auth/password-reset", {"username": "personne.inconnue"})
    assert response.status_code == 202
    assert set(response.json()) == {"otp_id"}


def test_username_reminder_is_mailed_and_answers_alike(api, family):
    account = family.holder()
    person = account.person
    known = api.post("/api/auth/username-reminder",
                     {"nir": person.nir, "birth_date": person.birth_date.isoformat()})
    unknown = api.post("/api/auth/username-reminder", {"nir": "185057800608436", "birth_date": "1985-05-01"})

    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert account.username in last_message_to(account.email).body


def test_another_scheme_is_a_plain_bearer_challenge():
    response = ApiClient().get("/api/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="carnet"'


def test_sign_out_answers_204_with_no_body(family):
    response = sign_in(family.holder()).post("/api/auth/logout")

    assert response.status_code == 204
    assert response.content == b""
