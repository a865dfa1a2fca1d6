"""What a caregiver may and may not do, as a table through the one policy function, and the access events
their acts leave with the role "caregiver"."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnet.caregivers import actions
from carnet.caregivers.models import Delegation
from carnet.identity.enums import SpaceStatus
from carnet.medical.actions import entries
from carnet.record import actions as record
from carnet.record.errors import RecordError
from carnet.sharing.events import verify_chain
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import Action, PolicyDenied, Role, decide
from tests.record.conftest import make_pdf

pytestmark = pytest.mark.django_db

PDF = make_pdf("Ordonnance")

# Messaging too: a caregiver "writes to the holder's professionals" (issue 4, decision 0013).
ALLOWED = [Action.VIEW_SPACE, Action.READ_RECORD, Action.WRITE_RECORD, Action.READ_DOCUMENT, Action.SEND_MESSAGE,
           Action.READ_MESSAGES]
DENIED = [
    (Action.MANAGE_SHARING, "caregiver_not_allowed"),
    (Action.MANAGE_ACCOUNT, "caregiver_not_allowed"),
    (Action.MANAGE_REPRESENTATIVES, "caregiver_not_allowed"),
    (Action.MANAGE_CAREGIVERS, "caregiver_not_allowed"),
    (Action.DELETE_RECORD, "caregiver_not_allowed"),
    (Action.WRITE_WISHES, "caregiver_locked_section"),
    (Action.ACTIVATE_PROFILE, "not_attached_parent"),
]


@pytest.mark.parametrize("action", ALLOWED)
def test_a_caregiver_reads_adds_and_edits(holder, caregiver, delegation, action):
    decision = decide(caregiver, action, holder)
    assert decision.allowed and decision.role == Role.CAREGIVER and decision.reason == "caregiver"


@pytest.mark.parametrize("action,reason", DENIED)
def test_a_caregiver_never_manages_sharing_account_wishes_deletion(holder, caregiver, delegation, action, reason):
    decision = decide(caregiver, action, holder)
    assert not decision.allowed and decision.reason == reason


def test_every_action_not_listed_is_refused_to_a_caregiver(holder, caregiver, delegation):
    """An allow-list: closure, export or any action added later is refused until it is listed."""
    for action in Action:
        decision = decide(caregiver, action, holder)
        assert decision.allowed == (action in ALLOWED), action


@pytest.mark.parametrize("state", ["pending", "refused", "ended", "none"])
def test_without_an_accepted_delegation_in_force_nothing_is_allowed(family, holder, caregiver, state):
    from .conftest import invite

    if state != "none":
        row = invite(holder, caregiver)
        if state == "refused":
            actions.respond_to_invitation(caregiver, row.uuid, accept=False)
        elif state == "ended":
            actions.respond_to_invitation(caregiver, row.uuid, accept=True)
            actions.end_delegation(caregiver, row.uuid)
    for action in ALLOWED:
        decision = decide(caregiver, action, holder)
        assert not decision.allowed and decision.reason == "no_relationship" and decision.role == Role.NONE


def test_helping_one_person_gives_nothing_on_another(family, caregiver, delegation):
    other = family.holder(age=80).person
    assert decide(caregiver, Action.READ_RECORD, other).reason == "no_relationship"


def test_the_holder_gets_nothing_on_the_caregivers_space(holder, caregiver, delegation):
    assert decide(holder, Action.READ_RECORD, caregiver).reason == "no_relationship"


@pytest.mark.parametrize("who", ["holder", "caregiver"])
def test_a_closed_space_on_either_side_stops_the_access(holder, caregiver, delegation, who):
    person = holder if who == "holder" else caregiver
    person.status = SpaceStatus.ARCHIVED
    person.save()
    decision = decide(caregiver, Action.READ_RECORD, holder)
    assert not decision.allowed and decision.reason == "not_active"


def test_the_holder_and_representatives_keep_wishes_and_deletion(holder, represented_child):
    parent, child = represented_child
    for action in (Action.WRITE_WISHES, Action.DELETE_RECORD, Action.MANAGE_CAREGIVERS):
        assert decide(holder, action, holder).allowed
    assert decide(parent.person, Action.WRITE_WISHES, child).allowed
    assert decide(parent.person, Action.DELETE_RECORD, child).allowed
    assert decide(parent.person, Action.MANAGE_CAREGIVERS, child).reason == "holder_only"


# --- through the domain actions: what happens, and what is recorded --------------------------------------------


def test_a_caregivers_reads_and_writes_are_access_events_with_role_caregiver(holder, caregiver, delegation):
    document = record.add_document(caregiver, holder, content=PDF, filename="ordonnance.pdf", type_code="DOCPAT02")
    record.open_document(caregiver, holder, document.uuid)
    record.update_document(caregiver, holder, document, title="Ordonnance", type_code="DOCPAT02", act_date=None)
    entries.add_entry(caregiver, holder, "allergies", {"label": "Pollen"})
    mine = AccessEvent.objects.filter(person=holder, actor=caregiver)
    assert set(mine.values_list("actor_role", flat=True)) == {"caregiver"}
    done = set(mine.values_list("action", flat=True))
    assert {"document.add", "record.read", "document.edit", "record.write"} <= done
    assert document.author_person == caregiver
    assert verify_chain(holder)


def test_a_caregiver_cannot_delete_a_document_and_the_denial_is_recorded(holder, caregiver, delegation):
    document = record.add_document(holder, holder, content=PDF, filename="a.pdf", type_code="DOCPAT02")
    with pytest.raises(PolicyDenied) as exc:
        record.delete_document(caregiver, holder, document)
    assert exc.value.decision.reason == "caregiver_not_allowed"
    document.refresh_from_db()
    assert document.status == "current"
    assert AccessEvent.objects.filter(person=holder, actor=caregiver, action="record.delete", allowed=False).exists()


def test_a_caregiver_cannot_change_confidentiality(holder, caregiver, delegation):
    document = record.add_document(holder, holder, content=PDF, filename="a.pdf", type_code="DOCPAT02")
    with pytest.raises(PolicyDenied):
        record.set_confidentiality(caregiver, holder, document, masked=True)
    with pytest.raises(PolicyDenied):
        record.set_confidentiality_defaults(caregiver, holder, new_documents_masked=True, care_history_masked=True)
    document.refresh_from_db()
    assert not document.masked_to_professionals


def test_the_holder_still_deletes_and_masks(holder):
    document = record.add_document(holder, holder, content=io.BytesIO(PDF), filename="a.pdf", type_code="DOCPAT02")
    record.set_confidentiality(holder, holder, document, masked=True)
    record.delete_document(holder, holder, document)
    document.refresh_from_db()
    assert document.status == "deleted"


ENTOURAGE = {"roles": ["emergency"], "first_name": "Paul", "last_name": "Martin", "mobile": "0612345678"}


def test_entourage_and_organ_donation_are_locked_for_a_caregiver(holder, caregiver, delegation):
    for kind, data in (("entourage", ENTOURAGE), ("organ_donation", {"informed": "yes"})):
        with pytest.raises(PolicyDenied) as exc:
            entries.add_entry(caregiver, holder, kind, data)
        assert exc.value.decision.reason == "caregiver_locked_section"
    contact = entries.add_entry(holder, holder, "entourage", ENTOURAGE)
    with pytest.raises(PolicyDenied):
        entries.update_entry(caregiver, holder, contact.uuid, {**ENTOURAGE, "first_name": "Pierre"})
    with pytest.raises(PolicyDenied):
        entries.delete_entry(caregiver, holder, contact.uuid)
    assert entries.get_entry(caregiver, holder, contact.uuid).resource["name"][0]["given"] == ["Paul"]  # reads it
    assert AccessEvent.objects.filter(person=holder, actor=caregiver, action="record.write_wishes",
                                      allowed=False).count() == 4


def test_a_caregiver_sees_the_documents_a_representative_would(holder, caregiver, delegation):
    from carnet.record.visibility import visible_documents

    shown = record.add_document(holder, holder, content=PDF, filename="a.pdf", type_code="DOCPAT02")
    hidden = record.add_document(holder, holder, content=PDF, filename="b.pdf", type_code="DOCPAT02",
                                 hidden_from_representatives=True)
    held = record.add_document(None, holder, content=PDF, filename="c.pdf", type_code="DOCPAT02",
                               invisible_to_holder=True)
    seen = set(visible_documents(holder, Role.CAREGIVER))
    assert shown in seen and hidden not in seen and held not in seen
    with pytest.raises(RecordError):
        record.open_document(caregiver, holder, hidden.uuid)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    action=st.sampled_from(list(Action)),
    state=st.sampled_from(["pending", "accepted", "refused", "expired", "ended", "accepted_then_ended_at"]),
    holder_status=st.sampled_from(list(SpaceStatus)),
    caregiver_status=st.sampled_from(list(SpaceStatus)),
)
def test_property_a_caregiver_is_let_in_only_by_a_delegation_in_force(family, action, state, holder_status,
                                                                      caregiver_status):
    """Whatever the action and the states: allowed only with an accepted, not ended delegation, both spaces
    active, and an action of the caregiver's allow-list; always with a reason."""
    holder = family.person(age=80, status=holder_status)
    caregiver = family.person(age=50, status=caregiver_status)
    now = timezone.now()
    status = "accepted" if state == "accepted_then_ended_at" else state
    Delegation.objects.create(person=holder, caregiver=caregiver, status=status, declared_at=now,
                              expires_at=now + dt.timedelta(days=1 if state == "pending" else -1),
                              ended_at=now if state == "accepted_then_ended_at" else None)
    decision = decide(caregiver, action, holder)
    assert decision.reason
    if decision.allowed:
        assert state == "accepted" and action in ALLOWED and decision.role == Role.CAREGIVER
        assert holder.status == caregiver.status == SpaceStatus.ACTIVE
    elif state == "accepted" and action in ALLOWED:  # refused only because a space is not active
        assert not (holder.status == caregiver.status == SpaceStatus.ACTIVE) and decision.reason == "not_active"
