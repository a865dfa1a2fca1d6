"""Consent for care teams and establishments (issue 4: "initial consent is required", CSP R1111-46): being a member
of a team or practising at an establishment never opens a space by itself; the holder's authorisation of that team
or establishment does, for whoever is a member when they read (a professional who joined after the authorisation
included), until they leave or the authorisation ends; authorised elsewhere is not authorised here."""

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from carnet.identity.enums import SpaceStatus
from carnet.record import actions as record_actions
from carnet.record.actions import Author
from carnet.record.enums import AuthorKind, DocumentSource
from carnet.record.visibility import documents_for_professional
from carnet.sharing.models import (
    ActivityPlace,
    Authorisation,
    Block,
    CareTeam,
    CareTeamMember,
    Establishment,
    Professional,
)
from carnet.sharing.policy import Action, decide
from tests.record.conftest import make_pdf

pytestmark = pytest.mark.django_db
_rpps = itertools.count(60000000001)


def pro() -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name="Petit", given_names="Marc",
                                       profession_code="10")


@pytest.fixture
def setting(family):
    holder = family.person(status=SpaceStatus.ACTIVE)
    document = record_actions.add_document(
        None, holder, content=make_pdf("cr"), type_code="11488-4", source=DocumentSource.PROFESSIONAL,
        author=Author(AuthorKind.PROFESSIONAL, "Dr Autre", "10000000000"))
    team = CareTeam.objects.create(name="Maison de santé du Port")
    return holder, document, team


def reads(professional, holder, document) -> tuple[str, str, bool]:
    return (decide(professional, Action.READ_RECORD, holder).reason,
            decide(professional, Action.READ_DOCUMENT, document).reason,
            documents_for_professional(professional, holder).filter(pk=document.pk).exists())


DENIED = ("no_authorisation", "no_authorisation", False)
GRANTED = ("authorised", "authorised", True)


def test_membership_alone_grants_nothing(setting):
    holder, document, team = setting
    member = pro()
    CareTeamMember.objects.create(team=team, professional=member)
    assert reads(member, holder, document) == DENIED


def test_the_teams_authorisation_covers_its_members_including_one_who_joins_later(setting):
    holder, document, team = setting
    early = pro()
    CareTeamMember.objects.create(team=team, professional=early)
    Authorisation.objects.create(person=holder, care_team=team, granted_by=holder)
    assert reads(early, holder, document) == GRANTED
    late = pro()
    assert reads(late, holder, document) == DENIED
    CareTeamMember.objects.create(team=team, professional=late)
    assert reads(late, holder, document) == GRANTED
    CareTeamMember.objects.filter(team=team, professional=late).delete()  # leaving the team ends it
    assert reads(late, holder, document) == DENIED


def test_another_teams_or_another_persons_authorisation_does_not_count(setting, family):
    holder, document, team = setting
    other_team = CareTeam.objects.create(name="Centre de santé voisin")
    member = pro()
    CareTeamMember.objects.create(team=other_team, professional=member)
    Authorisation.objects.create(person=holder, care_team=team, granted_by=holder)
    elsewhere = family.person(status=SpaceStatus.ACTIVE)
    Authorisation.objects.create(person=elsewhere, care_team=other_team, granted_by=elsewhere)
    assert reads(member, holder, document) == DENIED
    assert decide(member, Action.READ_RECORD, elsewhere).reason == "authorised"


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_an_ended_team_authorisation_grants_nothing(setting, state):
    holder, document, team = setting
    member = pro()
    CareTeamMember.objects.create(team=team, professional=member)
    past = timezone.now() - dt.timedelta(hours=1)
    Authorisation.objects.create(person=holder, care_team=team, granted_by=holder,
                                 **({"revoked_at": past} if state == "revoked" else {"expires_at": past}))
    assert reads(member, holder, document) == DENIED


def test_a_blocked_member_of_an_authorised_team_reads_nothing(setting):
    holder, document, team = setting
    member = pro()
    CareTeamMember.objects.create(team=team, professional=member)
    Authorisation.objects.create(person=holder, care_team=team, granted_by=holder)
    Block.objects.create(person=holder, professional=member)
    assert reads(member, holder, document) == ("blocked", "blocked", False)


def test_establishments_practising_there_is_not_consent_its_authorisation_is(setting):
    holder, document, team = setting
    hospital = Establishment.objects.create(finess="330000001", name="CHU")
    doctor = pro()
    ActivityPlace.objects.create(professional=doctor, establishment=hospital)
    assert reads(doctor, holder, document) == DENIED
    Authorisation.objects.create(person=holder, establishment=hospital, granted_by=holder)
    assert reads(doctor, holder, document) == GRANTED
    # A team attached to the establishment: its members without an activity place there are not covered.
    team.establishment = hospital
    team.save()
    member = pro()
    CareTeamMember.objects.create(team=team, professional=member)
    assert reads(member, holder, document) == DENIED
