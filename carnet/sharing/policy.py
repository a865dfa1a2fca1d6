"""The one policy function: `decide(actor, action, target) -> Decision`.

Every face and every domain action asks it; nothing re-implements a rule. This first version knows
holders and legal representatives; professionals, caregivers, emergency access and rights holders
join it in the sharing issue. Messaging (a `carnet.messaging.models.Conversation` as target) is decided by
`_decide_conversation` (decision 0013).
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import ParamSpec, TypeVar

from django.utils.translation import gettext_lazy as _

from carnet.identity.enums import RepresentationStatus, SpaceStatus


class Action(StrEnum):
    VIEW_SPACE = "space.view"  # see the profile, its notifications and history
    MANAGE_ACCOUNT = "account.manage"  # credentials, contact details, devices: the holder only
    MANAGE_REPRESENTATIVES = "representatives.manage"  # invite or remove a second representative
    ACTIVATE_PROFILE = "profile.activate"  # a parent activates an attached child's space
    READ_RECORD = "record.read"  # read documents and the medical profile
    WRITE_RECORD = "record.write"  # add documents, edit the medical profile, folders, marks
    READ_DOCUMENT = "document.read"  # read one document (target: the Document)
    MANAGE_SHARING = "sharing.manage"  # authorise, revoke, block professionals; give them roles
    MANAGE_CAREGIVERS = "caregivers.manage"  # invite or remove caregivers (aidants): the holder only
    WRITE_WISHES = "record.write_wishes"  # entourage, organ donation, advance directives: not caregivers
    DELETE_RECORD = "record.delete"  # delete a document: the holder's side, not caregivers
    EXPORT_SPACE = "space.export"  # download the space's data or its access history: the holder's side, not caregivers
    # Professionals only:
    EMERGENCY_ACCESS = "sharing.emergency"  # open a space in an emergency (target: an emergency.EmergencyRequest)
    BLOCK_ON_BEHALF = "sharing.block_on_behalf"  # the administrateur de santé blocks/unblocks for the holder
    RELEASE_TO_HOLDER = "document.release"  # the author shows a held result to the holder (target: the Document)
    END_EMERGENCY_ACCESS = "sharing.emergency_end"  # end one's own emergency opening before its term
    # Messaging (decision 0013); target: the Person (the space's messaging) or a messaging Conversation.
    SEND_MESSAGE = "message.send"  # start a conversation or write in one
    READ_MESSAGES = "message.read"  # list the space's conversations, read one
    CLOSE_CONVERSATION = "message.close"  # the professional closes an exchange: no more replies


class Role(StrEnum):
    HOLDER = "holder"
    REPRESENTATIVE = "representative"
    CAREGIVER = "caregiver"
    PROFESSIONAL = "professional"
    SYSTEM = "system"
    NONE = "none"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    role: Role

    def __bool__(self) -> bool:
        return self.allowed


OPEN_STATUSES = {SpaceStatus.ACTIVE}
# Where professionals may already file documents: a space created after the opposition window, not yet activated
# (DESIGN.md §2: "professionals may add; the holder sees it once active"). Reading still needs ACTIVE.
FILING_STATUSES = {SpaceStatus.ACTIVE, SpaceStatus.CREATED}
# What a representative may do for the person they represent.
REPRESENTATIVE_ACTIONS = {Action.VIEW_SPACE, Action.MANAGE_REPRESENTATIVES, Action.READ_RECORD, Action.WRITE_RECORD,
                          Action.MANAGE_SHARING, Action.WRITE_WISHES, Action.DELETE_RECORD, Action.EXPORT_SPACE,
                          Action.SEND_MESSAGE, Action.READ_MESSAGES}
# What a caregiver (aidant) may do for the person they help: read, add and edit data and documents. Never
# sharing, account, representatives, caregivers, wishes, deletion, closure or export (an allow-list: an action
# added later is refused to caregivers until it is listed here). They write to the holder's professionals (issue 4).
CAREGIVER_ACTIONS = {Action.VIEW_SPACE, Action.READ_RECORD, Action.WRITE_RECORD, Action.READ_DOCUMENT,
                     Action.SEND_MESSAGE, Action.READ_MESSAGES}
DENIAL_MESSAGES = {
    "not_active": _("Cet espace n'est pas actif."),
    "no_relationship": _("Vous n'avez pas accès à cet espace."),
    "holder_only": _("Seul le titulaire de l'espace peut faire cela."),
    "not_attached_parent": _("Seul le parent de rattachement peut activer ce profil."),
    "not_minor": _("Ce profil n'est plus celui d'un mineur."),
    "blocked": _("Le titulaire de cet espace vous a bloqué."),
    "no_authorisation": _("Le titulaire ne vous a pas autorisé à consulter son espace."),
    "habilitation": _("Votre profession ne permet pas de consulter ce type de document."),
    "masked": _("Le titulaire a masqué ce document aux professionnels de santé."),
    "inactive_professional": _("Votre inscription au répertoire des professionnels n'est pas active."),
    "professional_not_allowed": _("Un professionnel de santé ne peut pas faire cela."),
    "private_section": _("Cette rubrique du profil médical est privée : seul le titulaire la voit."),
    "caregiver_not_allowed": _("Un aidant ne peut pas faire cela : seule la personne aidée le peut."),
    "caregiver_locked_section": _("L'entourage, le don d'organes et les directives anticipées ne sont pas "
                                  "modifiables par un aidant."),
    "professionals_only": _("Seul un professionnel de santé peut faire cela."),
    "emergency_no_reason": _("Indiquez le motif de l'accès en urgence."),
    "emergency_refused": _("Le titulaire s'est opposé à l'accès à son espace en situation d'urgence."),
    "samu_refused": _("Le titulaire s'est opposé à l'accès à son espace par le médecin régulateur du SAMU."),
    "not_samu_regulator": _("L'accès SAMU est réservé aux médecins régulateurs d'un centre 15."),
    "not_health_administrator": _("Seul l'administrateur de santé du titulaire peut bloquer un professionnel "
                                  "pour lui."),
    "not_author": _("Seul l'auteur de ce document peut le rendre visible au titulaire."),
    "no_emergency_access": _("Vous n'avez pas d'accès en urgence en cours à ce dossier."),
    "conversation_closed": _("Le professionnel a clos cet échange : il n'est plus possible d'y écrire."),
    "not_on_list": _("Vous pouvez écrire aux professionnels de santé que vous avez autorisés à consulter l'espace "
                     "ou à qui vous avez donné un rôle (médecin traitant…), ou répondre à ceux qui vous ont écrit."),
    "recipient_blocked": _("Ce professionnel de santé est bloqué : vous ne pouvez pas lui écrire."),
    "recipient_inactive": _("Ce professionnel de santé n'est plus inscrit au répertoire : vous ne pouvez pas lui "
                            "écrire."),
}
# Why a professional reads during an emergency access, by its kind (EmergencyAccess.kind).
EMERGENCY_REASONS = {"samu": "samu", "break_glass": "emergency"}
# Actions only a professional of the directory may ask for.
PROFESSIONAL_ONLY = {Action.EMERGENCY_ACCESS, Action.BLOCK_ON_BEHALF, Action.RELEASE_TO_HOLDER,
                     Action.END_EMERGENCY_ACCESS, Action.CLOSE_CONVERSATION}
MESSAGE_ACTIONS = {Action.SEND_MESSAGE, Action.READ_MESSAGES, Action.CLOSE_CONVERSATION}
# Roles on the holder's list that see masked documents.
SEES_MASKED = {"medecin_traitant", "administrateur_sante"}


def decide(actor, action: Action, target) -> Decision:
    """May `actor` (a Person, or a Professional of the directory) do `action` on `target` (a Person's space,
    or one Document for READ_DOCUMENT)? With the reason."""
    if actor is None or target is None:
        return Decision(False, "no_relationship", Role.NONE)
    from carnet.messaging.models import Conversation

    from .models import Professional

    if isinstance(target, Conversation):
        return _decide_conversation(actor, action, target)
    if isinstance(actor, Professional):
        return _decide_professional(actor, action, target)
    if action in PROFESSIONAL_ONLY:
        return Decision(False, "professionals_only", Role.NONE)
    if action == Action.ACTIVATE_PROFILE:
        if target.parent_id != actor.pk:
            return Decision(False, "not_attached_parent", Role.NONE)
        if not target.is_minor():
            return Decision(False, "not_minor", Role.NONE)
        if actor.status != SpaceStatus.ACTIVE:
            return Decision(False, "not_active", Role.NONE)
        return Decision(True, "attached_parent", Role.REPRESENTATIVE)
    if actor.pk == target.pk:
        if target.status not in OPEN_STATUSES:
            return Decision(False, "not_active", Role.HOLDER)
        return Decision(True, "holder", Role.HOLDER)
    represents = target.representations.filter(
        representative=actor, status=RepresentationStatus.ACCEPTED
    ).exists()
    if not represents:
        return _decide_caregiver(actor, action, target)
    if target.status not in OPEN_STATUSES:
        return Decision(False, "not_active", Role.REPRESENTATIVE)
    if action not in REPRESENTATIVE_ACTIONS:
        return Decision(False, "holder_only", Role.REPRESENTATIVE)
    return Decision(True, "legal_representative", Role.REPRESENTATIVE)


def _decide_caregiver(actor, action: Action, target) -> Decision:
    """Caregivers (aidants, carnet/caregivers): an accepted, not ended delegation from the holder lets the caregiver
    act in the space for CAREGIVER_ACTIONS only, while both spaces are active; entourage and wishes are locked."""
    from carnet.caregivers.models import Delegation

    if not Delegation.objects.active().filter(person=target, caregiver=actor).exists():
        return Decision(False, "no_relationship", Role.NONE)
    if target.status not in OPEN_STATUSES or actor.status not in OPEN_STATUSES:
        return Decision(False, "not_active", Role.CAREGIVER)
    if action == Action.WRITE_WISHES:
        return Decision(False, "caregiver_locked_section", Role.CAREGIVER)
    if action not in CAREGIVER_ACTIONS:
        return Decision(False, "caregiver_not_allowed", Role.CAREGIVER)
    return Decision(True, "caregiver", Role.CAREGIVER)


def _decide_conversation(actor, action: Action, conversation) -> Decision:
    """Messaging (decision 0013). A professional reads, writes in and closes only their own conversations, while
    they are active, not blocked, and the space is open for filing (FILING_STATUSES: writing needs no
    authorisation, as WRITE_RECORD). The person's side (holder, representative, caregiver: the allow-lists above)
    replies in a conversation the professional opened, and starts one (or writes in one they started) only with
    an active professional on the holder's list (authorised, directly or through a care team or establishment, or
    holding a role such as médecin traitant) and not blocked. Nobody writes in a closed conversation."""
    from .models import Professional

    person = conversation.person
    if action not in MESSAGE_ACTIONS:
        return Decision(False, "no_relationship", Role.NONE)
    if isinstance(actor, Professional):
        if conversation.professional_id != actor.pk:
            return Decision(False, "no_relationship", Role.PROFESSIONAL)
        if not actor.active:
            return Decision(False, "inactive_professional", Role.PROFESSIONAL)
        if person.status not in FILING_STATUSES:
            return Decision(False, "not_active", Role.PROFESSIONAL)
        if is_blocked(person, actor):
            return Decision(False, "blocked", Role.PROFESSIONAL)
        if action != Action.READ_MESSAGES and conversation.closed_at is not None:
            return Decision(False, "conversation_closed", Role.PROFESSIONAL)
        return Decision(True, "own_conversation", Role.PROFESSIONAL)
    space = decide(actor, action, person)  # holder, representative or caregiver, space active
    if not space.allowed or action == Action.READ_MESSAGES:
        return space
    if conversation.closed_at is not None:
        return Decision(False, "conversation_closed", space.role)
    professional = conversation.professional
    if not professional.active:
        return Decision(False, "recipient_inactive", space.role)
    if is_blocked(person, professional):  # they could not read it: the holder unblocks them first
        return Decision(False, "recipient_blocked", space.role)
    if conversation.started_by_professional and conversation.pk is not None:
        return Decision(True, "reply", space.role)
    if not (is_authorised(person, professional) or roles_of(person, professional)):
        return Decision(False, "not_on_list", space.role)
    return Decision(True, space.reason, space.role)


def _decide_professional(professional, action: Action, target) -> Decision:
    """The rules for professionals (the sharing issue): a block overrides everything but one's own
    documents; reading needs the holder's authorisation (direct, through a care team or an establishment);
    each document also needs the habilitation matrix's yes for the profession, and a masked document is
    for its author, the médecin traitant and the administrateur de santé only. Writing needs no
    authorisation (a professional may file a document without being able to read the space), and is possible
    from the end of the opposition window (CREATED: the holder sees it once they activate their space).

    Care teams and establishments: being a member of a team, or practising at an establishment, never opens a
    space by itself; only the holder's authorisation of that team or establishment (or of the professional) does
    (the issue: "initial consent is required" for care-team members). Consent given to a team covers whoever is
    its member when they read, a professional who joined after the authorisation included, and stops when they
    leave: CSP R1111-46 (consent to a care team "est réputé autorisé à l'ensemble des professionnels membres de
    l'équipe de soins") and DESIGN.md §1 ("authorised them or their care team/establishment"). The holder who
    does not want that authorises professionals one by one.

    Emergency (bris de glace, SAMU régulateur; carnet/sharing/emergency.py): opening needs a stated reason and
    the holder's emergency setting for that kind (allowed unless they opposed, CSP L1111-17 I); a blocked
    professional never opens. While an opening is in force, the professional reads as if authorised (reason
    "emergency" or "samu"): the habilitation matrix still applies, and a masked document only when the holder
    chose to show masked documents in an emergency (author, médecin traitant and administrateur de santé read
    it anyway). An expired opening grants nothing.

    A professional may end their own emergency opening early (END_EMERGENCY_ACCESS) while it is in force,
    whatever happened since. The administrateur de santé may block and unblock professionals for the holder
    (BLOCK_ON_BEHALF, nothing else of MANAGE_SHARING); the author of a document held for an announcement
    consultation may release it to the holder (RELEASE_TO_HOLDER)."""
    from carnet.record.models import Document

    from . import habilitation
    from .emergency import EmergencyRequest

    document = target if isinstance(target, Document) else None
    request = target if isinstance(target, EmergencyRequest) else None
    person = document.person if document is not None else request.person if request is not None else target
    if document is not None and action not in (Action.READ_DOCUMENT, Action.RELEASE_TO_HOLDER):
        return Decision(False, "professional_not_allowed", Role.PROFESSIONAL)
    if (request is not None) != (action == Action.EMERGENCY_ACCESS):
        return Decision(False, "professional_not_allowed", Role.PROFESSIONAL)
    if action == Action.RELEASE_TO_HOLDER and document is None:
        return Decision(False, "professional_not_allowed", Role.PROFESSIONAL)
    if action == Action.END_EMERGENCY_ACCESS:
        # Ending only takes access away: allowed whenever the professional's own opening is in force, even after
        # a block, a closure or the end of their registration (nothing is read).
        opening = emergency_in_force(person, professional) if document is None and request is None else None
        if opening is None:
            return Decision(False, "no_emergency_access", Role.PROFESSIONAL)
        return Decision(True, EMERGENCY_REASONS[opening.kind], Role.PROFESSIONAL)
    if not professional.active:
        return Decision(False, "inactive_professional", Role.PROFESSIONAL)
    if person.status not in OPEN_STATUSES and not (action == Action.WRITE_RECORD and person.status in FILING_STATUSES):
        return Decision(False, "not_active", Role.PROFESSIONAL)
    if document is not None:
        if document.status == "deleted":
            return Decision(False, "no_relationship", Role.PROFESSIONAL)
        if document.author_identifier and document.author_identifier in (professional.rpps, professional.national_id):
            return Decision(True, "author", Role.PROFESSIONAL)
        if action == Action.RELEASE_TO_HOLDER:
            return Decision(False, "not_author", Role.PROFESSIONAL)
    if is_blocked(person, professional):
        return Decision(False, "blocked", Role.PROFESSIONAL)
    if action == Action.WRITE_RECORD:
        return Decision(True, "care_writer", Role.PROFESSIONAL)
    if request is not None:
        return _decide_emergency_opening(professional, request)
    if action == Action.BLOCK_ON_BEHALF:
        if "administrateur_sante" in roles_of(person, professional):
            return Decision(True, "administrateur_sante", Role.PROFESSIONAL)
        return Decision(False, "not_health_administrator", Role.PROFESSIONAL)
    if action not in (Action.READ_RECORD, Action.READ_DOCUMENT):
        return Decision(False, "professional_not_allowed", Role.PROFESSIONAL)
    authorised = is_authorised(person, professional)
    emergency = None if authorised else emergency_in_force(person, professional)
    if not authorised and emergency is None:
        return Decision(False, "no_authorisation", Role.PROFESSIONAL)
    granted = "authorised" if emergency is None else EMERGENCY_REASONS[emergency.kind]
    if document is None:
        return Decision(True, granted, Role.PROFESSIONAL)
    if not habilitation.may_read(professional.profession_code, document.type_code):
        return Decision(False, "habilitation", Role.PROFESSIONAL)
    if document.masked_to_professionals and not roles_of(person, professional) & SEES_MASKED:
        if authorised:
            emergency = emergency_in_force(person, professional)
        if emergency is None or not emergency_settings_of(person).masked_visible:
            return Decision(False, "masked", Role.PROFESSIONAL)
        return Decision(True, EMERGENCY_REASONS[emergency.kind], Role.PROFESSIONAL)
    return Decision(True, granted, Role.PROFESSIONAL)


def _decide_emergency_opening(professional, request) -> Decision:
    """May this (active, unblocked) professional open the space in an emergency, as asked?"""
    from .emergency import is_samu_regulator
    from .models import EmergencyKind

    if not request.reason.strip():
        return Decision(False, "emergency_no_reason", Role.PROFESSIONAL)
    chosen = emergency_settings_of(request.person)
    if request.kind == EmergencyKind.SAMU:
        if not is_samu_regulator(professional):
            return Decision(False, "not_samu_regulator", Role.PROFESSIONAL)
        if not chosen.samu_allowed:
            return Decision(False, "samu_refused", Role.PROFESSIONAL)
        return Decision(True, "samu", Role.PROFESSIONAL)
    if request.kind == EmergencyKind.BREAK_GLASS:
        if not chosen.break_glass_allowed:
            return Decision(False, "emergency_refused", Role.PROFESSIONAL)
        return Decision(True, "emergency", Role.PROFESSIONAL)
    return Decision(False, "professional_not_allowed", Role.PROFESSIONAL)


def emergency_settings_of(person):
    """The holder's emergency choices (the defaults when they never chose: EmergencySettings.DEFAULTS)."""
    from .models import EmergencySettings

    return EmergencySettings.objects.filter(person=person).first() or EmergencySettings(person=person)


# A read-only request may ask the same question about one (person, professional) pair more than once: a FHIR
# search decides on the space (blocked? authorised?), then lists the documents by the same rules. Inside
# `remembering()`, the helpers marked `_remembered` ask the database once per question and request (the four
# about a pair together: `_pair_answers`); outside it (every write path), each call asks. Only for requests that
# change no authorisation, block, role or emergency opening.
_answers: ContextVar[dict | None] = ContextVar("carnet_policy_answers", default=None)
_P = ParamSpec("_P")
_R = TypeVar("_R")


@contextmanager
def remembering() -> Iterator[None]:
    token = _answers.set({})
    try:
        yield
    finally:
        _answers.reset(token)


def _remembered(func: Callable[_P, _R]) -> Callable[_P, _R]:
    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        answers = _answers.get()
        if answers is None or kwargs:
            return func(*args, **kwargs)
        key = (func.__name__, *(getattr(a, "pk", a) for a in args))
        if key not in answers and func.__name__ in _PAIR_LOOKUPS and len(args) == 2:
            answers.update(_pair_answers(*args))  # the pair's four answers in one statement
        if key not in answers:
            answers[key] = func(*args, **kwargs)
        answer = answers[key]
        return set(answer) if isinstance(answer, set) else answer  # type: ignore[return-value]
    return wrapper


def _rows(sql: str, params: list) -> list[tuple]:
    """The lookups below are plain SQL: built with the ORM, each took 3 to 6 times as long as PostgreSQL took to
    run it, and they run on every professional's request (bench/sharing.py). Portable SQL (SQLite in demo)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# The four lookups about one (person, professional) pair, as plain SQL. Each function below asks its own; inside
# `remembering()`, the first of them asks all four in one statement (`_pair_answers`, built from the same texts):
# a professional's search needs them all, and each round trip to the database costs more than its lookup.
_BLOCK = ('SELECT 1 FROM "sharing_block" WHERE "person_id" = %s AND "professional_id" = %s '
          'AND "lifted_at" IS NULL')  # params: person, professional
_AUTHORISATION = (
    'SELECT 1 FROM "sharing_authorisation" WHERE "person_id" = %s AND "revoked_at" IS NULL '
    'AND ("expires_at" IS NULL OR "expires_at" > %s) '
    'AND ("professional_id" = %s '
    'OR "care_team_id" IN (SELECT "team_id" FROM "sharing_careteammember" WHERE "professional_id" = %s) '
    'OR "establishment_id" IN (SELECT "establishment_id" FROM "sharing_activityplace" '
    'WHERE "professional_id" = %s))')  # params: person, now, professional x 3
_ROLES_WHERE = ('FROM "sharing_carerole" WHERE "person_id" = %s AND "professional_id" = %s '
                'AND "ended_at" IS NULL')  # params: person, professional
_ROLES = 'SELECT "kind" ' + _ROLES_WHERE
_EMERGENCY = ('SELECT "id", "kind", "expires_at" FROM "sharing_emergencyaccess" WHERE "person_id" = %s '
              'AND "professional_id" = %s AND "opened_at" <= %s AND "expires_at" > %s '
              'ORDER BY "expires_at" DESC LIMIT 1')  # params: person, professional, now, now
# One row per answer: ("emergency", kind, id) first (its types set the columns' on PostgreSQL), one row per role,
# then ("blocked") and ("authorised") when they hold. The opening's `expires_at` is left deferred (read on use).
_PAIR = (
    """SELECT * FROM (SELECT 'emergency' AS "answer", "kind", "id" FROM (""" + _EMERGENCY  # noqa: S608 - constants
    + """) AS "opening") AS "e" UNION ALL SELECT 'role', "kind", NULL """ + _ROLES_WHERE
    + """ UNION ALL SELECT 'blocked', NULL, NULL WHERE EXISTS (""" + _BLOCK + ")"
    + """ UNION ALL SELECT 'authorised', NULL, NULL WHERE EXISTS (""" + _AUTHORISATION + ")")
_PAIR_LOOKUPS = ("is_blocked", "is_authorised", "roles_of", "emergency_in_force")


def _now():
    from django.db import connection
    from django.utils import timezone

    return connection.ops.adapt_datetimefield_value(timezone.now())


def _pair_answers(person, professional) -> dict:
    """The four answers of `_PAIR_LOOKUPS` for one pair, from one statement, keyed as `_remembered` keys them."""
    from django.db import connection

    from .models import EmergencyAccess

    now, pro = _now(), professional.pk
    rows = _rows(_PAIR, [person.pk, pro, now, now, person.pk, pro, person.pk, pro, person.pk, now, pro, pro, pro])
    opening = next((EmergencyAccess.from_db(connection.alias, ["id", "kind"], [pk, kind])
                    for answer, kind, pk in rows if answer == "emergency"), None)
    answers = {"is_blocked": any(row[0] == "blocked" for row in rows),
               "is_authorised": any(row[0] == "authorised" for row in rows),
               "roles_of": {kind for answer, kind, _pk in rows if answer == "role"},
               "emergency_in_force": opening}
    return {(name, person.pk, pro): answer for name, answer in answers.items()}


def block_sql(person_column: str) -> str:
    """`is_blocked` as an SQL expression on a caller's person column, with the professional's id as its one
    parameter: a caller that reads the person anyway asks it in the same statement (ITI-65's patient look-up, one
    round trip less on every bundle) and hands the answer back with `remember_block`."""
    return "EXISTS (" + _BLOCK.replace('"person_id" = %s', f'"person_id" = {person_column}', 1) + ")"


def remember_block(person, professional, blocked: bool) -> None:
    """`is_blocked`'s answer for the pair, read by `block_sql`, for the rest of the `remembering()` block (a no-op
    outside one: the policy then asks itself)."""
    answers = _answers.get()
    if answers is not None:
        answers[("is_blocked", person.pk, professional.pk)] = bool(blocked)


@_remembered
def is_blocked(person, professional) -> bool:
    """A block of the professional by the holder (or their administrateur de santé) that is not lifted."""
    return bool(_rows(_BLOCK + " LIMIT 1", [person.pk, professional.pk]))


@_remembered
def is_authorised(person, professional) -> bool:
    """An authorisation in force for the professional, one of their care teams or activity places (membership
    and activity places as they are now: see _decide_professional on care teams)."""
    pro = professional.pk
    return bool(_rows(_AUTHORISATION + " LIMIT 1", [person.pk, _now(), pro, pro, pro]))


@_remembered
def roles_of(person, professional) -> set[str]:
    """The roles in force the holder gave the professional (médecin traitant, administrateur de santé...)."""
    return {kind for (kind,) in _rows(_ROLES, [person.pk, professional.pk])}


@_remembered
def emergency_in_force(person, professional):
    """The professional's latest emergency opening of this space still in force, or None."""
    from .models import EmergencyAccess

    now = _now()
    found = EmergencyAccess.objects.raw(_EMERGENCY, [person.pk, professional.pk, now, now])  # plain SQL, as _rows
    return next(iter(found), None)


class PolicyDenied(Exception):
    """Raised by `events.authorise`; faces turn it into a 403/404 with `message`."""

    def __init__(self, decision: Decision):
        self.decision = decision
        super().__init__(decision.reason)

    @property
    def message(self) -> str:
        return str(DENIAL_MESSAGES.get(self.decision.reason, DENIAL_MESSAGES["no_relationship"]))
