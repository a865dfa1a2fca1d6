"""The holder's own account through the API: identity, password, contact details, devices."""

import pytest

from carnet.identity.enums import Channel
from tests.api.conftest import sign_in
from tests.conftest import PASSWORD, code_in, last_message_to

pytestmark = pytest.mark.django_db


def test_me_shows_identity_and_account(family):
    account = family.holder()
    body = sign_in(account).get("/api/me").json()

    assert body["family_name"] == account.person.family_name
    assert body["ins_system"] == "urn:oid:1.2.250.1.213.1.4.8"
    assert body["otp_channel"] == "email"
    assert body["username"] == account.username


def test_change_password_needs_the_current_one(family):
    account = family.holder()
    client = sign_in(account)

    wrong = client.put("/api/me/password", {"current_password": "nope", "new_password": "Autre-phrase-2026!"})
    assert wrong.status_code == 400
    assert wrong.json()["field"] == "current"

    ok = client.put("/api/me/password", {"current_password": PASSWORD, "new_password": "Autre-phrase-2026!"})
    assert ok.status_code == 204
    account.refresh_from_db()
    assert account.check_password("Autre-phrase-2026!")


def test_contact_change_sends_a_code_to_the_new_number(family):
    account = family.holder()
    client = sign_in(account)

    response = client.post("/api/me/contact",
                           {"channel": "sms", "value": "06 98 76 54 32", "password": PASSWORD})
    assert response.status_code == 200, response.content
    code = code_in(last_message_to("+33698765432").body)
    response = client.post("/api/me/contact/confirm", {"otp_id": response.json()["otp_id"], "code": code})

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "+33698765432"
    account.refresh_from_db()
    assert account.otp_channel == Channel.SMS


def test_contact_change_with_a_wrong_password_is_refused(family):
    client = sign_in(family.holder())
    response = client.post("/api/me/contact",
                           {"channel": "email", "value": "new@example.org", "password": "x"})
    assert response.status_code == 400
    assert response.json()["field"] == "password"


def test_devices_list_and_sign_out_another_device(family):
    account = family.holder()
    phone = sign_in(account, device_name="Téléphone")
    tablet = sign_in(account, device_name="Tablette")

    devices = phone.get("/api/me/devices").json()
    assert {d["user_agent"] for d in devices} == {"Téléphone", "Tablette"}
    [tablet_row] = [d for d in devices if d["user_agent"] == "Tablette"]
    assert not tablet_row["current"]

    assert phone.delete(f"/api/me/devices/{tablet_row['id']}").status_code == 204
    assert tablet.get("/api/me").status_code == 401
    assert phone.get("/api/me").status_code == 200


def test_another_accounts_device_is_a_404(family):
    mine, theirs = family.holder(), family.holder()
    client, their_client = sign_in(mine), sign_in(theirs)
    their_device = their_client.get("/api/me/devices").json()[0]["id"]

    assert client.delete(f"/api/me/devices/{their_device}").status_code == 404
    assert their_client.get("/api/me").status_code == 200
