"""The policy for professionals, as a decision table (actor × document flags × authorisation state ×
profession), plus properties: a blocked professional never reads what they did not author; a masked
document is never read by a non-author who is neither médecin traitant nor administrateur de santé; the
SQL list agrees with the per-document decision; every allowed professional read is exactly one event.

Habilitation cells used (carnet/sharing/data/habilitation_matrix.csv, from ../shared/samples/habilitation):
médecin (10) reads everything but ATTEST-RESID; infirmier (60) reads 56445-0 and 11502-2, not 89601-9,
11488-4 unknown (refused); pharmacien (21) reads 11502-2, 11488-4 unknown (refused)."""

import datetime as dt
import itertools

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnet.identity.enums import SpaceStatus
from carnet.record import actions
from carnet.record.actions import Author
from carnet.record.enums import AuthorKind, DocumentSource
from carnet.record.visibility import documents_for_professional
from carnet.sharing.events import authorise
from carnet.sharing.models import (
    AccessEvent,
    ActivityPlace,
    Authorisation,
    Block,
    CareRole,
    CareTeam,
    CareTeamMember,
    Establishment,
    Professional,
)
from carnet.sharing.policy import Action, PolicyDenied, Role, decide
from tests.record.conftest import make_pdf

pytestmark = pytest.mark.django_db
_rpps = itertools.count(10000000001)


def pro(profession="10", **fields) -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name="Martin", given_names="Claire",
                                       profession_code=profession, **fields)


def authorise_pro(person, professional, **fields) -> Authorisation:
    return Authorisation.objects.create(person=person, professional=professional, granted_by=person, **fields)


def doc(person, type_code, *, masked=False, author_rpps=""):
    return actions.add_document(None, person, content=make_pdf(f"{type_code} {masked} {author_rpps}"),
                                type_code=type_code, source=DocumentSource.PROFESSIONAL, masked=masked,
                                author=Author(AuthorKind.PROFESSIONAL, "Dr Auteur", author_rpps))


@pytest.fixture
def world(family):
    holder = family.person(status=SpaceStatus.ACTIVE)
    now = timezone.now()
    p = {name: pro(profession) for name, profession in [
        ("dr_auth", "10"), ("dr_mt", "10"), ("admin", "10"), ("dr_none", "10"), ("dr_blocked", "10"),
        ("dr_expired", "10"), ("dr_revoked", "10"), ("dr_team", "10"), ("dr_estab", "10"), ("nurse", "60"),
        ("pharm", "21")]}
    p["inactive"] = pro("10", active=False)
    for name in ("dr_auth", "dr_mt", "admin", "dr_blocked", "nurse", "pharm", "inactive"):
        authorise_pro(holder, p[name])
    authorise_pro(holder, p["dr_expired"], expires_at=now - dt.timedelta(days=1))
    authorise_pro(holder, p["dr_revoked"], revoked_at=now - dt.timedelta(hours=1))
    team = CareTeam.objects.create(name="Maison de santé des Tilleuls")
    CareTeamMember.objects.create(team=team, professional=p["dr_team"])
    Authorisation.objects.create(person=holder, care_team=team, granted_by=holder)
    hospital = Establishment.objects.create(finess="750000001", name="Hôpital de démonstration")
    ActivityPlace.objects.create(professional=p["dr_estab"], establishment=hospital)
    Authorisation.objects.create(person=holder, establishment=hospital, granted_by=holder)
    CareRole.objects.create(person=holder, professional=p["dr_mt"], kind="medecin_traitant")
    CareRole.objects.create(person=holder, professional=p["admin"], kind="administrateur_sante")
    Block.objects.create(person=holder, professional=p["dr_blocked"], blocked_by=holder)
    d = {
        "consult": doc(holder, "11488-4"),
        "consult_masked": doc(holder, "11488-4", masked=True),
        "certificate": doc(holder, "89601-9"),
        "medication_review": doc(holder, "56445-0"),
        "residence": doc(holder, "ATTEST-RESID"),
        "biology": doc(holder, "11502-2"),
        "own_masked": doc(holder, "11488-4", masked=True, author_rpps=p["dr_blocked"].rpps),
    }
    return holder, p, d


Y, N = True, False
DOCS = ("consult", "consult_masked", "certificate", "medication_review", "residence", "biology", "own_masked")
# actor: expected (allowed, reason) for each document of DOCS, in order.
TABLE = {
    "dr_auth": [(Y, "authorised"), (N, "masked"), (Y, "authorised"), (Y, "authorised"), (N, "habilitation"),
                (Y, "authorised"), (N, "masked")],
    "dr_mt": [(Y, "authorised")] * 4 + [(N, "habilitation"), (Y, "authorised"), (Y, "authorised")],
    "admin": [(Y, "authorised")] * 4 + [(N, "habilitation"), (Y, "authorised"), (Y, "authorised")],
    "dr_none": [(N, "no_authorisation")] * 7,
    "dr_blocked": [(N, "blocked")] * 6 + [(Y, "author")],
    "dr_expired": [(N, "no_authorisation")] * 7,
    "dr_revoked": [(N, "no_authorisation")] * 7,
    "dr_team": [(Y, "authorised"), (N, "masked"), (Y, "authorised"), (Y, "authorised"), (N, "habilitation"),
                (Y, "authorised"), (N, "masked")],
    "dr_estab": [(Y, "authorised"), (N, "masked"), (Y, "authorised"), (Y, "authorised"), (N, "habilitation"),
                 (Y, "authorised"), (N, "masked")],
    "nurse": [(N, "habilitation"), (N, "habilitation"), (N, "habilitation"), (Y, "authorised"),
              (N, "habilitation"), (Y, "authorised"), (N, "habilitation")],
    "pharm": [(N, "habilitation"), (N, "habilitation"), (N, "habilitation"), (N, "habilitation"),
              (N, "habilitation"), (Y, "authorised"), (N, "habilitation")],
    "inactive": [(N, "inactive_professional")] * 7,
}
CASES = [(actor, document, *expected) for actor, row in TABLE.items() for document, expected in zip(DOCS, row,
                                                                                                     strict=True)]
SPACE_CASES = [  # actor, action, allowed, reason
    ("dr_auth", Action.READ_RECORD, Y, "authorised"), ("dr_none", Action.READ_RECORD, N, "no_authorisation"),
    ("dr_none", Action.WRITE_RECORD, Y, "care_writer"), ("dr_blocked", Action.WRITE_RECORD, N, "blocked"),
    ("dr_blocked", Action.READ_RECORD, N, "blocked"), ("dr_team", Action.READ_RECORD, Y, "authorised"),
    ("dr_expired", Action.READ_RECORD, N, "no_authorisation"), ("inactive", Action.WRITE_RECORD, N,
                                                                "inactive_professional"),
    ("dr_mt", Action.MANAGE_ACCOUNT, N, "professional_not_allowed"),
    ("dr_mt", Action.MANAGE_REPRESENTATIVES, N, "professional_not_allowed"),
]


def test_the_table_has_at_least_sixty_cases():
    assert len(CASES) + len(SPACE_CASES) >= 60


@pytest.mark.parametrize("actor, document, allowed, reason", CASES)
def test_document_decisions(world, actor, document, allowed, reason):
    _holder, p, d = world
    decision = decide(p[actor], Action.READ_DOCUMENT, d[document])
    assert (decision.allowed, decision.reason, decision.role) == (allowed, reason, Role.PROFESSIONAL)
    listed = documents_for_professional(p[actor], d[document].person).filter(pk=d[document].pk).exists()
    assert listed == allowed  # the SQL list agrees with the decision


@pytest.mark.parametrize("actor, action, allowed, reason", SPACE_CASES)
def test_space_decisions(world, actor, action, allowed, reason):
    holder, p, _d = world
    decision = decide(p[actor], action, holder)
    assert (decision.allowed, decision.reason) == (allowed, reason)


def test_a_closed_or_not_yet_open_space_refuses_everyone(world, family):
    _holder, p, _d = world
    notified = family.person(status=SpaceStatus.NOTIFIED)
    authorise_pro(notified, p["dr_auth"])
    assert decide(p["dr_auth"], Action.READ_RECORD, notified).reason == "not_active"
    assert decide(p["dr_auth"], Action.WRITE_RECORD, notified).reason == "not_active"


def test_every_professional_read_is_one_event_and_every_denial_too(world):
    holder, p, d = world
    before = AccessEvent.objects.filter(person=holder).count()
    authorise(p["dr_auth"], Action.READ_DOCUMENT, d["consult"])
    with pytest.raises(PolicyDenied):
        authorise(p["dr_none"], Action.READ_DOCUMENT, d["consult"])
    events = list(AccessEvent.objects.filter(person=holder).order_by("-sequence")[:2])
    assert AccessEvent.objects.filter(person=holder).count() == before + 2
    denied, allowed = events
    assert (allowed.professional_id, allowed.allowed, allowed.subject, allowed.actor_role) == (
        p["dr_auth"].pk, True, f"document:{d['consult'].uuid}", Role.PROFESSIONAL)
    assert (denied.professional_id, denied.allowed, denied.reason) == (p["dr_none"].pk, False, "no_authorisation")
    assert allowed.actor_label == "Claire Martin"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    profession=st.sampled_from(["10", "60", "21", "50", "91"]),
    authorised=st.booleans(), blocked=st.booleans(), role=st.sampled_from(["", "medecin_traitant",
                                                                            "administrateur_sante",
                                                                            "pharmacien_correspondant"]),
    masked=st.booleans(), authored=st.booleans(),
    type_code=st.sampled_from(["11488-4", "89601-9", "56445-0", "ATTEST-RESID", "11502-2", "DOCPAT03"]),
)
def test_invariants(family, profession, authorised, blocked, role, masked, authored, type_code):
    holder = family.person(status=SpaceStatus.ACTIVE)
    professional = pro(profession)
    if authorised:
        authorise_pro(holder, professional)
    if blocked:
        Block.objects.create(person=holder, professional=professional)
    if role:
        CareRole.objects.create(person=holder, professional=professional, kind=role)
    document = doc(holder, type_code, masked=masked, author_rpps=professional.rpps if authored else "")
    decision = decide(professional, Action.READ_DOCUMENT, document)
    if blocked and not authored:
        assert not decision.allowed
    if masked and not authored and role not in ("medecin_traitant", "administrateur_sante"):
        assert not decision.allowed
    if not authorised and not authored:
        assert not decision.allowed
    if authored:
        assert decision.allowed
    assert documents_for_professional(professional, holder).filter(pk=document.pk).exists() == decision.allowed
    before = AccessEvent.objects.filter(person=holder).count()
    try:
        authorise(professional, Action.READ_DOCUMENT, document)
    except PolicyDenied:
        pass
    assert AccessEvent.objects.filter(person=holder).count() == before + 1


def test_a_professionals_first_access_is_notified_once_without_details(world, django_capture_on_commit_callbacks):
    from django.core import mail

    from carnet.notifications.models import Notification

    holder, p, d = world
    with django_capture_on_commit_callbacks(execute=True):
        authorise(p["dr_auth"], Action.READ_DOCUMENT, d["consult"])
        authorise(p["dr_auth"], Action.READ_RECORD, holder)
        authorise(p["dr_team"], Action.READ_RECORD, holder)
    notices = Notification.objects.filter(person=holder, code="first_professional_access")
    assert notices.count() == 2  # one per professional, not per access
    assert all("Martin" not in n.title and "11488" not in n.title for n in notices)
    assert all("Martin" not in m.body for m in mail.outbox)
