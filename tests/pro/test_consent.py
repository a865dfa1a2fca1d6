"""declare_consent: the professional's declaration creates a permanent authorisation the holder sees and can
revoke, one access event in the same transaction, and a notice without health content or the professional's
name; refused when the policy refuses for another reason than the missing authorisation."""

import pytest

from carnet.identity.enums import SpaceStatus
from carnet.notifications.models import Notification, OutboundMessage
from carnet.sharing import actions as sharing_actions
from carnet.sharing.actions import SharingError
from carnet.sharing.consent import declare_consent
from carnet.sharing.models import AccessEvent, Authorisation, Block
from carnet.sharing.policy import Action, PolicyDenied, decide
from tests.portal.helpers import sign_in
from tests.pro.conftest import authorise, make_pro
from tests.pro.helpers import text

pytestmark = pytest.mark.django_db


def test_declaring_consent_authorises_permanently_and_is_traced(family, doctor):
    account = family.holder()
    person = account.person
    assert not decide(doctor, Action.READ_RECORD, person)
    authorisation = declare_consent(doctor, person)
    assert authorisation.declared_by_professional and authorisation.granted_by is None
    assert authorisation.expires_at is None and authorisation.professional == doctor
    assert decide(doctor, Action.READ_RECORD, person)
    [event] = AccessEvent.objects.filter(person=person)
    assert (event.action, event.allowed, event.professional, event.subject) == (
        "authorisation.declare", True, doctor, f"professional:{doctor.uuid}")
    notice = Notification.objects.get(person=person, code="authorisation_declared")
    assert notice.url == "/confidentialite/"
    assert doctor.family_name not in notice.title and doctor.given_names not in notice.title
    for message in OutboundMessage.objects.filter(person=person):
        assert doctor.family_name not in message.body and doctor.family_name not in message.subject


def test_the_holder_sees_the_declared_authorisation_and_can_revoke_it(client, family, doctor):
    account = family.holder()
    authorisation = declare_consent(doctor, account.person)
    sign_in(client, account)
    page = text(client.get("/confidentialite/"))
    assert doctor.full_name in page and "accord déclaré par le professionnel" in page
    sharing_actions.revoke(account.person, account.person, authorisation)
    assert not decide(doctor, Action.READ_RECORD, account.person)


def test_a_blocked_professional_cannot_declare_and_the_attempt_is_traced(family, doctor):
    person = family.person(status=SpaceStatus.ACTIVE)
    Block.objects.create(person=person, professional=doctor, blocked_by=person)
    with pytest.raises(PolicyDenied) as refused:
        declare_consent(doctor, person)
    assert refused.value.decision.reason == "blocked"
    assert not Authorisation.objects.filter(person=person).exists()
    [event] = AccessEvent.objects.filter(person=person)
    assert (event.action, event.allowed, event.reason) == ("authorisation.declare", False, "blocked")
    assert not Notification.objects.filter(person=person).exists()


@pytest.mark.parametrize("status", [SpaceStatus.CREATED, SpaceStatus.ARCHIVED])
def test_no_declaration_on_a_space_that_is_not_active(family, doctor, status):
    person = family.person(status=status)
    with pytest.raises(PolicyDenied):
        declare_consent(doctor, person)
    assert not Authorisation.objects.filter(person=person).exists()


def test_an_inactive_professional_cannot_declare(family):
    person = family.person(status=SpaceStatus.ACTIVE)
    with pytest.raises(PolicyDenied):
        declare_consent(make_pro("10", active=False), person)


def test_nothing_to_declare_when_already_authorised(family, doctor):
    person = family.person(status=SpaceStatus.ACTIVE)
    authorise(person, doctor)
    with pytest.raises(SharingError):
        declare_consent(doctor, person)
    assert Authorisation.objects.filter(person=person).count() == 1
    assert not AccessEvent.objects.filter(person=person).exists()


def test_a_failure_after_the_write_leaves_nothing_half_written(family, doctor, monkeypatch):
    person = family.person(status=SpaceStatus.ACTIVE)
    from carnet.sharing import consent

    def broken(*args, **kwargs):
        raise RuntimeError("notification down")

    monkeypatch.setattr(consent.notifications, "notify", broken)
    with pytest.raises(RuntimeError):
        declare_consent(doctor, person)
    assert not Authorisation.objects.filter(person=person).exists()
    assert not AccessEvent.objects.filter(person=person).exists()


def test_the_holders_history_shows_the_declaration_in_plain_french(client, family, doctor):
    account = family.holder()
    declare_consent(doctor, account.person)
    sign_in(client, account)
    page = text(client.get("/historique/", {"kind": "sharing"}))
    assert "Accord du patient déclaré par un professionnel" in page and doctor.full_name in page
