"""Caregivers (aidants ↔ aidés): invite, answer, end. One function per use case, atomic, policy first,
every change an access event on the holder's chain and a notification to the other side.

Rules (issue 4, inventory §3 and rule 1):
- the holder invites, after a sworn declaration, a person who has an active space, found by NIR, family
  name, first given name and birth date; any mismatch gives the same message (nothing is revealed);
- at most `MAX_CAREGIVERS` per holder and `MAX_HELPED` per caregiver, pending invitations included;
- an invitation is valid `INVITATION_DAYS` days (the representatives' delay), then expires;
- the invitee accepts or refuses; either side ends an accepted delegation, the holder may cancel a pending
  invitation;
- at acceptance and at the end a certificate (PDF) is filed in the holder's documents.

What a caregiver may do once accepted is the policy's answer (`carnet.sharing.policy`, Role.CAREGIVER).
"""

import datetime as dt
import io

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carnet.common.dates import age_on, today
from carnet.identity import throttle
from carnet.identity.enums import SpaceStatus
from carnet.identity.errors import LOCKED
from carnet.identity.models import Person
from carnet.identity.validators import _fold, normalise_nir
from carnet.notifications import actions as notifications
from carnet.notifications.enums import Kind
from carnet.sharing.events import authorise, record
from carnet.sharing.policy import Action, Role
from carnet.vault import services as vault

from .certificate import build_certificate_pdf
from .enums import DelegationStatus, EndReason
from .errors import CaregiverError
from .models import Delegation

MAX_CAREGIVERS = 3  # per holder (aidé)
MAX_HELPED = 5  # per caregiver (aidant)
INVITATION_DAYS = 30
CERTIFICATE_TYPE = "DOCPAT09"  # Document administratif déposé par le patient (category DOC_ADM)
LOOKUP_SCOPE = "caregiver_lookup"  # failed identity lookups per inviting person (throttle)

NOT_FOUND = _("Aucun espace santé actif ne correspond à ces informations. Vérifiez-les : la personne invitée "
              "doit avoir activé son propre espace santé.")


def _url() -> str:
    return reverse("portal:caregivers")


# --- reads ----------------------------------------------------------------------------------------------------


def caregivers_of(holder: Person):
    """The holder's caregivers and invitations still pending (what counts against the limit of 3)."""
    return Delegation.objects.open().filter(person=holder).select_related("caregiver").order_by("created_at", "pk")


def helped_by(caregiver: Person):
    """The delegations a caregiver holds (accepted, not ended)."""
    return Delegation.objects.active().filter(caregiver=caregiver).select_related("person").order_by(
        "responded_at", "pk")


def invitations_for(invitee: Person):
    return Delegation.objects.pending().filter(caregiver=invitee).select_related("person").order_by("created_at")


def helped_profiles(caregiver: Person) -> list[Person]:
    """The spaces a caregiver may switch to (accepted delegations, active spaces)."""
    return list(Person.objects.filter(
        caregiver_delegations__caregiver=caregiver, caregiver_delegations__status=DelegationStatus.ACCEPTED,
        caregiver_delegations__ended_at__isnull=True, status=SpaceStatus.ACTIVE,
    ).order_by("family_name", "given_names", "pk"))


def caregiver_recipients(holder: Person):
    """Who gets the holder's notifications as their caregiver (fan-out in `notifications.notify`)."""
    return Person.objects.filter(
        helped_delegations__person=holder, helped_delegations__status=DelegationStatus.ACCEPTED,
        helped_delegations__ended_at__isnull=True, status=SpaceStatus.ACTIVE,
    ).select_related("account")


# --- writes ---------------------------------------------------------------------------------------------------


def invite_caregiver(actor: Person, holder: Person, *, nir: str, family_name: str, given_name: str,
                     birth_date: dt.date, sworn: bool) -> Delegation:
    """The holder invites a caregiver ("Donner accès à mon profil"). Raises CaregiverError (with a code) or
    PolicyDenied; on any refusal nothing is written but the refusal's own trace."""
    if not sworn:
        raise CaregiverError(_("Vous devez cocher la déclaration sur l'honneur pour inviter un aidant."),
                             "sworn", code="declaration")
    authorise(actor, Action.MANAGE_CAREGIVERS, holder)  # the holder only: representatives and caregivers refused
    if age_on(birth_date, today()) < 18:
        raise CaregiverError(_("Un aidant doit être majeur."), "birth_date", code="minor")
    key = str(actor.uuid)
    try:
        throttle.check(LOOKUP_SCOPE, key)
    except throttle.Locked:
        raise CaregiverError(LOCKED, code="locked") from None
    invitee = Person.objects.filter(nir=normalise_nir(nir), birth_date=birth_date, status=SpaceStatus.ACTIVE,
                                    account__isnull=False).first()
    if invitee is None or not _same_traits(invitee, family_name, given_name):
        throttle.fail(LOOKUP_SCOPE, key)
        raise CaregiverError(NOT_FOUND, code="not_found")
    throttle.succeed(LOOKUP_SCOPE, key)
    if invitee.pk == holder.pk:
        raise CaregiverError(_("Vous ne pouvez pas être votre propre aidant."), code="self")
    now = timezone.now()
    with transaction.atomic():
        # Both rows locked (in a fixed order): two invitations at once cannot pass the limits together.
        list(Person.objects.select_for_update().filter(pk__in=[holder.pk, invitee.pk]).order_by("pk"))
        _expire_stale(Delegation.objects.filter(person=holder, caregiver=invitee), now)
        between = Delegation.objects.open(now).filter(person=holder, caregiver=invitee).first()
        if between is not None and between.status == DelegationStatus.PENDING:
            raise CaregiverError(_("Une invitation est déjà en attente de réponse pour cette personne."),
                                 code="pending_exists")
        if between is not None:
            raise CaregiverError(_("Cette personne est déjà votre aidant."), code="already_has_access")
        if Delegation.objects.open(now).filter(person=holder).count() >= MAX_CAREGIVERS:
            raise CaregiverError(
                _("Vous avez déjà %(max)d aidants ou invitations en attente : c'est le maximum. Mettez fin à l'un "
                  "de ces accès pour en inviter un autre.") % {"max": MAX_CAREGIVERS}, code="holder_at_maximum")
        if Delegation.objects.open(now).filter(caregiver=invitee).count() >= MAX_HELPED:
            raise CaregiverError(_("Cette personne aide déjà %(max)d personnes : c'est le maximum pour un aidant.")
                                 % {"max": MAX_HELPED}, code="caregiver_at_maximum")
        delegation = Delegation.objects.create(
            person=holder, caregiver=invitee, status=DelegationStatus.PENDING, declared_at=now, created_at=now,
            expires_at=now + dt.timedelta(days=INVITATION_DAYS),
        )
        record(holder, actor=actor, role=Role.HOLDER, action="caregiver.invite",
               subject=f"delegation:{delegation.uuid}")
        notifications.notify(invitee, kind=Kind.FAMILY, code="PARTAGE_PROFIL_AIDANT",
                             title=_("Une personne vous invite à devenir son aidant"), url=_url(), about=holder)
    return delegation


def _same_traits(person: Person, family_name: str, given_name: str) -> bool:
    """Family name and first given name, ignoring case and accents (the NIR and birth date are matched exactly)."""
    return (_fold(person.family_name.strip()) == _fold(family_name.strip())
            and _fold(person.first_name.strip()) == _fold(given_name.strip()))


def respond_to_invitation(invitee: Person, delegation_uuid, *, accept: bool) -> Delegation:
    """The invitee accepts (the certificate is filed in the holder's documents) or refuses."""
    now = timezone.now()
    with vault.atomic():
        delegation = (Delegation.objects.select_for_update(of=("self",)).select_related("person", "caregiver")
                      .filter(uuid=delegation_uuid, caregiver=invitee).first())
        if delegation is None or not delegation.is_pending(now) or delegation.person.status != SpaceStatus.ACTIVE \
                or invitee.status != SpaceStatus.ACTIVE:
            raise CaregiverError(_("Cette invitation n'est plus valable."), code="not_valid")
        holder = delegation.person
        delegation.status = DelegationStatus.ACCEPTED if accept else DelegationStatus.REFUSED
        delegation.responded_at = now
        delegation.save(update_fields=["status", "responded_at"])
        record(holder, actor=invitee, role=Role.CAREGIVER, action="caregiver.accept" if accept else "caregiver.refuse",
               subject=f"delegation:{delegation.uuid}")
        if accept:
            _file_certificate(delegation)
        notifications.notify(
            holder, kind=Kind.FAMILY, code="ACCORD_PARTAGE_PROFIL" if accept else "REFUS_PARTAGE_PROFIL",
            title=_("Votre invitation d'aidant a été acceptée") if accept
            else _("Votre invitation d'aidant a été refusée"), url=_url(),
        )
    return delegation


def end_delegation(actor: Person, delegation_uuid) -> Delegation:
    """Either side ends an accepted delegation (an updated certificate is filed); the holder may also cancel an
    invitation still pending. The other side is told."""
    delegation = Delegation.objects.filter(uuid=delegation_uuid).select_related("person", "caregiver").first()
    if delegation is None:
        raise CaregiverError(_("Cet accès n'existe pas ou a déjà pris fin."), code="not_found")
    by_caregiver = delegation.caregiver_id == actor.pk
    if not by_caregiver:
        authorise(actor, Action.MANAGE_CAREGIVERS, delegation.person)  # strangers: no_relationship (404)
    now = timezone.now()
    with vault.atomic():
        delegation = Delegation.objects.select_for_update(of=("self",)).select_related("person", "caregiver").get(
            pk=delegation.pk)
        holder, caregiver = delegation.person, delegation.caregiver
        accepted = delegation.status == DelegationStatus.ACCEPTED and delegation.ended_at is None
        if not accepted and not (delegation.is_pending(now) and not by_caregiver):
            raise CaregiverError(_("Cet accès n'existe pas ou a déjà pris fin."), code="not_found")
        delegation.status = DelegationStatus.ENDED
        delegation.ended_at, delegation.ended_by = now, actor
        delegation.end_reason = (EndReason.BY_CAREGIVER if by_caregiver
                                 else EndReason.BY_HOLDER if accepted else EndReason.CANCELLED)
        delegation.save(update_fields=["status", "ended_at", "ended_by", "end_reason"])
        record(holder, actor=actor, role=Role.CAREGIVER if by_caregiver else Role.HOLDER,
               action="caregiver.end" if accepted else "caregiver.cancel", subject=f"delegation:{delegation.uuid}")
        if accepted:
            _file_certificate(delegation)
        if by_caregiver:
            notifications.notify(holder, kind=Kind.FAMILY, code="REVOCATION_PAR_AIDANT",
                                 title=_("Une personne a mis fin à son accès d'aidant à votre espace"), url=_url())
        else:
            notifications.notify(caregiver, kind=Kind.FAMILY, code="REVOCATION_PAR_AIDE",
                                 title=_("Une personne que vous aidiez a mis fin à votre accès d'aidant") if accepted
                                 else _("Une invitation à devenir aidant a été annulée"), url=_url(), about=holder)
    return delegation


def _file_certificate(delegation: Delegation) -> None:
    """File the certificate as the holder's own document (Carnet files it: the system acts, source holder)."""
    from carnet.record.actions import Author, add_document
    from carnet.record.enums import AuthorKind, DocumentSource

    pdf = build_certificate_pdf(delegation)
    day = timezone.localdate()
    ended = delegation.ended_at is not None
    title = (_("Attestation de fin d'accès d'un aidant (%(name)s) du %(date)s") if ended
             else _("Attestation d'accès d'un aidant (%(name)s) du %(date)s")) % {
        "name": delegation.caregiver.full_name, "date": day.strftime("%d/%m/%Y")}
    document = add_document(
        None, delegation.person, content=io.BytesIO(pdf), filename=f"attestation-aidant-{day}.pdf", title=title,
        type_code=CERTIFICATE_TYPE, source=DocumentSource.HOLDER, author=Author(AuthorKind.HOLDER, "Carnet"),
    )
    delegation.certificate = document
    delegation.save(update_fields=["certificate"])


def _expire_stale(rows, now) -> int:
    """Mark invitations past their date as expired, each traced on the holder's chain (by the system)."""
    count = 0
    for delegation in rows.filter(status=DelegationStatus.PENDING, expires_at__lte=now).select_related("person"):
        Delegation.objects.filter(pk=delegation.pk, status=DelegationStatus.PENDING).update(
            status=DelegationStatus.EXPIRED)
        record(delegation.person, actor=None, role=Role.SYSTEM, action="caregiver.expire",
               subject=f"delegation:{delegation.uuid}")
        count += 1
    return count


def expire_invitations(day: dt.date) -> str:
    """Daily: invitations not answered in time become expired (they already stopped counting against the
    limits on their expiry date; this makes the state explicit and traced). Idempotent."""
    end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_default_timezone())
    moment = min(end_of_day, timezone.now())
    expired = 0
    for pk in Delegation.objects.filter(status=DelegationStatus.PENDING, expires_at__lte=moment).values_list(
            "pk", flat=True).iterator():
        with transaction.atomic():
            expired += _expire_stale(Delegation.objects.select_for_update(of=("self",)).filter(pk=pk), moment)
    return f"{expired} invitation(s) d'aidant expirée(s)"
