"""Sharing of a space (mine, or a represented person's with `?person=<uuid>`): who may read it (professionals,
care teams, establishments; permanently or until a date), blocks, roles (médecin traitant...), and the directory
search to pick whom to authorise. carnet.sharing.actions asks the policy and traces every change; this module
only shapes requests and answers. Search words travel in a POST body, never in a URL."""

import datetime as dt
from typing import Literal, cast
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from carnet.identity.models import Person
from carnet.sharing import actions, directory_search
from carnet.sharing.events import authorise
from carnet.sharing.models import Authorisation, Block, CareRole, CareRoleKind, CareTeam, Establishment, Professional
from carnet.sharing.policy import Action

from ..access import me, not_found, person_or_404
from ..schemas import Error

router = Router()
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error}


class ProfessionalOut(Schema):
    id: UUID
    rpps: str
    given_names: str
    family_name: str
    profession_code: str
    profession_label: str
    specialty_code: str
    specialty_label: str


class CareTeamOut(Schema):
    id: UUID
    name: str


class EstablishmentOut(Schema):
    id: UUID
    finess: str
    name: str


class AuthorisationOut(Schema):
    id: UUID
    grantee: Literal["professional", "care_team", "establishment"]
    professional: ProfessionalOut | None = None
    care_team: CareTeamOut | None = None
    establishment: EstablishmentOut | None = None
    created_at: dt.datetime
    until: dt.date | None = Field(description="Dernier jour d'accès (inclus, heure de Paris) ; vide : sans limite")
    expires_at: dt.datetime | None
    declared_by_professional: bool


class BlockOut(Schema):
    id: UUID
    professional: ProfessionalOut
    created_at: dt.datetime


class RoleOut(Schema):
    id: UUID
    kind: CareRoleKind
    professional: ProfessionalOut
    created_at: dt.datetime


class GrantIn(Schema):
    """Exactly one grantee."""

    professional: UUID | None = None
    care_team: UUID | None = None
    establishment: UUID | None = None
    until: dt.date | None = Field(None, description="Dernier jour d'accès (inclus) ; vide : sans limite de durée")


class ExpiryIn(Schema):
    until: dt.date | None = Field(None, description="Dernier jour d'accès (inclus) ; vide : sans limite de durée")


class BlockIn(Schema):
    professional: UUID


class RoleIn(Schema):
    professional: UUID
    kind: CareRoleKind


class DirectorySearchIn(Schema):
    kind: Literal["professional", "care_team", "establishment"] = "professional"
    name: str = Field(max_length=directory_search.MAX_LENGTH,
                      description="Début du nom et du prénom, ou numéro RPPS / FINESS")
    profession: str = Field("", max_length=4, description="Code de profession (TRE_G15), professionnels seulement")


class DirectoryResultsOut(Schema):
    professionals: list[ProfessionalOut] = []
    care_teams: list[CareTeamOut] = []
    establishments: list[EstablishmentOut] = []


def _space(request: HttpRequest, person: UUID | None) -> tuple[Person, Person]:
    actor = me(request)
    return actor, (actor if person is None or person == actor.uuid else person_or_404(person))


def professional_out(p: Professional) -> dict:
    return {"id": p.uuid, "rpps": p.rpps, "given_names": p.given_names, "family_name": p.family_name,
            "profession_code": p.profession_code, "profession_label": p.profession_label,
            "specialty_code": p.specialty_code, "specialty_label": p.specialty_label}


def _team_out(team: CareTeam) -> dict:
    return {"id": team.uuid, "name": team.name}


def _establishment_out(establishment: Establishment) -> dict:
    return {"id": establishment.uuid, "finess": establishment.finess, "name": establishment.name}


def authorisation_out(a: Authorisation) -> dict:
    grantee = "professional" if a.professional_id else "care_team" if a.care_team_id else "establishment"
    return {
        "id": a.uuid, "grantee": grantee,
        "professional": professional_out(cast(Professional, a.professional)) if a.professional_id else None,
        "care_team": _team_out(cast(CareTeam, a.care_team)) if a.care_team_id else None,
        "establishment": _establishment_out(cast(Establishment, a.establishment)) if a.establishment_id else None,
        "created_at": a.created_at, "until": actions.until_of(a), "expires_at": a.expires_at,
        "declared_by_professional": a.declared_by_professional,
    }


def _block_out(b: Block) -> dict:
    return {"id": b.uuid, "professional": professional_out(b.professional), "created_at": b.created_at}


def _role_out(r: CareRole) -> dict:
    return {"id": r.uuid, "kind": r.kind, "professional": professional_out(r.professional),
            "created_at": r.created_at}


def _get(model, **lookup):
    found = model.objects.filter(**lookup).first()
    if found is None:
        raise not_found()
    return found


@router.get("/sharing/authorisations", response={200: list[AuthorisationOut], **ERRORS})
def list_authorisations(request: HttpRequest, person: UUID | None = None):
    """Authorisations in force: professionals, care teams and establishments that may read the space."""
    actor, target = _space(request, person)
    authorise(actor, Action.MANAGE_SHARING, target)
    return [authorisation_out(a) for a in actions.current_authorisations(target)]


@router.post("/sharing/authorisations", response={201: AuthorisationOut, **ERRORS})
def grant(request: HttpRequest, payload: GrantIn, person: UUID | None = None):
    """Authorise one professional, care team or establishment, permanently or through `until`."""
    actor, target = _space(request, person)
    given = [name for name in ("professional", "care_team", "establishment") if getattr(payload, name)]
    if len(given) != 1:
        raise actions.SharingError(_("Indiquez un seul professionnel, une seule équipe ou un seul établissement."))
    actions.check(actor, target)  # before any lookup: a stranger's probe is refused and traced
    if payload.professional:
        row = actions.authorise_professional(actor, target, _get(Professional, uuid=payload.professional),
                                             until=payload.until)
    elif payload.care_team:
        row = actions.authorise_care_team(actor, target, _get(CareTeam, uuid=payload.care_team), until=payload.until)
    else:
        row = actions.authorise_establishment(actor, target, _get(Establishment, uuid=payload.establishment),
                                              until=payload.until)
    return Status(201, authorisation_out(row))


@router.put("/sharing/authorisations/{authorisation_id}/expiry", response={200: AuthorisationOut, **ERRORS})
def set_expiry(request: HttpRequest, authorisation_id: UUID, payload: ExpiryIn, person: UUID | None = None):
    """Change the last day of an authorisation in force (empty: no end)."""
    actor, target = _space(request, person)
    actions.check(actor, target)
    row = _get(Authorisation, person=target, uuid=authorisation_id)
    return authorisation_out(actions.set_expiry(actor, target, row, payload.until))


@router.delete("/sharing/authorisations/{authorisation_id}", response={204: None, **ERRORS})
def revoke(request: HttpRequest, authorisation_id: UUID, person: UUID | None = None):
    """Revoke an authorisation; a professional's own takes their roles with it."""
    actor, target = _space(request, person)
    actions.check(actor, target)
    actions.revoke(actor, target, _get(Authorisation, person=target, uuid=authorisation_id))
    return Status(204, None)


@router.get("/sharing/blocks", response={200: list[BlockOut], **ERRORS})
def list_blocks(request: HttpRequest, person: UUID | None = None):
    actor, target = _space(request, person)
    authorise(actor, Action.MANAGE_SHARING, target)
    return [_block_out(b) for b in actions.current_blocks(target)]


@router.post("/sharing/blocks", response={201: BlockOut, **ERRORS})
def block(request: HttpRequest, payload: BlockIn, person: UUID | None = None):
    """Block a professional: they read nothing but what they authored; their own authorisation and roles end."""
    actor, target = _space(request, person)
    actions.check(actor, target)
    row = actions.block(actor, target, _get(Professional, uuid=payload.professional))
    return Status(201, _block_out(row))


@router.delete("/sharing/blocks/{block_id}", response={204: None, **ERRORS})
def unblock(request: HttpRequest, block_id: UUID, person: UUID | None = None):
    """Lift a block. It does not authorise the professional again."""
    actor, target = _space(request, person)
    actions.check(actor, target)
    row = _get(Block, person=target, uuid=block_id,
               lifted_at__isnull=True)
    actions.unblock(actor, target, row.professional)
    return Status(204, None)


@router.get("/sharing/roles", response={200: list[RoleOut], **ERRORS})
def list_roles(request: HttpRequest, person: UUID | None = None):
    actor, target = _space(request, person)
    authorise(actor, Action.MANAGE_SHARING, target)
    return [_role_out(r) for r in actions.current_roles(target)]


@router.post("/sharing/roles", response={201: RoleOut, **ERRORS})
def assign_role(request: HttpRequest, payload: RoleIn, person: UUID | None = None):
    """Give a role; médecin traitant, sage-femme référente and pharmacien correspondant end the previous
    holder's. The professional is authorised if they were not."""
    actor, target = _space(request, person)
    actions.check(actor, target)
    role = actions.assign_role(actor, target, _get(Professional, uuid=payload.professional), payload.kind)
    return Status(201, _role_out(role))


@router.delete("/sharing/roles/{role_id}", response={204: None, **ERRORS})
def end_role(request: HttpRequest, role_id: UUID, person: UUID | None = None):
    actor, target = _space(request, person)
    actions.check(actor, target)
    actions.end_role(actor, target, _get(CareRole, person=target, uuid=role_id))
    return Status(204, None)


@router.post("/sharing/directory/search", response={200: DirectoryResultsOut, 400: Error, 401: Error})
def search_directory(request: HttpRequest, payload: DirectorySearchIn):
    """The directory (reference data, 20 results at most): professionals by name (and profession) or RPPS, care
    teams by name, establishments by name or FINESS. The words travel in the body, never in a URL."""
    if payload.kind == "care_team":
        return {"care_teams": [_team_out(t) for t in directory_search.search_care_teams(payload.name)]}
    if payload.kind == "establishment":
        return {"establishments": [_establishment_out(e)
                                   for e in directory_search.search_establishments(payload.name)]}
    found = directory_search.search_directory(payload.name, payload.profession)
    return {"professionals": [professional_out(p) for p in found]}
