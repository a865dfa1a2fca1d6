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


class Role(StrEnum):
    HOLDER = "holder"
    REPRESENTATIVE = "representative"
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
REPRESENTATIVE_ACTIONS = {Action.VIEW_SPACE, Action.MANAGE_REPRESENTATIVES, Action.READ_RECORD, Action.WRITE_RECORD}
DENIAL_MESSAGES = {
    "not_active": _("Cet espace n'est pas actif."),
    "no_relationship": _("Vous n'avez pas accès à cet espace."),
    "holder_only": _("Seul le titulaire de l'espace peut faire cela."),
    "not_attached_parent": _("Seul le parent de rattachement peut activer ce profil."),
    "not_minor": _("Ce profil n'est plus celui d'un mineur."),
}


def decide(actor, action: Action, target) -> Decision:
    """May `actor` (a Person) do `action` on `target` (a Person's space)? With the reason."""
    if actor is None or target is None:
        return Decision(False, "no_relationship", Role.NONE)
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


class PolicyDenied(Exception):
    """Raised by `events.authorise`; faces turn it into a 403/404 with `message`."""

    def __init__(self, decision: Decision):
        self.decision = decision
        super().__init__(decision.reason)

    @property
    def message(self) -> str:
        return str(DENIAL_MESSAGES.get(self.decision.reason, DENIAL_MESSAGES["no_relationship"]))
