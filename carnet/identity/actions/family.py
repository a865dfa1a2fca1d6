"""Legal representatives: the attached parent activates a child's space, invites a second
representative or a guardian; at 18 the representatives' access ends."""

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carnet.common.dates import add_years
from carnet.notifications import actions as notifications
from carnet.notifications.enums import Kind
from carnet.sharing.events import authorise, record
from carnet.sharing.policy import Action, Role

from ..enums import RepresentationKind, RepresentationStatus, SpaceStatus
from ..errors import ActionRefused
from ..models import Person, ProvisionalCode, Representation
from ..validators import normalise_nir
from .codes import issue_provisional_code

INVITATION_DAYS = 30


class FamilyError(ActionRefused):
    pass


def represented_profiles(person: Person) -> list[Person]:
    """The spaces a person may switch to from the header (accepted representations, active spaces)."""
    return list(
        Person.objects.filter(
            representations__representative=person, representations__status=RepresentationStatus.ACCEPTED,
            status=SpaceStatus.ACTIVE,
        ).order_by("birth_date")
    )


def activate_child(parent: Person, child: Person, *, certify: bool) -> Representation:
    """The parent the child is attached to in the insurance registry activates the child's space,
    certifying they are its legal representative."""
    if not certify:
        raise FamilyError(_("Vous devez certifier être le représentant légal de cet enfant."), "certify")
    authorise(parent, Action.ACTIVATE_PROFILE, child)
    if child.status not in {SpaceStatus.NOTIFIED, SpaceStatus.CREATED, SpaceStatus.ACTIVE}:
        raise FamilyError(_("Ce profil ne peut pas être activé."))
    now = timezone.now()
    with transaction.atomic():
        representation = Representation.objects.filter(
            person=child, representative=parent, status=RepresentationStatus.ACCEPTED
        ).first()
        if representation is None:
            representation = Representation.objects.create(
                person=child, representative=parent, kind=RepresentationKind.ATTACHED_PARENT,
                status=RepresentationStatus.ACCEPTED, invited_by=parent, responded_at=now,
            )
        if child.status != SpaceStatus.ACTIVE:
            child.status = SpaceStatus.ACTIVE
            child.activated_at = now
            child.opened_at = child.opened_at or now
            child.save(update_fields=["status", "activated_at", "opened_at", "updated_at"])
            ProvisionalCode.objects.filter(person=child, used_at__isnull=True, revoked_at__isnull=True).update(
                revoked_at=now
            )
            record(child, actor=parent, role=Role.REPRESENTATIVE, action="space.activate")
    return representation


def invite_representative(actor: Person, child: Person, *, nir: str, family_name: str, given_name: str,
                          birth_date: dt.date, kind: str) -> Representation:
    """Invite the other parent or a guardian, who must already have an active space."""
    authorise(actor, Action.MANAGE_REPRESENTATIVES, child)
    if kind not in {RepresentationKind.LEGAL_REPRESENTATIVE, RepresentationKind.GUARDIAN}:
        raise FamilyError(_("Type de représentant inconnu."), "kind")
    invitee = Person.objects.filter(
        nir=normalise_nir(nir), birth_date=birth_date, status=SpaceStatus.ACTIVE, account__isnull=False
    ).first()
    if invitee is None or not _same_name(invitee, family_name, given_name):
        raise FamilyError(_("Aucun espace santé actif ne correspond à ces informations. La personne invitée "
                            "doit d'abord activer son propre espace."))
    if invitee.pk in (actor.pk, child.pk):
        raise FamilyError(_("Cette personne a déjà accès à ce profil."))
    if Representation.objects.filter(person=child, representative=invitee,
                                     status__in=[RepresentationStatus.INVITED, RepresentationStatus.ACCEPTED]).exists():
        raise FamilyError(_("Cette personne a déjà accès à ce profil ou une invitation est en attente."))
    with transaction.atomic():
        representation = Representation.objects.create(
            person=child, representative=invitee, kind=kind, status=RepresentationStatus.INVITED,
            invited_by=actor, expires_at=timezone.now() + dt.timedelta(days=INVITATION_DAYS),
        )
        record(child, actor=actor, role=Role.REPRESENTATIVE, action="representative.invite")
        notifications.notify(invitee, kind=Kind.FAMILY, code="INVIT_ACCES_SECOND_RL",
                             title=_("Vous êtes invité(e) à partager un profil"), url="/famille/")
    return representation


def _same_name(person: Person, family_name: str, given_name: str) -> bool:
    from ..validators import _fold

    return _fold(person.family_name) == _fold(family_name.strip()) and _fold(given_name.strip()) in [
        _fold(g) for g in person.given_names.split()
    ]


def respond_to_invitation(invitee: Person, representation_uuid, *, accept: bool) -> Representation:
    with transaction.atomic():
        representation = (
            Representation.objects.select_for_update()
            .filter(uuid=representation_uuid, representative=invitee).first()
        )
        if representation is None or representation.status != RepresentationStatus.INVITED or (
            representation.expires_at and representation.expires_at <= timezone.now()
        ):
            raise FamilyError(_("Cette invitation n'est plus valable."))
        representation.status = RepresentationStatus.ACCEPTED if accept else RepresentationStatus.REFUSED
        representation.responded_at = timezone.now()
        representation.save(update_fields=["status", "responded_at"])
        record(representation.person, actor=invitee, role=Role.REPRESENTATIVE,
               action="representative.accept" if accept else "representative.refuse")
        if representation.invited_by_id:
            notifications.notify(
                representation.invited_by, kind=Kind.FAMILY,
                code="ACCORD_PARTAGE_PROFIL" if accept else "REFUS_PARTAGE_PROFIL",
                title=_("Votre invitation à partager un profil a été acceptée") if accept
                else _("Votre invitation à partager un profil a été refusée"),
                url="/famille/", about=representation.person,
            )
    return representation


def end_representation(actor: Person, representation_uuid) -> Representation:
    """The representative leaves, or the attached parent removes a second representative."""
    representation = Representation.objects.filter(uuid=representation_uuid).select_related("person").first()
    if representation is None:
        raise FamilyError(_("Représentation introuvable."))
    if representation.representative_id != actor.pk:
        authorise(actor, Action.MANAGE_REPRESENTATIVES, representation.person)
        if representation.kind == RepresentationKind.ATTACHED_PARENT:
            raise FamilyError(_("Le parent de rattachement ne peut être retiré que par l'Assurance Maladie."))
    with transaction.atomic():
        representation.status = RepresentationStatus.ENDED
        representation.ended_at = timezone.now()
        representation.end_reason = "left" if representation.representative_id == actor.pk else "removed"
        representation.save(update_fields=["status", "ended_at", "end_reason"])
        record(representation.person, actor=actor, role=Role.REPRESENTATIVE, action="representative.end")
    return representation


def process_coming_of_age(day: dt.date) -> int:
    """Daily: a child who turned 18 gets their own space. Representatives' access ends, they are told,
    and the young adult receives their own activation notice. Idempotent (came_of_age_on)."""
    cutoff = add_years(day, -18)
    candidates = Person.objects.filter(
        birth_date__lte=cutoff, came_of_age_on__isnull=True,
        status__in=[SpaceStatus.NOTIFIED, SpaceStatus.CREATED, SpaceStatus.ACTIVE],
    ).filter(Q(parent__isnull=False) | Q(representations__isnull=False)).distinct()
    count = 0
    for person in candidates.iterator(chunk_size=500):
        with transaction.atomic():
            locked = Person.objects.select_for_update().get(pk=person.pk)
            if locked.came_of_age_on:
                continue
            representations = list(
                Representation.objects.filter(
                    person=locked, status__in=[RepresentationStatus.INVITED, RepresentationStatus.ACCEPTED]
                ).select_related("representative")
            )
            for representation in representations:
                representation.status = RepresentationStatus.ENDED
                representation.ended_at = timezone.now()
                representation.end_reason = "majority"
                representation.save(update_fields=["status", "ended_at", "end_reason"])
                notifications.notify(
                    representation.representative, kind=Kind.FAMILY, code="RAPPEL_CONSENT_RL_PASSAGE_MAJO",
                    title=_("Un profil que vous gériez est devenu majeur : vous n'y avez plus accès"),
                    about=locked,
                )
            locked.came_of_age_on = day
            locked.save(update_fields=["came_of_age_on", "updated_at"])
            record(locked, actor=None, role=Role.SYSTEM, action="space.coming_of_age")
            if not locked.has_account:
                issue_provisional_code(locked, coming_of_age=True, batch=f"majorite-{day:%Y%m%d}")
            count += 1
    return count
