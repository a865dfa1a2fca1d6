"""Access events are chained per person and tamper evident; the policy is total and deny-by-default."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnet.identity.enums import RepresentationKind, RepresentationStatus, SpaceStatus
from carnet.identity.models import Representation
from carnet.sharing.events import record, verify_chain
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import REPRESENTATIVE_ACTIONS, Action, decide

pytestmark = pytest.mark.django_db


def test_chain_links_each_event_to_the_previous_one_of_the_same_person(family):
    alice, bob = family.person(status=SpaceStatus.ACTIVE), family.person(status=SpaceStatus.ACTIVE)
    first = record(alice, actor=alice, role="holder", action="account.login")
    record(bob, actor=bob, role="holder", action="account.login")
    second = record(alice, actor=bob, role="representative", action="space.view")

    assert (first.sequence, second.sequence) == (1, 2)
    assert second.previous_hash == first.hash
    assert verify_chain(alice) and verify_chain(bob)


def test_editing_or_deleting_an_event_breaks_the_chain(family):
    alice = family.person(status=SpaceStatus.ACTIVE)
    for action in ("a", "b", "c"):
        record(alice, actor=alice, role="holder", action=action)
    AccessEvent.objects.filter(person=alice, sequence=2).update(action="forged")
    assert not verify_chain(alice)

    bob = family.person(status=SpaceStatus.ACTIVE)
    for action in ("a", "b", "c"):
        record(bob, actor=bob, role="holder", action=action)
    AccessEvent.objects.filter(person=bob, sequence=2).delete()
    assert not verify_chain(bob)


def test_events_are_append_only(family):
    alice = family.person(status=SpaceStatus.ACTIVE)
    event = record(alice, actor=alice, role="holder", action="a")
    event.action = "changed"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    action=st.sampled_from(list(Action)),
    actor_status=st.sampled_from(list(SpaceStatus)),
    target_status=st.sampled_from(list(SpaceStatus)),
    relation=st.sampled_from(["self", "none", "invited", "accepted", "refused", "ended"]),
)
def test_policy_never_lets_a_stranger_or_a_pending_invitee_in(family, action, actor_status, target_status, relation):
    actor = family.person(status=actor_status)
    target = actor if relation == "self" else family.person(age=10, status=target_status)
    if relation not in ("self", "none"):
        Representation.objects.create(person=target, representative=actor, status=relation,
                                      kind=RepresentationKind.LEGAL_REPRESENTATIVE)
    decision = decide(actor, action, target)
    if relation in ("none", "invited", "refused", "ended") and action != Action.ACTIVATE_PROFILE:
        assert not decision.allowed
    if relation == "accepted" and decision.allowed:
        assert target.status == SpaceStatus.ACTIVE and action in REPRESENTATIVE_ACTIONS
        assert action not in (Action.MANAGE_ACCOUNT, Action.MANAGE_CAREGIVERS)  # the holder's own, whatever the list
    if relation == "self" and decision.allowed:
        assert actor.status == SpaceStatus.ACTIVE and action != Action.ACTIVATE_PROFILE
    if action == Action.ACTIVATE_PROFILE and decision.allowed:
        assert target.parent_id == actor.pk
    assert decision.reason
    Representation.objects.filter(person=target).delete()
    _ = RepresentationStatus  # statuses sampled above are the enum's values
