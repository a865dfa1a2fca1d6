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


# --- Emergency access (bris de glace, SAMU régulateur) ------------------------------------------------------------
# settings × masked × blocked × SAMU vs break-glass × expired, through `decide` and the SQL list.

def samu_centre() -> Establishment:
    return Establishment.objects.create(finess=f"9{next(_rpps) % 10**8:08d}", name="SAMU 75 — centre 15",
                                        samu_regulation=True)


def regulator(profession="10") -> Professional:
    professional = pro(profession)
    ActivityPlace.objects.create(professional=professional, establishment=samu_centre())
    return professional


def emergency_settings(person, **choices):
    from carnet.sharing.models import EmergencySettings

    EmergencySettings.objects.update_or_create(person=person, defaults=choices)


def open_access(professional, person, kind="break_glass"):
    from carnet.sharing.emergency import open_emergency_access

    return open_emergency_access(professional, person, kind=kind, reason="Patient inconscient aux urgences")


def expire(access):
    from carnet.sharing.models import EmergencyAccess

    past = timezone.now() - dt.timedelta(hours=1)
    EmergencyAccess.objects.filter(pk=access.pk).update(opened_at=past - dt.timedelta(hours=4), expires_at=past)


@pytest.fixture
def emergency_world(family):
    holder = family.person(status=SpaceStatus.ACTIVE)
    p = {"bg_doc": pro("10"), "samu_doc": regulator("10"), "bg_nurse": pro("60"), "bg_expired": pro("10"),
         "bg_blocked": pro("10"), "auth_bg": pro("10")}
    authorise_pro(holder, p["auth_bg"])
    for name in ("bg_doc", "bg_nurse", "bg_blocked", "auth_bg"):
        open_access(p[name], holder)
    open_access(p["samu_doc"], holder, kind="samu")
    expire(open_access(p["bg_expired"], holder))
    Block.objects.create(person=holder, professional=p["bg_blocked"])  # blocked after opening: still nothing
    d = {
        "consult": doc(holder, "11488-4"),
        "consult_masked": doc(holder, "11488-4", masked=True),
        "residence": doc(holder, "ATTEST-RESID"),
        "medication_review": doc(holder, "56445-0"),
        "biology_masked": doc(holder, "11502-2", masked=True),
    }
    return holder, p, d


E_DOCS = ("consult", "consult_masked", "residence", "medication_review", "biology_masked")
# actor: (masked documents hidden in an emergency (the default), shown) for each document of E_DOCS.
E_TABLE = {
    "bg_doc": [(Y, "emergency"), (N, "masked"), (N, "habilitation"), (Y, "emergency"), (N, "masked")],
    "samu_doc": [(Y, "samu"), (N, "masked"), (N, "habilitation"), (Y, "samu"), (N, "masked")],
    "bg_nurse": [(N, "habilitation"), (N, "habilitation"), (N, "habilitation"), (Y, "emergency"), (N, "masked")],
    "bg_expired": [(N, "no_authorisation")] * 5,
    "bg_blocked": [(N, "blocked")] * 5,
    "auth_bg": [(Y, "authorised"), (N, "masked"), (N, "habilitation"), (Y, "authorised"), (N, "masked")],
}
E_TABLE_SHOWN = {  # the same, when the holder chose to show masked documents in an emergency
    "bg_doc": [(Y, "emergency"), (Y, "emergency"), (N, "habilitation"), (Y, "emergency"), (Y, "emergency")],
    "samu_doc": [(Y, "samu"), (Y, "samu"), (N, "habilitation"), (Y, "samu"), (Y, "samu")],
    "bg_nurse": [(N, "habilitation"), (N, "habilitation"), (N, "habilitation"), (Y, "emergency"),
                 (Y, "emergency")],
    "bg_expired": [(N, "no_authorisation")] * 5,
    "bg_blocked": [(N, "blocked")] * 5,
    "auth_bg": [(Y, "authorised"), (Y, "emergency"), (N, "habilitation"), (Y, "authorised"), (Y, "emergency")],
}
E_CASES = [(shown, actor, document, *expected)
           for shown, table in ((False, E_TABLE), (True, E_TABLE_SHOWN))
           for actor, row in table.items() for document, expected in zip(E_DOCS, row, strict=True)]


@pytest.mark.parametrize("shown, actor, document, allowed, reason", E_CASES)
def test_emergency_document_decisions(emergency_world, shown, actor, document, allowed, reason):
    holder, p, d = emergency_world
    if shown:
        emergency_settings(holder, masked_visible=True)
    decision = decide(p[actor], Action.READ_DOCUMENT, d[document])
    assert (decision.allowed, decision.reason, decision.role) == (allowed, reason, Role.PROFESSIONAL)
    listed = documents_for_professional(p[actor], holder).filter(pk=d[document].pk).exists()
    assert listed == allowed  # the SQL list agrees with the decision


def _opening(professional, person, kind="break_glass", reason="Détresse respiratoire"):
    from carnet.sharing.emergency import EmergencyRequest

    return decide(professional, Action.EMERGENCY_ACCESS, EmergencyRequest(person, kind, reason))


# (samu_allowed, break_glass_allowed), who asks, kind, reason → (allowed, reason)
OPENING_CASES = [
    ((Y, Y), "doctor", "break_glass", "x", Y, "emergency"),
    ((Y, N), "doctor", "break_glass", "x", N, "emergency_refused"),
    ((N, Y), "doctor", "break_glass", "x", Y, "emergency"),  # independent settings
    ((Y, Y), "regulator", "samu", "x", Y, "samu"),
    ((N, Y), "regulator", "samu", "x", N, "samu_refused"),
    ((Y, N), "regulator", "samu", "x", Y, "samu"),  # independent settings
    ((Y, N), "regulator", "break_glass", "x", N, "emergency_refused"),
    ((Y, Y), "doctor", "samu", "x", N, "not_samu_regulator"),
    ((Y, Y), "nurse_at_samu", "samu", "x", N, "not_samu_regulator"),  # the law names the médecin régulateur
    ((Y, Y), "nurse", "break_glass", "x", Y, "emergency"),
    ((Y, Y), "doctor", "break_glass", "   ", N, "emergency_no_reason"),
    ((Y, Y), "regulator", "samu", "", N, "emergency_no_reason"),
    ((Y, Y), "blocked", "break_glass", "x", N, "blocked"),
    ((Y, Y), "blocked_regulator", "samu", "x", N, "blocked"),
    ((Y, Y), "inactive", "break_glass", "x", N, "inactive_professional"),
]


@pytest.mark.parametrize("choices, who, kind, reason, allowed, why", OPENING_CASES)
def test_emergency_opening_decisions(family, choices, who, kind, reason, allowed, why):
    holder = family.person(status=SpaceStatus.ACTIVE)
    emergency_settings(holder, samu_allowed=choices[0], break_glass_allowed=choices[1])
    actors = {"doctor": lambda: pro("10"), "regulator": lambda: regulator("10"), "nurse": lambda: pro("60"),
              "nurse_at_samu": lambda: regulator("60"), "inactive": lambda: pro("10", active=False)}
    if who.startswith("blocked"):
        professional = regulator("10") if who == "blocked_regulator" else pro("10")
        Block.objects.create(person=holder, professional=professional)
    else:
        professional = actors[who]()
    decision = _opening(professional, holder, kind, reason)
    assert (decision.allowed, decision.reason) == (allowed, why)


def test_emergency_opening_needs_an_active_space(family):
    notified = family.person(status=SpaceStatus.NOTIFIED)
    assert _opening(pro("10"), notified).reason == "not_active"


def test_emergency_space_reads(emergency_world):
    holder, p, _d = emergency_world
    assert decide(p["bg_doc"], Action.READ_RECORD, holder).reason == "emergency"
    assert decide(p["samu_doc"], Action.READ_RECORD, holder).reason == "samu"
    assert decide(p["bg_expired"], Action.READ_RECORD, holder).reason == "no_authorisation"
    assert decide(p["bg_blocked"], Action.READ_RECORD, holder).reason == "blocked"
    assert decide(p["bg_doc"], Action.MANAGE_SHARING, holder).reason == "professional_not_allowed"


def test_the_emergency_table_has_enough_cases():
    assert len(E_CASES) + len(OPENING_CASES) >= 60


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    profession=st.sampled_from(["10", "60", "21"]), blocked=st.booleans(), expired=st.booleans(),
    shown=st.booleans(), masked=st.booleans(), kind=st.sampled_from(["break_glass", "samu"]),
    type_code=st.sampled_from(["11488-4", "56445-0", "ATTEST-RESID", "11502-2"]),
)
def test_emergency_invariants(family, profession, blocked, expired, shown, masked, kind, type_code):
    """A blocked professional never reads, even in an emergency; an expired emergency access grants nothing; a
    masked document is read in an emergency only when the holder chose so; the SQL list agrees."""
    holder = family.person(status=SpaceStatus.ACTIVE)
    emergency_settings(holder, masked_visible=shown)
    professional = regulator(profession) if kind == "samu" else pro(profession)
    document = doc(holder, type_code, masked=masked)
    try:
        access = open_access(professional, holder, kind=kind)
    except PolicyDenied as exc:  # a nurse is no régulateur
        assert (kind, exc.decision.reason) == ("samu", "not_samu_regulator")
        access = None
    if access is not None and expired:
        expire(access)
    if blocked:
        Block.objects.create(person=holder, professional=professional)
    decision = decide(professional, Action.READ_DOCUMENT, document)
    if blocked or expired or access is None:
        assert not decision.allowed
    if masked and not shown:
        assert not decision.allowed
    if decision.allowed:
        assert decision.reason in ("emergency", "samu")
    assert documents_for_professional(professional, holder).filter(pk=document.pk).exists() == decision.allowed
