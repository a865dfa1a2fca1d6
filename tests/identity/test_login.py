"""Login with password + one-time code, lockouts, password reset, contact change, devices."""

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from carnet.identity import actions
from carnet.identity.actions.login import device_for_token, open_device
from carnet.identity.enums import Channel, SpaceStatus
from carnet.identity.models import DeviceSession
from carnet.notifications.models import Notification
from tests.conftest import PASSWORD, code_in, last_message_to

pytestmark = pytest.mark.django_db


def login(account, password=PASSWORD):
    challenge = actions.begin_login(account.username, password)
    code = code_in(last_message_to(account.otp_destination()).body)
    return challenge, code


def test_login_needs_password_and_a_fresh_one_time_code(family):
    account = family.holder()
    challenge, code = login(account)
    assert challenge.masked_destination.startswith(account.email[0]) and "***@" in challenge.masked_destination
    assert actions.finish_login(challenge.otp_uuid, code) == account
    with pytest.raises(actions.LoginError):  # single use
        actions.finish_login(challenge.otp_uuid, code)


def test_login_code_can_go_by_sms(family):
    account = family.holder(channel=Channel.SMS)
    challenge = actions.begin_login(account.username, PASSWORD)
    sms = last_message_to("+33612345678")
    assert sms.channel == "sms" and challenge.channel == Channel.SMS
    assert actions.finish_login(challenge.otp_uuid, code_in(sms.body)) == account


def test_wrong_password_and_unknown_identifier_give_the_same_message(family):
    account = family.holder()
    with pytest.raises(actions.LoginError) as wrong_password:
        actions.begin_login(account.username, "Mauvais-mot-2026!")
    with pytest.raises(actions.LoginError) as unknown:
        actions.begin_login("personne.inconnue", PASSWORD)
    assert wrong_password.value.message == unknown.value.message


def test_five_wrong_passwords_lock_the_identifier(family, settings):
    account = family.holder()
    for _ in range(5):
        with pytest.raises(actions.LoginError):
            actions.begin_login(account.username, "Mauvais-mot-2026!")
    with pytest.raises(actions.LoginError, match="Trop de tentatives"):
        actions.begin_login(account.username, PASSWORD)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.CARNET_LOCKOUT_BASE_SECONDS + 1)):
        assert actions.begin_login(account.username, PASSWORD)


def test_five_wrong_one_time_codes_kill_the_code(family):
    account = family.holder()
    challenge, code = login(account)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(actions.LoginError):
            actions.finish_login(challenge.otp_uuid, wrong)
    with pytest.raises(actions.LoginError):
        actions.finish_login(challenge.otp_uuid, code)


def test_one_time_code_expires(family):
    account = family.holder()
    challenge, code = login(account)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        with pytest.raises(actions.LoginError):
            actions.finish_login(challenge.otp_uuid, code)


def test_a_space_that_is_not_active_cannot_log_in(family):
    account = family.holder()
    account.person.status = SpaceStatus.ARCHIVED
    account.person.save()
    with pytest.raises(actions.LoginError):
        actions.begin_login(account.username, PASSWORD)


def test_password_reset_by_one_time_code_signs_out_everywhere(family):
    account = family.holder()
    device, token = open_device(account, kind=DeviceSession.Kind.API)
    challenge = actions.begin_password_reset(account.username)
    code = code_in(last_message_to(account.email).body)

    with pytest.raises(actions.LoginError, match="9 caractères"):
        actions.finish_password_reset(challenge.otp_uuid, code, "court")
    actions.finish_password_reset(challenge.otp_uuid, code, "Nouveau-Secret-77")

    account.refresh_from_db()
    assert account.check_password("Nouveau-Secret-77")
    assert device_for_token(token) is None
    assert Notification.objects.filter(person=account.person, code="MOT_DE_PASSE_REINITIALISE").exists()


def test_password_reset_answers_the_same_for_an_unknown_identifier(family):
    challenge = actions.begin_password_reset("personne.inconnue")
    assert challenge.otp_uuid
    with pytest.raises(actions.LoginError):
        actions.finish_password_reset(challenge.otp_uuid, "123456", "Nouveau-Secret-77")


def test_change_password_needs_the_current_one(family):
    account = family.holder()
    with pytest.raises(actions.LoginError):
        actions.change_password(account, "faux", "Nouveau-Secret-77")
    actions.change_password(account, PASSWORD, "Nouveau-Secret-77")
    assert account.check_password("Nouveau-Secret-77")


def test_email_change_is_confirmed_by_a_code_sent_to_the_new_address(family):
    account = family.holder()
    old_email = account.email
    with pytest.raises(actions.LoginError):
        actions.begin_contact_change(account, Channel.EMAIL, "nouvelle@example.org", password="faux")
    challenge = actions.begin_contact_change(account, Channel.EMAIL, "nouvelle@example.org", password=PASSWORD)
    code = code_in(last_message_to("nouvelle@example.org").body)
    assert account.email == old_email  # nothing changes before confirmation

    actions.finish_contact_change(account, challenge.otp_uuid, code)

    account.refresh_from_db()
    assert account.email == "nouvelle@example.org"
    assert "modifiée" in last_message_to(old_email).body  # the old address is warned


def test_phone_change_switches_login_codes_to_sms(family):
    account = family.holder()
    challenge = actions.begin_contact_change(account, Channel.SMS, "07 11 22 33 44", password=PASSWORD)
    actions.finish_contact_change(account, challenge.otp_uuid, code_in(last_message_to("+33711223344").body))
    account.refresh_from_db()
    assert account.phone == "+33711223344" and account.otp_channel == Channel.SMS


def test_sign_out_everywhere_ends_web_sessions_and_app_tokens(family):
    account = family.holder()
    store = SessionStore()
    store["device"] = "x"
    store.create()
    open_device(account, kind=DeviceSession.Kind.WEB, session_key=store.session_key)
    _, token = open_device(account, kind=DeviceSession.Kind.API)
    assert device_for_token(token) is not None

    assert actions.sign_out_everywhere(account) == 2

    assert not Session.objects.filter(session_key=store.session_key).exists()
    assert device_for_token(token) is None


def test_app_tokens_expire_after_inactivity(family, settings):
    account = family.holder()
    _, token = open_device(account, kind=DeviceSession.Kind.API)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.CARNET_API_TOKEN_IDLE_SECONDS + 1)):
        assert device_for_token(token) is None


def test_username_reminder_goes_only_to_the_account_address(family):
    account = family.holder()
    person = account.person
    actions.send_username_reminder(person.nir, person.birth_date)
    assert account.username in last_message_to(account.email).body
    before = last_message_to(account.email).pk
    actions.send_username_reminder(person.nir, person.birth_date - dt.timedelta(days=1))
    assert last_message_to(account.email).pk == before


def test_password_change_signs_out_other_devices_but_keeps_this_one(family):
    account = family.holder()
    here, _ = open_device(account, kind=DeviceSession.Kind.WEB)
    _, app_token = open_device(account, kind=DeviceSession.Kind.API)
    actions.change_password(account, PASSWORD, "Nouveau-Secret-77", keep_device=here.uuid)
    here.refresh_from_db()
    assert here.ended_at is None and device_for_token(app_token) is None


def test_guesses_at_the_current_password_are_limited(family):
    account = family.holder()
    for _ in range(5):
        with pytest.raises(actions.LoginError):
            actions.change_password(account, "faux", "Nouveau-Secret-77")
    with pytest.raises(actions.LoginError) as error:
        actions.change_password(account, PASSWORD, "Nouveau-Secret-77")
    assert error.value.code == "locked"
