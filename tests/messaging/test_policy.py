"""The messaging rules as a decision table (decision 0013): who may start, reply, read and close, and why not."""

import pytest

from carnet.caregivers import actions as caregiver_actions
from carnet.identity.enums import SpaceStatus
from carnet.messaging.models import Conversation
from carnet.sharing import actions as sharing_actions
from carnet.sharing.policy import Action, Role, decide
from tests.messaging.conftest import from_doctor
from tests.pro.conftest import make_pro

pytestmark = pytest.mark.django_db
SEND, READ, CLOSE = Action.SEND_MESSAGE, Action.READ_MESSAGES, Action.CLOSE_CONVERSATION


def draft(person, professional):
    """What the person's side would start."""
    return Conversation(person=person, professional=professional, started_by_professional=False)


def answer(actor, action, target):
    decision = decide(actor, action, target)
    return decision.allowed, decision.reason, decision.role


def test_the_holder_writes_to_their_medecin_traitant_not_to_a_stranger(holder, doctor, treating, stranger_pro):
    assert answer(holder, SEND, draft(holder, doctor)) == (True, "holder", Role.HOLDER)
    assert answer(holder, SEND, draft(holder, stranger_pro)) == (False, "not_on_list", Role.HOLDER)


def test_an_authorised_professional_is_on_the_list(holder, stranger_pro):
    sharing_actions.authorise_professional(holder, holder, stranger_pro, until=None)
    assert answer(holder, SEND, draft(holder, stranger_pro))[0] is True


def test_a_blocked_or_struck_off_professional_cannot_be_written_to(holder, doctor, treating, stranger_pro):
    sharing_actions.block(holder, holder, stranger_pro)
    assert answer(holder, SEND, draft(holder, stranger_pro)) == (False, "recipient_blocked", Role.HOLDER)
    doctor.active = False
    doctor.save()
    assert answer(holder, SEND, draft(holder, doctor)) == (False, "recipient_inactive", Role.HOLDER)


def test_anyone_on_the_persons_side_replies_to_a_professional_who_wrote_first(holder, stranger_pro):
    conversation = from_doctor(stranger_pro, holder)  # not on the list: writing needs no authorisation
    assert answer(holder, SEND, conversation) == (True, "reply", Role.HOLDER)
    assert answer(holder, READ, conversation) == (True, "holder", Role.HOLDER)


def test_a_caregiver_writes_and_reads_for_the_person_they_help(holder, caregiver, delegation, doctor, treating):
    assert answer(caregiver, SEND, draft(holder, doctor)) == (True, "caregiver", Role.CAREGIVER)
    assert answer(caregiver, READ, holder) == (True, "caregiver", Role.CAREGIVER)
    assert answer(caregiver, CLOSE, from_doctor(doctor, holder))[:2] == (False, "professionals_only")


def test_an_ended_caregiver_no_longer_writes_nor_reads(holder, caregiver, delegation, doctor, treating):
    conversation = from_doctor(doctor, holder)
    caregiver_actions.end_delegation(holder, delegation.uuid)
    assert answer(caregiver, SEND, draft(holder, doctor)) == (False, "no_relationship", Role.NONE)
    assert answer(caregiver, READ, conversation) == (False, "no_relationship", Role.NONE)


def test_a_legal_representative_writes_for_the_child(represented_child):
    parent, child = represented_child
    paediatrician = make_pro("10")
    sharing_actions.assign_role(parent.person, child, paediatrician, "medecin_traitant")
    assert answer(parent.person, SEND, draft(child, paediatrician)) == (True, "legal_representative",
                                                                        Role.REPRESENTATIVE)


def test_a_stranger_person_has_no_relationship(family, holder, doctor, treating):
    other = family.holder().person
    assert answer(other, SEND, draft(holder, doctor)) == (False, "no_relationship", Role.NONE)
    assert answer(other, READ, from_doctor(doctor, holder))[:2] == (False, "no_relationship")


def test_a_professional_reads_writes_and_closes_only_their_own_conversations(holder, doctor, stranger_pro):
    conversation = from_doctor(doctor, holder)
    for action in (SEND, READ, CLOSE):
        assert answer(doctor, action, conversation) == (True, "own_conversation", Role.PROFESSIONAL)
        assert answer(stranger_pro, action, conversation) == (False, "no_relationship", Role.PROFESSIONAL)


def test_a_blocked_professional_neither_writes_nor_reads(holder, doctor):
    conversation = from_doctor(doctor, holder)
    sharing_actions.block(holder, holder, doctor)
    assert answer(doctor, SEND, conversation) == (False, "blocked", Role.PROFESSIONAL)
    assert answer(doctor, READ, conversation) == (False, "blocked", Role.PROFESSIONAL)
    started = Conversation(person=holder, professional=doctor, started_by_professional=True)
    assert answer(doctor, SEND, started) == (False, "blocked", Role.PROFESSIONAL)
    # and the holder's side cannot reply to them (they could not read it) until the holder unblocks them
    assert answer(holder, SEND, conversation) == (False, "recipient_blocked", Role.HOLDER)
    assert answer(holder, READ, conversation) == (True, "holder", Role.HOLDER)


def test_a_closed_conversation_is_read_but_takes_no_more_messages(holder, caregiver, delegation, doctor):
    conversation = from_doctor(doctor, holder)
    conversation.closed_at = conversation.opened_at
    assert answer(holder, SEND, conversation) == (False, "conversation_closed", Role.HOLDER)
    assert answer(caregiver, SEND, conversation) == (False, "conversation_closed", Role.CAREGIVER)
    assert answer(doctor, SEND, conversation) == (False, "conversation_closed", Role.PROFESSIONAL)
    assert answer(doctor, CLOSE, conversation) == (False, "conversation_closed", Role.PROFESSIONAL)
    assert answer(holder, READ, conversation)[0] and answer(doctor, READ, conversation)[0]


@pytest.mark.parametrize(("status", "professional_may_write"), [
    (SpaceStatus.ACTIVE, True), (SpaceStatus.CREATED, True), (SpaceStatus.NOTIFIED, False),
    (SpaceStatus.ARCHIVED, False)])
def test_a_professional_writes_to_spaces_open_for_filing(family, doctor, status, professional_may_write):
    person = family.person(status=status)
    started = Conversation(person=person, professional=doctor, started_by_professional=True)
    assert answer(doctor, SEND, started)[0] is professional_may_write


def test_the_persons_side_needs_an_active_space(holder, doctor, treating):
    conversation = from_doctor(doctor, holder)
    holder.status = SpaceStatus.ARCHIVED
    holder.save()
    conversation.person = holder
    assert answer(holder, SEND, conversation)[:2] == (False, "not_active")
    assert answer(holder, READ, conversation)[:2] == (False, "not_active")


def test_messaging_actions_ask_nothing_else_of_a_conversation(holder, doctor):
    conversation = from_doctor(doctor, holder)
    assert answer(holder, Action.EXPORT_SPACE, conversation)[:2] == (False, "no_relationship")
