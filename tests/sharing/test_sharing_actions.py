"""The holder's sharing actions: authorise (professional, care team, establishment), end dates, revoke, block,
unblock, roles; who may do them (holder, legal representative; a stranger is refused and traced); every change
is an access event; and the effect through the policy (`decide`): authorised reads, revoked or blocked doesn't."""

import datetime as dt
import itertools

import pytest
import time_machine
from django.utils import timezone

from carnet.common.dates import today
from carnet.identity.enums import SpaceStatus
from carnet.sharing import actions
from carnet.sharing.actions import SharingError
from carnet.sharing.directory_search import search_care_teams, search_directory, search_establishments
from carnet.sharing.models import (
    AccessEvent,
    ActivityPlace,
    Authorisation,
    Block,
    CareRole,
    CareRoleKind,
    CareTeam,
    CareTeamMember,
    Establishment,
    Professional,
)
from carnet.sharing.policy import Action, PolicyDenied, decide

pytestmark = pytest.mark.django_db
_rpps = itertools.count(20000000001)
TOMORROW = dt.timedelta(days=1)


def pro(profession="10", family_name="Martin", given_names="Claire", **fields) -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name=family_name, given_names=given_names,
                                       profession_code=profession, **fields)


@pytest.fixture
def holder(family):
    return family.person(status=SpaceStatus.ACTIVE)


def events(person, action=None):
    rows = AccessEvent.objects.filter(person=person).order_by("sequence")
    return list(rows.filter(action=action) if action else rows)


def reads(professional, person) -> bool:
    return decide(professional, Action.READ_RECORD, person).allowed


# --- authorisations ------------------------------------------------------------------------------------------


def test_authorising_a_doctor_lets_them_read_and_is_an_access_event(holder):
    doctor = pro()
    assert not reads(doctor, holder)
    authorisation = actions.authorise_professional(holder, holder, doctor, until=None)
    assert authorisation.expires_at is None and authorisation.granted_by == holder
    assert reads(doctor, holder)
    [event] = events(holder, "sharing.authorise")
    assert event.actor == holder and event.actor_role == "holder"
    assert event.subject == f"professional:{doctor.uuid}" and event.allowed


def test_an_authorisation_until_a_date_lasts_through_that_day_in_paris(holder):
    doctor = pro()
    until = today() + dt.timedelta(days=30)
    authorisation = actions.authorise_professional(holder, holder, doctor, until=until)
    assert actions.until_of(authorisation) == until
    assert timezone.localtime(authorisation.expires_at).date() == until + TOMORROW
    assert reads(doctor, holder)
    with time_machine.travel(authorisation.expires_at - dt.timedelta(minutes=1)):
        assert reads(doctor, holder)
    with time_machine.travel(authorisation.expires_at + dt.timedelta(minutes=1)):
        assert not reads(doctor, holder)


@pytest.mark.parametrize("days", [0, -1, -400])
def test_an_end_date_today_or_past_is_refused(holder, days):
    with pytest.raises(SharingError) as refused:
        actions.authorise_professional(holder, holder, pro(), until=today() + dt.timedelta(days=days))
    assert refused.value.field == "until" and "postérieure à aujourd'hui" in refused.value.message
    assert not Authorisation.objects.filter(person=holder).exists()
    assert not events(holder)


def test_an_end_date_too_far_is_refused(holder):
    with pytest.raises(SharingError, match="10 ans"):
        actions.authorise_professional(holder, holder, pro(), until=dt.date(9999, 12, 31))


def test_authorising_twice_is_refused_with_a_readable_message(holder):
    doctor = pro()
    actions.authorise_professional(holder, holder, doctor, until=None)
    with pytest.raises(SharingError, match="déjà autorisé"):
        actions.authorise_professional(holder, holder, doctor, until=today() + TOMORROW)
    assert Authorisation.objects.filter(person=holder).count() == 1


def test_an_inactive_professional_cannot_be_authorised(holder):
    with pytest.raises(SharingError, match="actif"):
        actions.authorise_professional(holder, holder, pro(active=False), until=None)


def test_a_care_team_authorisation_lets_its_members_read(holder):
    member, outsider = pro(), pro()
    team = CareTeam.objects.create(name="Maison de santé des Tilleuls")
    CareTeamMember.objects.create(team=team, professional=member)
    authorisation = actions.authorise_care_team(holder, holder, team, until=today() + dt.timedelta(days=7))
    assert reads(member, holder) and not reads(outsider, holder)
    assert events(holder, "sharing.authorise")[0].subject == f"care_team:{team.uuid}"
    actions.revoke(holder, holder, authorisation)
    assert not reads(member, holder)


def test_an_establishment_authorisation_lets_its_professionals_read(holder):
    doctor = pro()
    hospital = Establishment.objects.create(finess="750000001", name="Hôpital de démonstration")
    ActivityPlace.objects.create(professional=doctor, establishment=hospital)
    actions.authorise_establishment(holder, holder, hospital, until=None)
    assert reads(doctor, holder)
    assert events(holder, "sharing.authorise")[0].subject == f"establishment:{hospital.uuid}"


def test_set_expiry_changes_the_end_and_is_traced(holder):
    doctor = pro()
    authorisation = actions.authorise_professional(holder, holder, doctor, until=None)
    until = today() + dt.timedelta(days=3)
    actions.set_expiry(holder, holder, authorisation, until)
    authorisation.refresh_from_db()
    assert actions.until_of(authorisation) == until
    actions.set_expiry(holder, holder, authorisation, None)
    authorisation.refresh_from_db()
    assert authorisation.expires_at is None
    assert len(events(holder, "sharing.expiry")) == 2
    with pytest.raises(SharingError, match="postérieure"):
        actions.set_expiry(holder, holder, authorisation, today())


def test_set_expiry_of_an_ended_authorisation_is_refused(holder):
    authorisation = actions.authorise_professional(holder, holder, pro(), until=None)
    actions.revoke(holder, holder, authorisation)
    with pytest.raises(SharingError, match="pris fin"):
        actions.set_expiry(holder, holder, authorisation, today() + TOMORROW)


def test_revoking_stops_reading_and_is_traced(holder):
    doctor = pro()
    authorisation = actions.authorise_professional(holder, holder, doctor, until=None)
    actions.revoke(holder, holder, authorisation)
    assert not reads(doctor, holder)
    assert authorisation.revoked_at is not None
    assert events(holder, "sharing.revoke")[0].subject == f"professional:{doctor.uuid}"
    with pytest.raises(SharingError, match="déjà été retirée"):
        actions.revoke(holder, holder, authorisation)


def test_a_declared_authorisation_can_be_revoked_by_the_holder(holder):
    doctor = pro()
    declared = Authorisation.objects.create(person=holder, professional=doctor, declared_by_professional=True)
    assert reads(doctor, holder)
    actions.revoke(holder, holder, declared)
    assert not reads(doctor, holder)


def test_another_persons_authorisation_cannot_be_touched(holder, family):
    other = family.person(status=SpaceStatus.ACTIVE)
    theirs = actions.authorise_professional(other, other, pro(), until=None)
    with pytest.raises(SharingError) as refused:
        actions.revoke(holder, holder, theirs)
    assert refused.value.code == "not_found"
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


# --- blocks ---------------------------------------------------------------------------------------------------


def test_blocking_overrides_every_authorisation_and_revokes_the_direct_one(holder):
    doctor = pro()
    team = CareTeam.objects.create(name="Centre de santé")
    CareTeamMember.objects.create(team=team, professional=doctor)
    actions.authorise_care_team(holder, holder, team, until=None)
    direct = actions.authorise_professional(holder, holder, doctor, until=None)
    actions.assign_role(holder, holder, doctor, CareRoleKind.MEDECIN_TRAITANT)
    row = actions.block(holder, holder, doctor)
    assert row.blocked_by == holder
    assert decide(doctor, Action.READ_RECORD, holder).reason == "blocked"
    direct.refresh_from_db()
    assert direct.revoked_at is not None
    assert not CareRole.objects.filter(person=holder, ended_at__isnull=True).exists()
    assert [e.action for e in events(holder)][-3:] == ["sharing.block", "sharing.revoke", "sharing.role_end"]
    with pytest.raises(SharingError, match="déjà bloqué"):
        actions.block(holder, holder, doctor)
    with pytest.raises(SharingError, match="débloquez"):
        actions.authorise_professional(holder, holder, doctor, until=None)
    with pytest.raises(SharingError, match="débloquez"):
        actions.assign_role(holder, holder, doctor, CareRoleKind.MEDECIN_TRAITANT)

    actions.unblock(holder, holder, doctor)
    assert reads(doctor, holder)  # through the care team, still authorised
    assert not actions.current_authorisations(holder).filter(professional=doctor).exists()  # own: not given back
    assert events(holder, "sharing.unblock")
    with pytest.raises(SharingError, match="n'est pas bloqué"):
        actions.unblock(holder, holder, doctor)


def test_a_professional_never_authorised_can_be_blocked(holder):
    stranger_doctor = pro()
    actions.block(holder, holder, stranger_doctor)
    assert Block.objects.filter(person=holder, professional=stranger_doctor, lifted_at__isnull=True).exists()
    assert decide(stranger_doctor, Action.WRITE_RECORD, holder).reason == "blocked"


# --- roles ----------------------------------------------------------------------------------------------------


def test_assigning_a_role_authorises_the_professional_and_is_traced(holder):
    doctor = pro()
    role = actions.assign_role(holder, holder, doctor, "medecin_traitant")
    assert role.kind == CareRoleKind.MEDECIN_TRAITANT and role.assigned_by == holder
    assert reads(doctor, holder)
    assert [e.action for e in events(holder)] == ["sharing.authorise", "sharing.role_assign"]


def test_an_already_authorised_professional_is_not_authorised_twice(holder):
    doctor = pro()
    actions.authorise_professional(holder, holder, doctor, until=today() + dt.timedelta(days=5))
    actions.assign_role(holder, holder, doctor, CareRoleKind.ADMINISTRATEUR_SANTE)
    assert Authorisation.objects.filter(person=holder, professional=doctor).count() == 1


@pytest.mark.parametrize("kind,profession", [
    (CareRoleKind.MEDECIN_TRAITANT, "10"),
    (CareRoleKind.SAGE_FEMME_REFERENTE, "50"),
    (CareRoleKind.PHARMACIEN_CORRESPONDANT, "21"),
])
def test_single_roles_are_held_by_one_professional_at_a_time(holder, kind, profession):
    first, second = pro(profession), pro(profession)
    old = actions.assign_role(holder, holder, first, kind)
    actions.assign_role(holder, holder, second, kind)
    old.refresh_from_db()
    assert old.ended_at is not None
    assert list(CareRole.objects.filter(person=holder, kind=kind, ended_at__isnull=True)
                .values_list("professional", flat=True)) == [second.pk]
    assert len(events(holder, "sharing.role_end")) == 1
    assert reads(first, holder)  # still authorised: ending a role is not revoking


def test_several_administrators_may_coexist(holder):
    nurse, pharmacist = pro("60"), pro("21")
    actions.assign_role(holder, holder, nurse, CareRoleKind.ADMINISTRATEUR_SANTE)
    actions.assign_role(holder, holder, pharmacist, CareRoleKind.ADMINISTRATEUR_SANTE)
    assert CareRole.objects.filter(person=holder, ended_at__isnull=True).count() == 2


@pytest.mark.parametrize("kind,profession,message", [
    (CareRoleKind.MEDECIN_TRAITANT, "60", "doit être un médecin"),
    (CareRoleKind.MEDECIN_TRAITANT, "21", "doit être un médecin"),
    (CareRoleKind.SAGE_FEMME_REFERENTE, "10", "doit être une sage-femme"),
    (CareRoleKind.PHARMACIEN_CORRESPONDANT, "10", "doit être un pharmacien"),
    ("chirurgien", "10", "Choisissez un rôle"),
])
def test_a_role_that_does_not_suit_the_profession_is_refused(holder, kind, profession, message):
    with pytest.raises(SharingError, match=message):
        actions.assign_role(holder, holder, pro(profession), kind)
    assert not CareRole.objects.filter(person=holder).exists()
    assert not Authorisation.objects.filter(person=holder).exists()
    assert not events(holder)


def test_the_same_role_twice_is_refused(holder):
    doctor = pro()
    actions.assign_role(holder, holder, doctor, CareRoleKind.MEDECIN_TRAITANT)
    with pytest.raises(SharingError, match="déjà ce rôle"):
        actions.assign_role(holder, holder, doctor, CareRoleKind.MEDECIN_TRAITANT)


def test_ending_a_role_is_traced_and_keeps_the_authorisation(holder):
    doctor = pro()
    role = actions.assign_role(holder, holder, doctor, CareRoleKind.MEDECIN_TRAITANT)
    actions.end_role(holder, holder, role)
    role.refresh_from_db()
    assert role.ended_at is not None and reads(doctor, holder)
    assert events(holder, "sharing.role_end")[0].subject == f"professional:{doctor.uuid}"
    with pytest.raises(SharingError, match="déjà pris fin"):
        actions.end_role(holder, holder, role)


def test_revoking_a_professional_ends_their_roles(holder):
    doctor = pro()
    actions.assign_role(holder, holder, doctor, CareRoleKind.MEDECIN_TRAITANT)
    actions.revoke(holder, holder, Authorisation.objects.get(person=holder, professional=doctor))
    assert not CareRole.objects.filter(person=holder, ended_at__isnull=True).exists()


# --- who may manage sharing ------------------------------------------------------------------------------------


def test_a_legal_representative_manages_the_childs_sharing(represented_child):
    parent, child = represented_child
    doctor = pro()
    authorisation = actions.authorise_professional(parent.person, child, doctor, until=None)
    actions.assign_role(parent.person, child, doctor, CareRoleKind.MEDECIN_TRAITANT)
    assert reads(doctor, child) and authorisation.granted_by == parent.person
    event = events(child, "sharing.authorise")[0]
    assert event.actor == parent.person and event.actor_role == "representative"
    actions.block(parent.person, child, doctor)
    assert not reads(doctor, child)


def test_a_stranger_is_refused_and_the_denial_recorded(holder, family):
    stranger = family.person(status=SpaceStatus.ACTIVE)
    doctor = pro()
    with pytest.raises(PolicyDenied) as denied:
        actions.authorise_professional(stranger, holder, doctor, until=None)
    assert denied.value.decision.reason == "no_relationship"
    assert not Authorisation.objects.filter(person=holder).exists()
    [event] = events(holder)
    assert (event.action, event.allowed, event.actor) == ("sharing.manage", False, stranger)
    authorisation = actions.authorise_professional(holder, holder, doctor, until=None)
    for attempt in (lambda: actions.revoke(stranger, holder, authorisation),
                    lambda: actions.block(stranger, holder, doctor),
                    lambda: actions.assign_role(stranger, holder, doctor, CareRoleKind.MEDECIN_TRAITANT),
                    lambda: actions.set_expiry(stranger, holder, authorisation, None)):
        with pytest.raises(PolicyDenied):
            attempt()
    assert len([e for e in events(holder) if not e.allowed]) == 5
    assert reads(doctor, holder)


def test_a_professional_cannot_manage_sharing(holder):
    doctor = pro()
    with pytest.raises(PolicyDenied):
        actions.block(doctor, holder, pro())
    assert decide(doctor, Action.MANAGE_SHARING, holder).reason == "professional_not_allowed"


def test_a_closed_space_cannot_change_its_sharing(family):
    archived = family.person(status=SpaceStatus.ARCHIVED)
    with pytest.raises(PolicyDenied):
        actions.authorise_professional(archived, archived, pro(), until=None)


def test_every_change_is_an_access_event_in_an_intact_chain(holder):
    from carnet.sharing.events import verify_chain

    doctor, midwife = pro(), pro("50")
    authorisation = actions.authorise_professional(holder, holder, doctor, until=None)
    actions.set_expiry(holder, holder, authorisation, today() + TOMORROW)
    role = actions.assign_role(holder, holder, midwife, CareRoleKind.SAGE_FEMME_REFERENTE)
    actions.end_role(holder, holder, role)
    actions.revoke(holder, holder, authorisation)
    actions.block(holder, holder, midwife)
    actions.unblock(holder, holder, midwife)
    assert [e.action for e in events(holder)] == [
        "sharing.authorise", "sharing.expiry", "sharing.authorise", "sharing.role_assign", "sharing.role_end",
        "sharing.revoke", "sharing.block", "sharing.revoke", "sharing.unblock"]
    assert all(e.allowed and e.actor == holder for e in events(holder))
    assert verify_chain(holder)


# --- directory search ------------------------------------------------------------------------------------------


def test_directory_search_by_name_prefix_and_profession():
    pro("10", "Dupont", "Marie"), pro("21", "Dupont", "Jean-Luc"), pro("10", "Durand", "Paul")
    pro("10", "Dupont", "Ancien", active=False)
    assert {p.given_names for p in search_directory("dup")} == {"Marie", "Jean-Luc"}
    assert [p.given_names for p in search_directory("dupont", "21")] == ["Jean-Luc"]
    assert [p.given_names for p in search_directory("luc dup")] == ["Jean-Luc"]
    assert [p.given_names for p in search_directory("Marie Dupont")] == ["Marie"]
    rpps = Professional.objects.get(given_names="Paul").rpps
    assert [p.family_name for p in search_directory(rpps)] == ["Durand"]


def test_directory_search_returns_at_most_twenty():
    for _ in range(25):
        pro("10", "Lefèvre", "Anne")
    assert len(search_directory("Lefèvre")) == 20


@pytest.mark.parametrize("name,profession,message", [
    ("", "", "au moins 2"), (" d ", "", "au moins 2"), ("x" * 101, "", "au plus"), ("Dupont", "999", "profession"),
])
def test_directory_search_refuses_unusable_input(name, profession, message):
    with pytest.raises(SharingError, match=message):
        search_directory(name, profession)


def test_care_teams_and_establishments_are_searched_by_name_or_finess():
    CareTeam.objects.create(name="Maison de santé des Tilleuls")
    Establishment.objects.create(finess="750000001", name="Hôpital Saint-Louis")
    assert [t.name for t in search_care_teams("tilleuls")] == ["Maison de santé des Tilleuls"]
    assert [e.finess for e in search_establishments("saint-louis")] == ["750000001"]
    assert [e.name for e in search_establishments("750000001")] == ["Hôpital Saint-Louis"]
