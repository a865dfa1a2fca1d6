"""Signed-in account pages: personal information, password, contact details, devices, notification
preferences, the notification centre and the access history."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from carnet.identity.enums import Channel
from carnet.identity.models import Account, DeviceSession
from carnet.notifications import actions as notification_actions
from carnet.notifications.enums import Kind
from carnet.notifications.models import Notification, NotificationPreference
from carnet.sharing.events import authorise
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import Action, PolicyDenied
from tests.conftest import PASSWORD, code_in, last_message_to

from .helpers import post_form, sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Nouveau-Mot2Passe!"


@pytest.fixture
def holder(family) -> Account:
    return family.holder()


@pytest.fixture
def browser(holder) -> Client:
    """The holder's browser: CSRF enforced, signed in with a live device."""
    client = Client(enforce_csrf_checks=True)
    sign_in(client, holder)
    return client


def h1_count(response) -> int:
    return len(re.findall(rb"<h1[\s>]", response.content))


@pytest.mark.parametrize("name", [
    "account", "password_change", "contact_change", "contact_change_confirm", "devices", "preferences",
    "notifications", "history",
])
def test_anonymous_visitor_is_sent_to_login(client, name):
    url = reverse(f"portal:{name}")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
    assert "next=" in response["Location"]


def test_session_without_live_device_is_signed_out(client, holder):
    client.force_login(holder)
    response = client.get(reverse("portal:account"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


@pytest.mark.parametrize("name", [
    "account", "password_change", "contact_change", "devices", "preferences", "notifications", "history",
])
def test_each_page_renders_with_one_h1_and_a_title(browser, name):
    response = browser.get(reverse(f"portal:{name}"))
    assert response.status_code == 200
    assert h1_count(response) == 1
    assert response.context["title"]


def test_account_page_shows_identity_read_only_and_login_details(browser, holder):
    person = holder.person
    response = browser.get(reverse("portal:account"))
    page = response.content.decode()
    assert person.family_name in page
    assert holder.username in page
    assert holder.email in page
    assert holder.phone in page
    nir = person.nir
    assert f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}" in page
    assert "Identifiant national de santé" in page
    assert "Activé" in page
    assert "caisse d&#x27;assurance maladie" in page or "caisse d'assurance maladie" in page
    assert "<input" not in page.split('id="identity-title"')[1].split("</section>")[0]
    for name in ("password_change", "contact_change", "devices"):
        assert reverse(f"portal:{name}") in page


# --- password -----------------------------------------------------------------------------------


def change_password(client, current, new, confirmation=None):
    url = reverse("portal:password_change")
    return post_form(client, url, {"current": current, "new_password": new,
                                   "confirmation": new if confirmation is None else confirmation})


def test_password_change_refuses_a_wrong_current_password(browser, holder):
    response = change_password(browser, "pas-le-bon", NEW_PASSWORD)
    assert response.status_code == 200
    assert "Mot de passe actuel incorrect." in response.content.decode()
    holder.refresh_from_db()
    assert holder.check_password(PASSWORD)


def test_password_change_refuses_a_weak_password(browser, holder):
    response = change_password(browser, PASSWORD, "motdepasse")
    assert response.status_code == 200
    assert response.context["form"].errors["new_password"]
    holder.refresh_from_db()
    assert holder.check_password(PASSWORD)


def test_password_change_refuses_a_different_confirmation(browser, holder):
    response = change_password(browser, PASSWORD, NEW_PASSWORD, "Autre-Chose-42!")
    assert response.context["form"].errors["confirmation"]
    holder.refresh_from_db()
    assert holder.check_password(PASSWORD)


def test_password_change_keeps_this_session_and_notifies(browser, holder):
    response = change_password(browser, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:account")
    holder.refresh_from_db()
    assert holder.check_password(NEW_PASSWORD)
    assert browser.get(reverse("portal:account")).status_code == 200
    assert Notification.objects.filter(person=holder.person, code="MOT_DE_PASSE_MODIFIE").exists()
    assert AccessEvent.objects.filter(person=holder.person, action="account.password_change").exists()


# --- contact details ----------------------------------------------------------------------------


def test_email_change_needs_the_password_then_the_code_sent_to_the_new_address(browser, holder):
    old_email = holder.email
    url = reverse("portal:contact_change")
    data = {"channel": "email", "value": "nouvelle@example.org"}
    response = post_form(browser, url, {**data, "password": "faux"})
    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert last_message_to("nouvelle@example.org") is None

    response = post_form(browser, url, {**data, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:contact_change_confirm")
    code = code_in(last_message_to("nouvelle@example.org").body)

    confirm = reverse("portal:contact_change_confirm")
    page = browser.get(confirm).content.decode()
    assert "n***@example.org" in page
    wrong = "000000" if code != "000000" else "111111"
    response = post_form(browser, confirm, {"code": wrong})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    holder.refresh_from_db()
    assert holder.email == old_email

    response = post_form(browser, confirm, {"code": code})
    assert response.status_code == 302
    holder.refresh_from_db()
    assert holder.email == "nouvelle@example.org"
    assert holder.otp_channel == Channel.EMAIL
    # The previous address is told, and the confirm page is done with.
    assert "modifiée" in last_message_to(old_email).body
    assert browser.get(confirm)["Location"] == reverse("portal:contact_change")


def test_mobile_change_by_sms(browser, holder):
    url = reverse("portal:contact_change")
    response = post_form(browser, url, {"channel": "sms", "value": "06 98 76 54 32", "password": PASSWORD})
    assert response.status_code == 302
    sms = last_message_to("+33698765432")
    assert sms.channel == "sms"
    response = post_form(browser, reverse("portal:contact_change_confirm"), {"code": code_in(sms.body)})
    assert response.status_code == 302
    holder.refresh_from_db()
    assert holder.phone == "+33698765432"
    assert holder.otp_channel == Channel.SMS


def test_contact_change_rejects_an_invalid_number(browser, holder):
    response = post_form(browser, reverse("portal:contact_change"),
                         {"channel": "sms", "value": "01 23 45 67 89", "password": PASSWORD})
    assert response.status_code == 200
    assert response.context["form"].errors["value"]


def test_contact_change_locks_after_repeated_wrong_passwords(browser, holder, settings):
    url = reverse("portal:contact_change")
    data = {"channel": "email", "value": "nouvelle@example.org", "password": "faux"}
    for _ in range(settings.CARNET_MAX_ATTEMPTS):
        post_form(browser, url, data)
    response = post_form(browser, url, {**data, "password": PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()
    assert last_message_to("nouvelle@example.org") is None


def test_a_code_issued_to_another_account_is_refused(browser, holder, family):
    other = family.holder()
    other_browser = Client()
    sign_in(other_browser, other)
    other_browser.post(reverse("portal:contact_change"),
                       {"channel": "email", "value": "vol@example.org", "password": PASSWORD})
    code = code_in(last_message_to("vol@example.org").body)
    stolen = other_browser.session["contact_change"]
    session = browser.session
    session["contact_change"] = stolen
    session.save()
    response = post_form(browser, reverse("portal:contact_change_confirm"), {"code": code})
    assert response.status_code == 200
    holder.refresh_from_db()
    assert holder.email != "vol@example.org"


# --- devices ------------------------------------------------------------------------------------


def test_devices_lists_my_devices_and_marks_this_one(browser, holder, family):
    sign_in(Client(), holder, user_agent="Firefox sur la tablette")
    stranger = family.holder()
    sign_in(Client(), stranger, user_agent="Navigateur de quelqu'un d'autre")
    response = browser.get(reverse("portal:devices"))
    page = response.content.decode()
    assert "Firefox sur la tablette" in page
    assert "quelqu" not in page
    assert page.count("Cet appareil") == 1


def test_signing_out_another_device_ends_that_session_only(browser, holder):
    tablet = Client()
    device = sign_in(tablet, holder, user_agent="Tablette")
    assert tablet.get(reverse("portal:account")).status_code == 200
    response = post_form(browser, reverse("portal:devices"),
                         {"action": "sign_out", "device": str(device.uuid)})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:devices")
    assert tablet.get(reverse("portal:account")).status_code == 302
    assert browser.get(reverse("portal:account")).status_code == 200
    device.refresh_from_db()
    assert device.ended_at is not None


def test_cannot_sign_out_someone_elses_device(browser, family):
    other_device = sign_in(Client(), family.holder())
    response = post_form(browser, reverse("portal:devices"),
                         {"action": "sign_out", "device": str(other_device.uuid)})
    assert response.status_code == 404
    other_device.refresh_from_db()
    assert other_device.ended_at is None


def test_sign_out_everywhere_ends_every_session_including_this_one(browser, holder):
    phone = Client()
    sign_in(phone, holder, user_agent="Téléphone")
    response = post_form(browser, reverse("portal:devices"), {"action": "everywhere"})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:login")
    assert phone.get(reverse("portal:account")).status_code == 302
    assert browser.get(reverse("portal:account")).status_code == 302
    assert not DeviceSession.objects.filter(account=holder, ended_at__isnull=True).exists()
    assert AccessEvent.objects.filter(person=holder.person, action="account.sign_out_everywhere").exists()


# --- notification preferences ------------------------------------------------------------------


def test_preferences_are_saved_and_security_emails_stay_on(browser, holder):
    data = {f"{kind}_email": "on" for kind in Kind.values}
    data.pop("documents_email")
    data.pop("account_email")  # a disabled box: whatever is posted, it stays on
    data["messages_sms"] = "on"
    response = post_form(browser, reverse("portal:preferences"), data)
    assert response.status_code == 302
    prefs = {p.kind: p for p in NotificationPreference.objects.filter(person=holder.person)}
    assert prefs[Kind.DOCUMENTS].email is False
    assert prefs[Kind.MESSAGES].sms is True
    assert prefs[Kind.ACCOUNT].email is True
    page = browser.get(reverse("portal:preferences")).content.decode()
    assert re.search(r'name="account_email"[^>]*disabled', page)
    assert not re.search(r'name="documents_email"[^>]*checked', page)
    assert re.search(r'name="messages_sms"[^>]*checked', page)


# --- notification centre -----------------------------------------------------------------------


@pytest.fixture
def inbox(holder, family):
    me = holder.person
    child = family.person(age=6, parent=me)
    old = notification_actions.notify(me, kind=Kind.ACCOUNT, code="A", title="Ancienne notification")
    new = notification_actions.notify(me, kind=Kind.FAMILY, code="B", title="Nouvelle notification",
                                      about=child)
    other = notification_actions.notify(family.holder().person, kind=Kind.ACCOUNT, code="C",
                                        title="Notification de quelqu'un d'autre")
    return old, new, other, child


def test_notification_centre_lists_mine_newest_first_with_the_profile_concerned(browser, inbox):
    old, new, other, child = inbox
    page = browser.get(reverse("portal:notifications")).content.decode()
    assert page.index(new.title) < page.index(old.title)
    assert other.title not in page
    assert f"Concerne : {child.full_name}" in page
    assert page.count("Non lue") == 2


def test_mark_read_unread_and_delete_my_notifications(browser, inbox):
    old, new, *_ = inbox
    url = reverse("portal:notifications")
    assert post_form(browser, url, {"action": "read", "notification": str(new.uuid)}).status_code == 302
    new.refresh_from_db()
    assert new.read_at is not None
    post_form(browser, url, {"action": "unread", "notification": str(new.uuid)})
    new.refresh_from_db()
    assert new.read_at is None
    post_form(browser, url, {"action": "delete", "notification": str(old.uuid)})
    assert not Notification.objects.filter(pk=old.pk).exists()


def test_cannot_touch_another_persons_notification(browser, inbox):
    *_, other, _child = inbox
    url = reverse("portal:notifications")
    for action in ("read", "delete"):
        response = post_form(browser, url, {"action": action, "notification": str(other.uuid)})
        assert response.status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_all_read_only_marks_mine(browser, inbox, holder):
    *_, other, _child = inbox
    post_form(browser, reverse("portal:notifications"), {"action": "all_read"})
    assert not Notification.objects.filter(person=holder.person, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_notification_centre_is_paginated(browser, holder):
    for i in range(25):
        Notification.objects.create(person=holder.person, kind=Kind.DOCUMENTS, code="D",
                                    title=f"Document {i:02d}")
    first = browser.get(reverse("portal:notifications"))
    assert len(first.context["page_obj"].object_list) == 20
    second = browser.get(reverse("portal:notifications") + "?page=2")
    assert len(second.context["page_obj"].object_list) == 5
    assert "Page 2 sur 2" in second.content.decode()


# --- access history ----------------------------------------------------------------------------


def test_history_shows_my_acts_and_strangers_denials_in_paris_time(browser, holder, family):
    stranger = family.holder().person
    with time_machine.travel(dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC), tick=False):
        with pytest.raises(PolicyDenied):
            authorise(stranger, Action.VIEW_SPACE, holder.person)
    change_password(browser, PASSWORD, NEW_PASSWORD)
    response = browser.get(reverse("portal:history"))
    page = response.content.decode()
    rows = response.context["page_obj"].object_list
    assert [e.action for e in rows][:2] == ["account.password_change", "space.view"]
    assert "Modification du mot de passe" in page
    assert "Vous" in page
    assert stranger.full_name in page
    assert "Consultation du profil" in page
    assert "Refusé" in page
    assert "15 janvier 2026 à 13:30" in page  # stored in UTC, shown in Europe/Paris
    assert "Intégrité vérifiée" in page


def test_history_warns_when_the_chain_is_broken(browser, holder):
    change_password(browser, PASSWORD, NEW_PASSWORD)
    AccessEvent.objects.filter(person=holder.person).update(action="account.login")  # tampering
    page = browser.get(reverse("portal:history")).content.decode()
    assert "a échoué" in page
