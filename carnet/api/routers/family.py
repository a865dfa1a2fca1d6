"""Profiles I may act on (mine, the children and protected adults I represent, the persons I help as a
caregiver), their representatives, invitations. Every other person's space goes through the policy."""

from uuid import UUID

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from carnet.caregivers.actions import helped_profiles
from carnet.identity.actions import (
    activate_child,
    end_representation,
    invite_representative,
    respond_to_invitation,
)
from carnet.identity.actions.family import represented_profiles
from carnet.identity.enums import RepresentationStatus, SpaceStatus
from carnet.identity.models import Person, Representation
from carnet.sharing.policy import Action, decide

from ..access import me, not_found, person_or_404, profile
from ..schemas import (
    ActivateChildIn,
    Error,
    InvitationOut,
    InviteIn,
    ProfileOut,
    RepresentationOut,
    RepresentativeOut,
)

router = Router()
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error}
ACTIVABLE = [SpaceStatus.NOTIFIED, SpaceStatus.CREATED, SpaceStatus.ACTIVE]


def profile_out(person: Person, relation: str, *, can_activate: bool = False) -> dict:
    return {"id": person.uuid, "given_names": person.given_names, "family_name": person.family_name,
            "birth_date": person.birth_date, "status": person.status, "relation": relation,
            "can_activate": can_activate}


def representation_out(r: Representation) -> dict:
    return {"id": r.uuid, "profile_id": r.person.uuid, "kind": r.kind, "status": r.status}


@router.get("/profiles", response={200: list[ProfileOut], 401: Error}, summary="Mes profils")
def profiles(request: HttpRequest):
    """My own profile, those I represent, those I help as a caregiver (aidant), then the attached children whose
    space I may activate: the same spaces as the portal's profile switch, each with my role there."""
    holder = me(request)
    # A listing, not an act: the policy is asked for each profile shown (decide records nothing).
    represented = [p for p in represented_profiles(holder) if decide(holder, Action.VIEW_SPACE, p)]
    kinds = dict(
        Representation.objects.filter(
            representative=holder, status=RepresentationStatus.ACCEPTED, person__in=represented
        ).values_list("person_id", "kind")
    )
    out = [profile_out(holder, "holder")] if decide(holder, Action.VIEW_SPACE, holder) else []
    out += [profile_out(p, kinds[p.pk]) for p in represented]
    shown = {p.pk for p in represented}
    # A person both represented and helped is listed once, as represented (the portal's switch does the same).
    helped = [p for p in helped_profiles(holder) if p.pk not in shown and decide(holder, Action.VIEW_SPACE, p)]
    out += [profile_out(p, "caregiver") for p in helped]
    shown |= {p.pk for p in helped}
    candidates = (
        holder.attached_children.filter(status__in=ACTIVABLE).exclude(pk__in=shown).order_by("birth_date")
    )
    # A listing, not an act: asking the policy (decide) records nothing; activation itself does.
    out += [profile_out(child, "attached_parent", can_activate=True)
            for child in candidates if decide(holder, Action.ACTIVATE_PROFILE, child)]
    return out


@router.post("/profiles/{profile_id}/activate", response={200: RepresentationOut, **ERRORS},
             summary="Activer l'espace d'un enfant rattaché")
def activate(request: HttpRequest, profile_id: UUID, payload: ActivateChildIn):
    representation = activate_child(me(request), person_or_404(profile_id), certify=payload.certify)
    return representation_out(representation)


@router.get("/profiles/{profile_id}/representatives", response={200: list[RepresentativeOut], **ERRORS},
            summary="Les représentants légaux d'un profil")
def representatives(request: HttpRequest, profile_id: UUID):
    target = profile(request, profile_id, Action.VIEW_SPACE)
    holder = me(request)
    rows = (
        Representation.objects.filter(person=target)
        .filter(Q(status=RepresentationStatus.ACCEPTED)
                | Q(status=RepresentationStatus.INVITED, expires_at__gt=timezone.now()))
        .select_related("representative")
        .order_by("created_at")
    )
    return [
        {"id": r.uuid, "kind": r.kind, "status": r.status, "is_me": r.representative_id == holder.pk,
         "created_at": r.created_at, "expires_at": r.expires_at, "responded_at": r.responded_at,
         "representative": {"id": r.representative.uuid, "given_names": r.representative.given_names,
                            "family_name": r.representative.family_name}}
        for r in rows
    ]


@router.post("/profiles/{profile_id}/representatives", response={201: RepresentationOut, **ERRORS},
             summary="Inviter un second représentant légal ou un tuteur")
def invite(request: HttpRequest, profile_id: UUID, payload: InviteIn):
    representation = invite_representative(
        me(request), person_or_404(profile_id), nir=payload.nir, family_name=payload.family_name,
        given_name=payload.given_name, birth_date=payload.birth_date, kind=payload.kind,
    )
    return Status(201, representation_out(representation))


@router.get("/invitations", response={200: list[InvitationOut], 401: Error}, summary="Invitations reçues")
def invitations(request: HttpRequest):
    rows = (
        Representation.objects.pending().filter(representative=me(request))
        .select_related("person", "invited_by").order_by("created_at")
    )
    return [
        {"id": r.uuid, "kind": r.kind, "created_at": r.created_at, "expires_at": r.expires_at,
         "invited_by": r.invited_by.full_name if r.invited_by else "", "birth_date": r.person.birth_date,
         "profile": {"id": r.person.uuid, "given_names": r.person.given_names,
                     "family_name": r.person.family_name}}
        for r in rows
    ]


def _respond(request: HttpRequest, invitation_id: UUID, *, accept: bool) -> dict:
    holder = me(request)
    if not Representation.objects.filter(uuid=invitation_id, representative=holder).exists():
        raise not_found()
    return representation_out(respond_to_invitation(holder, invitation_id, accept=accept))


@router.post("/invitations/{invitation_id}/accept", response={200: RepresentationOut, **ERRORS},
             summary="Accepter une invitation")
def accept(request: HttpRequest, invitation_id: UUID):
    return _respond(request, invitation_id, accept=True)


@router.post("/invitations/{invitation_id}/refuse", response={200: RepresentationOut, **ERRORS},
             summary="Refuser une invitation")
def refuse(request: HttpRequest, invitation_id: UUID):
    return _respond(request, invitation_id, accept=False)


@router.delete("/representations/{representation_id}", response={204: None, **ERRORS},
               summary="Mettre fin à une représentation")
def end(request: HttpRequest, representation_id: UUID):
    """I stop representing someone, or (as the attached parent) remove a second representative."""
    open_statuses = [RepresentationStatus.INVITED, RepresentationStatus.ACCEPTED]
    if not Representation.objects.filter(uuid=representation_id, status__in=open_statuses).exists():
        raise not_found()
    end_representation(me(request), representation_id)
    return Status(204, None)
