"""Emergency access ("accès en mode bris de glace") and the SAMU régulateur ("centre 15").

The law (Code de la santé publique, L1111-17 I): professionals read the DMP of a person unable to express their
will when their health is at immediate risk, and the médecin régulateur of the SAMU's call centre (L6311-2) reads
the DMP of the person a call is about, in both cases unless the person expressly opposed it beforehand. Mon Espace
Santé gives the holder three independent settings (../shared/mes-feature-inventory.md §6: purposes ETREAT for the
SAMU, BTG for any other professional, MASKED for masked documents) and e-mails them on every emergency access.

Choices made here, and where from:
- Defaults (`EmergencySettings.DEFAULTS`): SAMU and break-glass access allowed, because the law allows them unless
  the person opposed (L1111-17 I; the DMP's own test plan, test 1.1-070, opposes one and not the other: two
  separate oppositions); masked documents not shown, because masking is the holder's explicit wish and Mon Espace
  Santé presents "masquer tous vos documents, y compris en cas d'urgence" as available to the holder
  (service-public.fr, quoted by senioractu.com, 19/04/2022). The holder may change each one on "Paramètres de
  confidentialité".
- Duration (`CARNET_EMERGENCY_ACCESS_HOURS`, 4 hours by default): the public DMP texts found require the break-glass
  mode to be shown to the professional "pendant toute la durée de cet accès" (DMP-compatibility requirement
  EX_0.3-1050) but state no duration. Four hours covers a regulation call or an emergency-department stay (median
  stay a few hours); a longer episode means opening again, which costs one stated reason and is traced and
  notified again: that is the point of bris de glace.
- Who is a SAMU régulateur: a médecin (TRE_G15 profession 10) with an activity place at an establishment the
  operator flagged as a SAMU call centre (`Establishment.samu_regulation`, CRRA / centre 15). The law names the
  médecin régulateur of that centre; the directory knows professionals by their activity places, and no specialty
  code says "régulateur" (an emergency physician is not necessarily one).
- Anyone else of the directory may open in break-glass mode (L1111-17 I says "les professionnels de santé"); the
  habilitation matrix still limits what they read.
- The reason is mandatory and may describe the person's state: it is sealed with the person's key, never logged,
  never in a notification; the holder's notice and the médecin traitant's e-mail say only that an emergency
  access happened.

Every opening and every refusal is an access event (channel "emergency"); every read during an opening is one too
(events.record marks reads with reason "emergency"/"samu" as channel "emergency"). The professional may end their
own opening early (`end_emergency_access`): its end is brought to now and recorded, so the holder's history shows
that the access ended before its term.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carnet.identity.errors import ActionRefused
from carnet.identity.models import Person
from carnet.notifications import actions as notifications
from carnet.notifications.enums import Kind
from carnet.vault import services as vault

from . import channels
from .events import record
from .models import (
    ActivityPlace,
    CareRole,
    CareRoleKind,
    EmergencyAccess,
    EmergencyKind,
    EmergencySettings,
    Professional,
)
from .policy import (
    DENIAL_MESSAGES,
    EMERGENCY_REASONS,
    Action,
    Decision,
    PolicyDenied,
    Role,
    decide,
    emergency_settings_of,
)

END_ACTION = str(Action.END_EMERGENCY_ACCESS)  # the access event of an early end
REASON_MAX_LENGTH = 500
SEAL_PURPOSE = "emergency-reason"
MEDECIN = "10"  # TRE_G15


class EmergencyError(ActionRefused):
    """An emergency opening asked for with bad input (unknown kind, reason too long)."""


@dataclass(frozen=True)
class EmergencyRequest:
    """What the policy is asked about when a professional opens a space in an emergency."""

    person: Any
    kind: str
    reason: str


def is_samu_regulator(professional: Professional) -> bool:
    """A médecin practising at a SAMU call centre (an establishment flagged `samu_regulation`)."""
    return professional.profession_code == MEDECIN and ActivityPlace.objects.filter(
        professional=professional, establishment__samu_regulation=True).exists()


def duration() -> dt.timedelta:
    return dt.timedelta(hours=settings.CARNET_EMERGENCY_ACCESS_HOURS)


def open_emergency_access(professional: Professional, person: Person, *, kind: str, reason: str) -> EmergencyAccess:
    """Open `person`'s space to `professional` in an emergency, for `duration()`, with the reason they state.

    Refused (PolicyDenied, recorded as a denial) when the reason is empty, the holder opposed this kind of access,
    a SAMU access is asked by someone who is not a régulateur, the professional is blocked or inactive, or the
    space is not active. On success the opening is recorded and the holder (and their representatives) and their
    médecin traitant are told, without the reason or any health content."""
    if not isinstance(professional, Professional):
        raise TypeError("only a professional of the directory opens a space in an emergency")
    if kind not in EmergencyKind.values:
        raise EmergencyError(_("Choisissez le type d'accès en urgence."), field="kind", code="bad_kind")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise EmergencyError(_("Le motif compte au plus %(count)s caractères.") % {"count": REASON_MAX_LENGTH},
                             field="reason", code="too_long")
    with channels.using(channels.EMERGENCY):
        decision = decide(professional, Action.EMERGENCY_ACCESS, EmergencyRequest(person, kind, reason))
        if not decision.allowed:
            _refuse(person, professional, decision)
        now = timezone.now()
        with transaction.atomic():
            access = EmergencyAccess.objects.create(
                person=person, professional=professional, kind=kind, opened_at=now, expires_at=now + duration(),
                reason_sealed=vault.seal(person, reason.encode(), purpose=SEAL_PURPOSE))
            record(person, actor=professional, role=decision.role, action=str(Action.EMERGENCY_ACCESS),
                   reason=decision.reason, subject=f"emergency:{access.uuid}")
            _tell(person, professional)
    return access


def end_emergency_access(professional: Professional, person: Person) -> list[EmergencyAccess]:
    """« Mettre fin à l'accès d'urgence »: the professional ends their own openings of `person`'s space still in
    force, now rather than at their term. The policy allows it while an opening of theirs is in force (and only
    then: nobody ends someone else's), even after the holder opposed or blocked them, since ending only takes
    access away. Each end is an access event on the emergency channel (reason: the kind of access ended), shown
    in the holder's history; a refusal is recorded too; nothing is notified (the opening was)."""
    if not isinstance(professional, Professional):
        raise TypeError("only a professional of the directory ends their emergency access")
    with channels.using(channels.EMERGENCY):
        decision = decide(professional, Action.END_EMERGENCY_ACCESS, person)
        if not decision.allowed:  # recorded outside the transaction below, which a refusal would roll back
            record(person, actor=professional, role=decision.role, action=END_ACTION, allowed=False,
                   reason=decision.reason)
            raise EmergencyError(DENIAL_MESSAGES[decision.reason], code="not_in_force")
    with channels.using(channels.EMERGENCY), transaction.atomic():
        now = timezone.now()
        openings = list(EmergencyAccess.objects.select_for_update().filter(
            person=person, professional=professional, opened_at__lte=now, expires_at__gt=now).order_by("pk"))
        for opening in openings:
            opening.expires_at = now
            opening.save(update_fields=["expires_at"])
            record(person, actor=professional, role=Role.PROFESSIONAL, action=END_ACTION,
                   reason=EMERGENCY_REASONS[opening.kind],
                   subject=f"emergency:{opening.uuid}")
    return openings


def _refuse(person, professional, decision: Decision) -> None:
    if person is not None and person.pk:
        record(person, actor=professional, role=decision.role, action=str(Action.EMERGENCY_ACCESS), allowed=False,
               reason=decision.reason)
    raise PolicyDenied(decision)


def _tell(person, professional) -> None:
    """The holder (and representatives) in the app and by e-mail (always: an account-kind notice), and the
    médecin traitant by e-mail: that an emergency access happened, never why, by whom or to whom (for the
    médecin traitant) — the details are behind sign-in."""
    notifications.notify(
        person, kind=Kind.ACCOUNT, code="emergency_access",
        title=_("Un professionnel de santé a ouvert votre espace en situation d'urgence. Le détail est dans "
                "l'historique des accès."), url=reverse("portal:history"))
    doctors = Professional.objects.filter(
        pk__in=CareRole.objects.filter(person=person, kind=CareRoleKind.MEDECIN_TRAITANT, ended_at__isnull=True)
        .values("professional_id"), active=True).exclude(email="").exclude(pk=professional.pk)
    link = settings.CARNET_PUBLIC_URL.rstrip("/") + "/"
    for doctor in doctors:
        notifications.send_email(
            doctor.email, _("Carnet : accès en urgence au dossier d'un de vos patients"),
            _("Bonjour,\n\nUn professionnel de santé vient d'ouvrir en situation d'urgence le dossier Carnet d'un "
              "patient dont vous êtes le médecin traitant.\n\nConnectez-vous à Carnet pour en savoir plus : "
              "%(link)s\n\nCeci est un message automatique, merci de ne pas y répondre.\n") % {"link": link})


def reason_of(access: EmergencyAccess) -> str:
    """The reason the professional stated (health content: show it only behind the policy)."""
    return vault.unseal(access.person, bytes(access.reason_sealed), purpose=SEAL_PURPOSE).decode()


def settings_of(person) -> EmergencySettings:
    """The holder's emergency choices, the defaults when they never chose."""
    return emergency_settings_of(person)


def set_emergency_settings(actor, person, *, samu_allowed: bool, break_glass_allowed: bool,
                           masked_visible: bool) -> EmergencySettings:
    """The holder (or a legal representative) chooses the three emergency settings; the change is recorded."""
    from .actions import _lock, check

    decision = check(actor, person)
    with transaction.atomic():
        _lock(person)
        chosen, _created = EmergencySettings.objects.update_or_create(person=person, defaults={
            "samu_allowed": bool(samu_allowed), "break_glass_allowed": bool(break_glass_allowed),
            "masked_visible": bool(masked_visible)})
        record(person, actor=actor, role=decision.role, action="settings.emergency")
    return chosen


def recent_accesses(person, limit: int = 20) -> QuerySet[EmergencyAccess]:
    """The latest emergency openings of the space, newest first (callers ask the policy first)."""
    return EmergencyAccess.objects.filter(person=person).select_related("professional").order_by(
        "-opened_at", "-pk")[:limit]
