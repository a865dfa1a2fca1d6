"""The administrateur de santé blocks and unblocks professionals for the holder (Action.BLOCK_ON_BEHALF): recorded
with them as the actor, the holder told; never themselves, the médecin traitant or another administrateur; they
lift only blocks an administrateur made; no other sharing power; a professional without the role is refused and
the refusal recorded."""

import itertools

import pytest

from carnet.identity.enums import SpaceStatus
from carnet.notifications.models import Notification
from carnet.sharing import actions
from carnet.sharing.actions import SharingError
from carnet.sharing.models import AccessEvent, Authorisation, Block, CareRole, Professional
from carnet.sharing.policy import Action, PolicyDenied, Role, decide

pytestmark = pytest.mark.django_db
_rpps = itertools.count(50000000001)


def pro(profession="10") -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name="Durand", given_names="Alice",
                                       profession_code=profession)


@pytest.fixture
def space(family):
    holder = family.person(status=SpaceStatus.ACTIVE)
    admin, mt, other = pro(), pro(), pro()
    for professional in (admin, mt, other):
        Authorisation.objects.create(person=holder, professional=professional, granted_by=holder)
    CareRole.objects.create(person=holder, professional=admin, kind="administrateur_sante")
    CareRole.objects.create(person=holder, professional=mt, kind="medecin_traitant")
    return holder, admin, mt, other


def test_the_administrator_blocks_for_the_holder(space):
    holder, admin, _mt, other = space
    assert decide(admin, Action.BLOCK_ON_BEHALF, holder).reason == "administrateur_sante"
    row = actions.block(admin, holder, other)
    assert (row.blocked_by_id, row.blocked_by_professional_id) == (None, admin.pk)
    assert decide(other, Action.READ_RECORD, holder).reason == "blocked"
    assert not Authorisation.objects.filter(person=holder, professional=other, revoked_at__isnull=True).exists()
    traced = AccessEvent.objects.filter(person=holder, professional=admin).order_by("sequence")
    assert [(e.action, e.actor_role, e.allowed) for e in traced] == [
        ("sharing.block", Role.PROFESSIONAL, True), ("sharing.revoke", Role.PROFESSIONAL, True)]
    notice = Notification.objects.get(person=holder, code="blocked_on_behalf")
    assert "Durand" not in notice.title


def test_the_administrator_unblocks_only_what_an_administrator_blocked(space):
    holder, admin, _mt, other = space
    actions.block(admin, holder, other)
    actions.unblock(admin, holder, other)
    assert decide(other, Action.READ_RECORD, holder).reason == "no_authorisation"  # own authorisation is gone
    actions.block(holder, holder, other)
    with pytest.raises(SharingError) as refused:
        actions.unblock(admin, holder, other)
    assert refused.value.code == "holder_block"
    assert Block.objects.filter(person=holder, professional=other, lifted_at__isnull=True).exists()
    actions.unblock(holder, holder, other)  # the holder lifts any block


@pytest.mark.parametrize("target, code", [("admin", "self"), ("mt", "protected_role"),
                                          ("second_admin", "protected_role")])
def test_the_administrator_cannot_block_themselves_the_medecin_traitant_or_another_administrator(
        space, target, code):
    holder, admin, mt, _other = space
    second = pro()
    CareRole.objects.create(person=holder, professional=second, kind="administrateur_sante")
    professional = {"admin": admin, "mt": mt, "second_admin": second}[target]
    with pytest.raises(SharingError) as refused:
        actions.block(admin, holder, professional)
    assert refused.value.code == code
    assert not Block.objects.exists()


def test_a_professional_without_the_role_is_refused_and_traced(space, family):
    holder, admin, mt, other = space
    for actor in (mt, other):
        with pytest.raises(PolicyDenied) as denied:
            actions.block(actor, holder, admin)
        assert denied.value.decision.reason == "not_health_administrator"
    denials = AccessEvent.objects.filter(person=holder, allowed=False)
    assert sorted(denials.values_list("action", flat=True)) == ["sharing.block_on_behalf"] * 2
    elsewhere = family.person(status=SpaceStatus.ACTIVE)  # administrator here, not there
    with pytest.raises(PolicyDenied):
        actions.block(admin, elsewhere, other)
    CareRole.objects.filter(professional=admin).update(ended_at="2026-01-01T00:00Z")
    with pytest.raises(PolicyDenied):
        actions.block(admin, holder, other)
    assert not Block.objects.exists()


def test_the_administrator_has_no_other_sharing_power(space):
    holder, admin, _mt, other = space
    with pytest.raises(PolicyDenied) as denied:
        actions.authorise_professional(admin, holder, pro(), until=None)
    assert denied.value.decision.reason == "professional_not_allowed"
    assert decide(admin, Action.MANAGE_SHARING, holder).allowed is False
    assert decide(holder, Action.BLOCK_ON_BEHALF, holder).reason == "professionals_only"
