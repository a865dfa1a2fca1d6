"""The bearer token lookup (`device_for_token`) written as one plain SQL row: it must load exactly what the ORM
would, refuse what it refused, and cost one query per request (the last-seen write at most once a minute)."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carnet.identity.actions.login import device_for_token, open_device
from carnet.identity.models import Account, DeviceSession
from tests.api.conftest import sign_in

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_device_account_and_person_are_those_the_orm_loads_in_one_query(family):
    account = family.holder()
    device, token = open_device(account, kind=DeviceSession.Kind.API, user_agent="Téléphone")

    with CaptureQueriesContext(connection) as lookup:
        found = device_for_token(token)
    with CaptureQueriesContext(connection) as afterwards:
        person = found.account.person
        assert person.account.pk == account.pk  # the reverse side of the one-to-one, as select_related sets it

    assert len(lookup.captured_queries) == 1
    assert afterwards.captured_queries == []
    reference = DeviceSession.objects.select_related("account", "account__person").get(pk=device.pk)
    assert _fields(found) == _fields(reference)
    assert _fields(found.account) == _fields(reference.account)
    assert _fields(person) == _fields(reference.account.person)
    assert found.account.person.full_name == account.person.full_name


def test_an_operator_account_without_a_person_is_found_with_no_person(family):
    operator = Account.objects.create_user("operateur", None, is_staff=True)
    _device, token = open_device(operator, kind=DeviceSession.Kind.API)

    found = device_for_token(token)

    assert found is not None and found.account.pk == operator.pk
    assert found.account.person is None


def test_ended_idle_web_unknown_and_inactive_are_refused(family, settings):
    account = family.holder()
    ended, ended_token = open_device(account, kind=DeviceSession.Kind.API)
    DeviceSession.objects.filter(pk=ended.pk).update(ended_at=timezone.now())
    _idle, idle_token = open_device(account, kind=DeviceSession.Kind.API)
    _live, live_token = open_device(account, kind=DeviceSession.Kind.API)

    assert device_for_token(ended_token) is None
    assert device_for_token("x" * 43) is None
    assert device_for_token("") is None
    assert device_for_token(live_token).account.pk == account.pk
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.CARNET_API_TOKEN_IDLE_SECONDS + 5)):
        assert device_for_token(idle_token) is None
    Account.objects.filter(pk=account.pk).update(is_active=False)
    assert device_for_token(live_token) is None


def test_a_web_session_hash_is_never_a_token(family):
    account = family.holder()
    device, token = open_device(account, kind=DeviceSession.Kind.API)
    DeviceSession.objects.filter(pk=device.pk).update(kind=DeviceSession.Kind.WEB)

    assert device_for_token(token) is None


def test_last_seen_is_written_at_most_once_a_minute(family):
    account = family.holder()
    device, token = open_device(account, kind=DeviceSession.Kind.API)
    start = timezone.now()

    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        with CaptureQueriesContext(connection) as soon:
            device_for_token(token)
    with time_machine.travel(start + dt.timedelta(seconds=90), tick=False):
        with CaptureQueriesContext(connection) as later:
            device_for_token(token)
        touched = DeviceSession.objects.get(pk=device.pk).last_seen_at

    assert [q["sql"].split()[0] for q in soon.captured_queries] == ["SELECT"]
    assert [q["sql"].split()[0] for q in later.captured_queries] == ["SELECT", "UPDATE"]
    assert touched == start + dt.timedelta(seconds=90)


def test_an_api_request_spends_one_query_on_the_token(family):
    client = sign_in(family.holder())

    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/me").status_code == 200

    token_queries = [q for q in captured.captured_queries if "identity_devicesession" in q["sql"]]
    assert len(token_queries) == 1
