"""Inviting, answering, expiring and ending caregiver delegations: the limits, the identity check, the traces
left on the holder's chain and the notifications to the other side."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from carnet.caregivers import actions
from carnet.caregivers.enums import DelegationStatus
from carnet.caregivers.errors import CaregiverError
from carnet.caregivers.models import Delegation
from carnet.identity.enums import SpaceStatus
from carnet.notifications.models import Notification
from carnet.record.models import Document
from carnet.sharing.events import verify_chain
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import PolicyDenied

from .conftest import accepted, invite

pytestmark = pytest.mark.django_db


def events(person):
    return list(AccessEvent.objects.filter(person=person).order_by("sequence").values_list("action", "actor_role"))


def codes(person):
    return list(Notification.objects.filter(person=person).order_by("created_at", "id").values_list("code", flat=True))


def refused(code, call, *args, **kwargs):
    with pytest.raises(CaregiverError) as exc:
        call(*args, **kwargs)
    assert exc.value.code == code, exc.value.code
    return exc.value


# --- invitation ------------------------------------------------------------------------------------------------


def test_an_invitation_is_pending_traced_on_the_holder_chain_and_notified_to_the_invitee(holder, caregiver):
    delegation = invite(holder, caregiver)
    assert delegation.status == DelegationStatus.PENDING
    assert delegation.expires_at - delegation.created_at == dt.timedelta(days=actions.INVITATION_DAYS)
    assert events(holder) == [("caregiver.invite", "holder")]
    assert codes(caregiver) == ["PARTAGE_PROFIL_AIDANT"]
    notice = Notification.objects.get(person=caregiver)
    assert notice.about == holder and notice.url == "/aidants/"
    assert verify_chain(holder)


def test_no_invitation_without_the_sworn_declaration(holder, caregiver):
    refused("declaration", invite, holder, caregiver, sworn=False)
    assert not Delegation.objects.exists() and not AccessEvent.objects.filter(person=holder).exists()


@pytest.mark.parametrize("field,wrong", [
    ("family_name", "Autrenom"),
    ("given_name", "Autreprenom"),
    ("birth_date", dt.date(1970, 1, 2)),
])
def test_identity_traits_must_all_match_with_one_message_that_reveals_nothing(holder, caregiver, field, wrong):
    error = refused("not_found", invite, holder, caregiver, **{field: wrong})
    assert error.message == str(actions.NOT_FOUND)
    assert not Delegation.objects.exists()


def test_another_persons_nir_gives_the_same_message(holder, caregiver, family):
    other = family.holder(age=45).person
    error = refused("not_found", invite, holder, caregiver, nir=other.nir)
    assert error.message == str(actions.NOT_FOUND)


def test_names_are_compared_without_case_or_accents_and_the_first_given_name_is_required(family, holder):
    invitee = family.holder(age=50, family_name="Lefèvre", given_names="Élodie Marie").person
    refused("not_found", invite, holder, invitee, given_name="Marie")  # a second given name is not the first
    delegation = invite(holder, invitee, family_name="LEFEVRE", given_name="elodie")
    assert delegation.caregiver == invitee


@pytest.mark.parametrize("status", [SpaceStatus.NOTIFIED, SpaceStatus.CREATED, SpaceStatus.ARCHIVED])
def test_a_person_without_an_active_space_cannot_be_invited(family, holder, status):
    invitee = family.person(age=50, status=status)
    error = refused("not_found", invite, holder, invitee)
    assert error.message == str(actions.NOT_FOUND)


def test_an_active_space_without_a_login_cannot_be_invited(family, holder):
    refused("not_found", invite, holder, family.person(age=50, status=SpaceStatus.ACTIVE))


def test_repeated_failed_lookups_lock_the_inviter_for_a_while(holder, caregiver):
    for _ in range(5):
        refused("not_found", invite, holder, caregiver, family_name="Faux")
    refused("locked", invite, holder, caregiver)


def test_oneself_and_minors_cannot_be_caregivers(family, holder):
    refused("self", invite, holder, holder)
    minor = family.holder(age=16).person
    refused("minor", invite, holder, minor)


def test_a_second_invitation_while_one_is_pending_is_refused(holder, caregiver):
    invite(holder, caregiver)
    refused("pending_exists", invite, holder, caregiver)


def test_inviting_a_current_caregiver_again_is_refused(holder, caregiver, delegation):
    refused("already_has_access", invite, holder, caregiver)


def test_a_holder_has_at_most_three_caregivers_pending_invitations_included(family, holder):
    helpers = [family.holder(age=40 + i).person for i in range(4)]
    accepted(holder, helpers[0])
    accepted(holder, helpers[1])
    invite(holder, helpers[2])  # pending: counts
    refused("holder_at_maximum", invite, holder, helpers[3])
    assert Delegation.objects.filter(person=holder).count() == 3


def test_a_caregiver_helps_at_most_five_people_pending_invitations_included(family, caregiver):
    helped = [family.holder(age=70 + i).person for i in range(6)]
    for person in helped[:3]:
        accepted(person, caregiver)
    for person in helped[3:5]:
        invite(person, caregiver)  # pending: count
    refused("caregiver_at_maximum", invite, helped[5], caregiver)


def test_an_ended_delegation_frees_its_place(family, holder):
    helpers = [family.holder(age=40 + i).person for i in range(4)]
    first = accepted(holder, helpers[0])
    for helper in helpers[1:3]:
        accepted(holder, helper)
    actions.end_delegation(holder, first.uuid)
    assert invite(holder, helpers[3]).status == DelegationStatus.PENDING


def test_only_the_holder_invites_caregivers_not_their_representative(family, represented_child):
    parent, child = represented_child
    someone = family.holder(age=45).person
    with pytest.raises(PolicyDenied) as exc:
        actions.invite_caregiver(parent.person, child, nir=someone.nir, family_name=someone.family_name,
                                 given_name=someone.first_name, birth_date=someone.birth_date, sworn=True)
    assert exc.value.decision.reason == "holder_only"
    assert not Delegation.objects.exists()


def test_a_caregiver_cannot_invite_other_caregivers_for_the_helped_person(family, holder, caregiver, delegation):
    other = family.holder(age=45).person
    with pytest.raises(PolicyDenied) as exc:
        actions.invite_caregiver(caregiver, holder, nir=other.nir, family_name=other.family_name,
                                 given_name=other.first_name, birth_date=other.birth_date, sworn=True)
    assert exc.value.decision.reason == "caregiver_not_allowed"
    assert AccessEvent.objects.filter(person=holder, action="caregivers.manage", allowed=False,
                                      actor_role="caregiver").exists()


# --- answers ---------------------------------------------------------------------------------------------------


def test_accepting_files_a_certificate_traces_and_tells_the_holder(holder, caregiver):
    pending = invite(holder, caregiver)
    delegation = actions.respond_to_invitation(caregiver, pending.uuid, accept=True)
    assert delegation.status == DelegationStatus.ACCEPTED and delegation.responded_at
    assert ("caregiver.accept", "caregiver") in events(holder)
    assert delegation.certificate is not None
    assert Document.objects.filter(person=holder, type_code=actions.CERTIFICATE_TYPE).count() == 1
    assert codes(holder) == ["ACCORD_PARTAGE_PROFIL"]
    assert verify_chain(holder)


def test_refusing_ends_the_invitation_and_tells_the_holder_without_a_certificate(holder, caregiver):
    pending = invite(holder, caregiver)
    delegation = actions.respond_to_invitation(caregiver, pending.uuid, accept=False)
    assert delegation.status == DelegationStatus.REFUSED
    assert ("caregiver.refuse", "caregiver") in events(holder)
    assert codes(holder) == ["REFUS_PARTAGE_PROFIL"]
    assert not Document.objects.filter(person=holder).exists()
    # a refused invitation can be sent again later
    assert invite(holder, caregiver).status == DelegationStatus.PENDING


def test_only_the_invitee_can_answer(family, holder, caregiver):
    pending = invite(holder, caregiver)
    stranger = family.holder(age=30).person
    refused("not_valid", actions.respond_to_invitation, stranger, pending.uuid, accept=True)
    refused("not_valid", actions.respond_to_invitation, holder, pending.uuid, accept=True)
    pending.refresh_from_db()
    assert pending.status == DelegationStatus.PENDING


def test_an_answered_invitation_cannot_be_answered_again(holder, caregiver, delegation):
    refused("not_valid", actions.respond_to_invitation, caregiver, delegation.uuid, accept=False)


def test_an_invitation_expires_and_no_longer_counts(family, holder, caregiver):
    pending = invite(holder, caregiver)
    later = timezone.now() + dt.timedelta(days=actions.INVITATION_DAYS, hours=1)
    with time_machine.travel(later):
        refused("not_valid", actions.respond_to_invitation, caregiver, pending.uuid, accept=True)
        assert not actions.caregivers_of(holder).exists()
        assert "1 invitation" in actions.expire_invitations(timezone.localdate())
        assert "0 invitation" in actions.expire_invitations(timezone.localdate())  # idempotent
        pending.refresh_from_db()
        assert pending.status == DelegationStatus.EXPIRED
        assert ("caregiver.expire", "system") in events(holder)
        assert invite(holder, caregiver).status == DelegationStatus.PENDING  # may be invited again
    assert verify_chain(holder)


def test_an_expired_invitation_is_marked_when_the_same_person_is_invited_again(holder, caregiver):
    pending = invite(holder, caregiver)
    with time_machine.travel(timezone.now() + dt.timedelta(days=actions.INVITATION_DAYS + 1)):
        invite(holder, caregiver)
    pending.refresh_from_db()
    assert pending.status == DelegationStatus.EXPIRED


# --- the end ---------------------------------------------------------------------------------------------------


def test_the_caregiver_ends_it_the_holder_is_told_and_an_updated_certificate_is_filed(holder, caregiver, delegation):
    ended = actions.end_delegation(caregiver, delegation.uuid)
    assert ended.status == DelegationStatus.ENDED and ended.end_reason == "by_caregiver" and ended.ended_by == caregiver
    assert ("caregiver.end", "caregiver") in events(holder)
    assert "REVOCATION_PAR_AIDANT" in codes(holder)
    assert Document.objects.filter(person=holder, type_code=actions.CERTIFICATE_TYPE).count() == 2
    assert ended.certificate_id != delegation.certificate_id


def test_the_holder_ends_it_and_the_caregiver_is_told(holder, caregiver, delegation):
    ended = actions.end_delegation(holder, delegation.uuid)
    assert ended.end_reason == "by_holder"
    assert ("caregiver.end", "holder") in events(holder)
    notice = Notification.objects.get(person=caregiver, code="REVOCATION_PAR_AIDE")
    assert notice.about == holder
    assert Document.objects.filter(person=holder, type_code=actions.CERTIFICATE_TYPE).count() == 2


def test_the_holder_cancels_a_pending_invitation_without_a_certificate(holder, caregiver):
    pending = invite(holder, caregiver)
    ended = actions.end_delegation(holder, pending.uuid)
    assert ended.status == DelegationStatus.ENDED and ended.end_reason == "cancelled"
    assert ("caregiver.cancel", "holder") in events(holder)
    assert not Document.objects.filter(person=holder).exists()
    assert codes(caregiver) == ["PARTAGE_PROFIL_AIDANT", "REVOCATION_PAR_AIDE"]
    assert not actions.invitations_for(caregiver).exists()


def test_ending_twice_or_a_strangers_delegation_is_refused(family, holder, caregiver, delegation):
    stranger = family.holder(age=30).person
    with pytest.raises(PolicyDenied) as exc:
        actions.end_delegation(stranger, delegation.uuid)
    assert exc.value.decision.reason == "no_relationship"
    actions.end_delegation(caregiver, delegation.uuid)
    refused("not_found", actions.end_delegation, holder, delegation.uuid)
    refused("not_found", actions.end_delegation, caregiver, delegation.uuid)
