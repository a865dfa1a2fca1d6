"""The one policy function: `decide(actor, action, target) -> Decision`.

Every face and every domain action asks it; nothing re-implements a rule. This first version knows
holders and legal representatives; professionals, caregivers, emergency access and rights holders
join it in the sharing issue.
"""

from dataclasses import dataclass
from enum import StrEnum

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


class Role(StrEnum):
    HOLDER = "holder"
    REPRESENTATIVE = "representative"
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
# What a representative may do for the person they represent.
REPRESENTATIVE_ACTIONS = {Action.VIEW_SPACE, Action.MANAGE_REPRESENTATIVES, Action.READ_RECORD, Action.WRITE_RECORD,
                          Action.MANAGE_SHARING}
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
}
# Roles on the holder's list that see masked documents.
SEES_MASKED = {"medecin_traitant", "administrateur_sante"}


def decide(actor, action: Action, target) -> Decision:
    """May `actor` (a Person, or a Professional of the directory) do `action` on `target` (a Person's space,
    or one Document for READ_DOCUMENT)? With the reason."""
    if actor is None or target is None:
        return Decision(False, "no_relationship", Role.NONE)
    from .models import Professional

    if isinstance(actor, Professional):
        return _decide_professional(actor, action, target)
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
        return Decision(False, "no_relationship", Role.NONE)
    if target.status not in OPEN_STATUSES:
        return Decision(False, "not_active", Role.REPRESENTATIVE)
    if action not in REPRESENTATIVE_ACTIONS:
        return Decision(False, "holder_only", Role.REPRESENTATIVE)
    return Decision(True, "legal_representative", Role.REPRESENTATIVE)


def _decide_professional(professional, action: Action, target) -> Decision:
    """The rules for professionals (the sharing issue): a block overrides everything but one's own
    documents; reading needs the holder's authorisation (direct, through a care team or an establishment);
    each document also needs the habilitation matrix's yes for the profession, and a masked document is
    for its author, the médecin traitant and the administrateur de santé only. Writing needs no
    authorisation (a professional may file a document without being able to read the space)."""
    from carnet.record.models import Document

    from . import habilitation

    document = target if isinstance(target, Document) else None
    person = document.person if document is not None else target
    if document is not None and action != Action.READ_DOCUMENT:
        return Decision(False, "professional_not_allowed", Role.PROFESSIONAL)
    if not professional.active:
        return Decision(False, "inactive_professional", Role.PROFESSIONAL)
    if person.status not in OPEN_STATUSES:
        return Decision(False, "not_active", Role.PROFESSIONAL)
    if document is not None:
        if document.status == "deleted":
            return Decision(False, "no_relationship", Role.PROFESSIONAL)
        if document.author_identifier and document.author_identifier in (professional.rpps, professional.national_id):
            return Decision(True, "author", Role.PROFESSIONAL)
    if is_blocked(person, professional):
        return Decision(False, "blocked", Role.PROFESSIONAL)
    if action == Action.WRITE_RECORD:
        return Decision(True, "care_writer", Role.PROFESSIONAL)
    if action not in (Action.READ_RECORD, Action.READ_DOCUMENT):
        return Decision(False, "professional_not_allowed", Role.PROFESSIONAL)
    if not is_authorised(person, professional):
        return Decision(False, "no_authorisation", Role.PROFESSIONAL)
    if document is None:
        return Decision(True, "authorised", Role.PROFESSIONAL)
    if not habilitation.may_read(professional.profession_code, document.type_code):
        return Decision(False, "habilitation", Role.PROFESSIONAL)
    if document.masked_to_professionals and not roles_of(person, professional) & SEES_MASKED:
        return Decision(False, "masked", Role.PROFESSIONAL)
    return Decision(True, "authorised", Role.PROFESSIONAL)


def is_blocked(person, professional) -> bool:
    from .models import Block

    return Block.objects.filter(person=person, professional=professional, lifted_at__isnull=True).exists()


def is_authorised(person, professional) -> bool:
    """An authorisation in force for the professional, one of their care teams or activity places."""
    from django.db.models import Q
    from django.utils import timezone

    from .models import Authorisation

    now = timezone.now()
    grantee = (Q(professional=professional) | Q(care_team__memberships__professional=professional)
               | Q(establishment__activity_places__professional=professional))
    return Authorisation.objects.filter(grantee, person=person, revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)).exists()


def roles_of(person, professional) -> set[str]:
    from .models import CareRole

    return set(CareRole.objects.filter(person=person, professional=professional, ended_at__isnull=True)
               .values_list("kind", flat=True))


class PolicyDenied(Exception):
    """Raised by `events.authorise`; faces turn it into a 403/404 with `message`."""

    def __init__(self, decision: Decision):
        self.decision = decision
        super().__init__(decision.reason)

    @property
    def message(self) -> str:
        return str(DENIAL_MESSAGES.get(self.decision.reason, DENIAL_MESSAGES["no_relationship"]))
