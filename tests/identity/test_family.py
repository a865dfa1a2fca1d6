"""Legal representatives and the coming-of-age job."""

import datetime as dt

import pytest
import time_machine

from carnet.cli.daily import run_daily
from carnet.common.dates import add_years, start_of_day, today
from carnet.identity import actions
from carnet.identity.actions.family import represented_profiles
from carnet.identity.enums import RepresentationKind, RepresentationStatus, SpaceStatus
from carnet.identity.models import ProvisionalCode, Representation
from carnet.notifications.models import Notification, OutboundMessage
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import Action, PolicyDenied, decide
from tests.conftest import code_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def parent_and_child(family):
    parent = family.holder()
    child = family.person(age=10, parent=parent.person, email=False)
    return parent.person, child


def test_the_attached_parent_activates_the_child_and_the_act_is_traced(parent_and_child):
    parent, child = parent_and_child
    with pytest.raises(actions.FamilyError):
        actions.activate_child(parent, child, certify=False)

    representation = actions.activate_child(parent, child, certify=True)

    child.refresh_from_db()
    assert child.status == SpaceStatus.ACTIVE
    assert representation.kind == RepresentationKind.ATTACHED_PARENT
    assert represented_profiles(parent) == [child]
    event = AccessEvent.objects.get(person=child, action="space.activate")
    assert event.actor == parent and event.actor_role == "representative"


def test_someone_else_cannot_activate_a_child_and_the_denial_is_recorded(family, parent_and_child):
    _, child = parent_and_child
    stranger = family.holder().person
    with pytest.raises(PolicyDenied):
        actions.activate_child(stranger, child, certify=True)
    assert AccessEvent.objects.filter(person=child, actor=stranger, allowed=False).exists()
    assert child.status != SpaceStatus.ACTIVE


def test_second_representative_invited_accepts_and_can_view(family, parent_and_child):
    parent, child = parent_and_child
    actions.activate_child(parent, child, certify=True)
    other = family.holder().person

    representation = actions.invite_representative(
        parent, child, nir=other.nir, family_name=other.family_name, given_name=other.first_name,
        birth_date=other.birth_date, kind=RepresentationKind.LEGAL_REPRESENTATIVE)
    assert representation.status == RepresentationStatus.INVITED
    assert not decide(other, Action.VIEW_SPACE, child)
    assert Notification.objects.filter(person=other, code="INVIT_ACCES_SECOND_RL").exists()

    actions.respond_to_invitation(other, representation.uuid, accept=True)

    assert decide(other, Action.VIEW_SPACE, child)
    assert Notification.objects.filter(person=parent, code="ACCORD_PARTAGE_PROFIL").exists()
    assert AccessEvent.objects.filter(person=child, actor=other, action="representative.accept").exists()


def test_invitee_must_have_an_active_space_and_matching_identity(family, parent_and_child):
    parent, child = parent_and_child
    actions.activate_child(parent, child, certify=True)
    inactive = family.person(status=SpaceStatus.CREATED)
    with pytest.raises(actions.FamilyError, match="Aucun espace"):
        actions.invite_representative(parent, child, nir=inactive.nir, family_name=inactive.family_name,
                                      given_name=inactive.first_name, birth_date=inactive.birth_date,
                                      kind=RepresentationKind.GUARDIAN)
    active = family.holder().person
    with pytest.raises(actions.FamilyError, match="Aucun espace"):
        actions.invite_representative(parent, child, nir=active.nir, family_name="Autrenom",
                                      given_name=active.first_name, birth_date=active.birth_date,
                                      kind=RepresentationKind.GUARDIAN)


def test_refused_invitation_gives_no_access_and_the_invitation_cannot_be_reused(family, parent_and_child):
    parent, child = parent_and_child
    actions.activate_child(parent, child, certify=True)
    other = family.holder().person
    representation = actions.invite_representative(
        parent, child, nir=other.nir, family_name=other.family_name, given_name=other.first_name,
        birth_date=other.birth_date, kind=RepresentationKind.GUARDIAN)
    actions.respond_to_invitation(other, representation.uuid, accept=False)
    assert not decide(other, Action.VIEW_SPACE, child)
    with pytest.raises(actions.FamilyError):
        actions.respond_to_invitation(other, representation.uuid, accept=True)


def test_a_representative_cannot_manage_the_parents_account_actions(family, parent_and_child):
    parent, child = parent_and_child
    actions.activate_child(parent, child, certify=True)
    assert not decide(parent, Action.MANAGE_ACCOUNT, child)  # credentials are the holder's alone


def test_the_attached_parent_cannot_be_removed_but_a_second_one_can(family, parent_and_child):
    parent, child = parent_and_child
    attached = actions.activate_child(parent, child, certify=True)
    other = family.holder().person
    second = actions.invite_representative(
        parent, child, nir=other.nir, family_name=other.family_name, given_name=other.first_name,
        birth_date=other.birth_date, kind=RepresentationKind.LEGAL_REPRESENTATIVE)
    actions.respond_to_invitation(other, second.uuid, accept=True)
    with pytest.raises(actions.FamilyError):
        actions.end_representation(other, attached.uuid)
    actions.end_representation(parent, second.uuid)
    assert not decide(other, Action.VIEW_SPACE, child)


def test_18th_birthday_ends_representation_and_sends_the_young_adult_their_own_notice(family, mailoutbox):
    parent = family.holder()
    birthday = today() + dt.timedelta(days=3)
    child = family.person(parent=parent.person, birth_date=add_years(birthday, -18) + dt.timedelta(days=1),
                          email=True)
    actions.activate_child(parent.person, child, certify=True)

    run_daily(birthday)  # the day before the birthday: nothing happens
    assert decide(parent.person, Action.VIEW_SPACE, child)

    run_daily(birthday + dt.timedelta(days=1))
    assert not decide(parent.person, Action.VIEW_SPACE, child)
    representation = Representation.objects.get(person=child)
    assert representation.status == RepresentationStatus.ENDED and representation.end_reason == "majority"
    assert Notification.objects.filter(person=parent.person, code="RAPPEL_CONSENT_RL_PASSAGE_MAJO").exists()
    # run_daily also delivers what is pending: the notice left through the mail backend, and its
    # text (which carries the code) was erased from the outbox table.
    assert OutboundMessage.objects.get(person=child, recipient=child.email).body_erased
    notice = next(m for m in mailoutbox if m.to == [child.email])
    assert "18 ans" in notice.body
    code = code_in(notice.body)
    assert ProvisionalCode.objects.get(person=child, used_at__isnull=True, revoked_at__isnull=True).sent_to == child

    # the young adult takes their space with their own code (it is ACTIVE, without an account yet)
    with time_machine.travel(start_of_day(birthday + dt.timedelta(days=2))):
        ticket = actions.begin_activation(child.nir, child.vitale_serial, code)
    assert ticket.person == child

    run_daily(birthday + dt.timedelta(days=2))  # idempotent: no second notice
    assert OutboundMessage.objects.filter(person=child, recipient=child.email).count() == 1


def test_a_child_never_activated_also_gets_their_notice_at_18(family):
    parent = family.person()
    child = family.person(parent=parent, birth_date=add_years(today(), -18), email=False)
    run_daily(today())
    letter = OutboundMessage.objects.get(person=child, channel="letter")
    assert child.family_name in letter.recipient and parent.full_name not in letter.recipient


def test_opening_job_moves_notified_spaces_after_the_window(family):
    person = family.person(opposition_deadline=today() - dt.timedelta(days=1))
    waiting = family.person(opposition_deadline=today())
    summary = dict(run_daily(today()))
    person.refresh_from_db()
    waiting.refresh_from_db()
    assert person.status == SpaceStatus.CREATED and waiting.status == SpaceStatus.NOTIFIED
    assert summary["open_spaces_after_opposition_window"].startswith("1 ")
    assert dict(run_daily(today()))["open_spaces_after_opposition_window"].startswith("0 ")
