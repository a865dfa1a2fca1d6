"""The holder's side of sharing ("Paramètres de confidentialité"): authorise professionals, care teams and
establishments (permanently or until a date), change the end date, revoke, block and unblock professionals,
give them roles (médecin traitant, sage-femme référente, pharmacien correspondant, administrateur de santé).

One function per use case: the policy first (`Action.MANAGE_SHARING`: the holder and accepted legal
representatives), then one transaction that locks the person row (so two concurrent changes cannot leave two
médecins traitants or two authorisations in force for the same grantee), writes, and records an access event
for every change, the holder's own included (the issue: every role and authorisation change is traced).

Choices made here, on top of the policy:
- An end date ("jusqu'au") is a Paris calendar day, inclusive: access ends at midnight after it. It must be
  after today and at most `MAX_YEARS` ahead (beyond that, "sans limite de durée" is the honest choice).
- Revoking a professional's own authorisation also ends their roles: a role belongs to someone on the list.
- Blocking a professional also revokes their own authorisation in force and ends their roles, so that
  unblocking later does not silently give back access: the holder authorises again if they wish. Their care
  team's or establishment's authorisation stays (the block overrides it while it lasts, as the policy says).
- Giving a role authorises the professional directly (permanently) when they are not already authorised
  on their own name: a médecin traitant must not lose access because a care team was revoked.
- The administrateur de santé (a professional) may block and unblock for the holder (`Action.BLOCK_ON_BEHALF`,
  nothing else of the holder's sharing), but not themselves, nor the holder's médecin traitant or another
  administrateur de santé: those roles are the holder's own choice (in Mon Espace Santé the médecin traitant even
  comes from the insurer), and blocking them would undo it behind the holder's back. They lift only blocks an
  administrateur de santé made: a block the holder or a representative decided is theirs to lift. The holder is
  told (in the app, no name) and sees the block, and who made it, on their page and in the history.
"""

import datetime as dt

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from carnet.common.dates import add_years, today
from carnet.identity.errors import ActionRefused
from carnet.identity.models import Person

from .events import record, require
from .models import Authorisation, Block, CareRole, CareRoleKind, CareTeam, Establishment, Professional
from .policy import Action, Decision, roles_of

MAX_YEARS = 10
# Roles only one professional holds at a time; giving it to another ends the previous one.
SINGLE_ROLES = {CareRoleKind.MEDECIN_TRAITANT, CareRoleKind.SAGE_FEMME_REFERENTE,
                CareRoleKind.PHARMACIEN_CORRESPONDANT}
# The profession (TRE_G15) a role requires; absent: any profession.
ROLE_PROFESSIONS = {
    CareRoleKind.MEDECIN_TRAITANT: "10",  # médecin
    CareRoleKind.SAGE_FEMME_REFERENTE: "50",  # sage-femme
    CareRoleKind.PHARMACIEN_CORRESPONDANT: "21",  # pharmacien
}


class SharingError(ActionRefused):
    """A sharing change refused, with a message the holder can act on."""


# --- helpers ---------------------------------------------------------------------------------------------------


def check(actor, person) -> Decision:
    """Ask the policy whether `actor` manages `person`'s sharing; a denial is recorded (and raised) at once,
    outside any write transaction. Faces call it before looking rows up, so a stranger's probe is traced too."""
    return require(actor, Action.MANAGE_SHARING, person)


def _lock(person) -> None:
    """Serialise this person's sharing changes (the row lock `events.record` also takes)."""
    Person.objects.select_for_update().filter(pk=person.pk).values_list("pk", flat=True).first()


def _trace(person, actor, decision: Decision, action: str, subject: str) -> None:
    record(person, actor=actor, role=decision.role, action=action, subject=subject)


def expires_at_for(until: dt.date | None) -> dt.datetime | None:
    """Validate an end date chosen by the holder and turn it into the moment access ends (midnight, Paris, after
    that day). None: no end."""
    if until is None:
        return None
    if isinstance(until, dt.datetime):
        until = until.date()
    if until <= today():
        raise SharingError(_("La date de fin doit être postérieure à aujourd'hui."), field="until",
                           code="past_date")
    if until > add_years(today(), MAX_YEARS):
        raise SharingError(_("La date de fin ne peut pas dépasser %(years)s ans : choisissez plutôt une "
                             "autorisation sans limite de durée.") % {"years": MAX_YEARS}, field="until",
                           code="too_far")
    return timezone.make_aware(dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min))


def until_of(authorisation: Authorisation) -> dt.date | None:
    """The last day (Paris) of an authorisation with an end, as the holder chose it."""
    if authorisation.expires_at is None:
        return None
    return timezone.localtime(authorisation.expires_at - dt.timedelta(microseconds=1)).date()


def in_force(queryset: QuerySet[Authorisation]) -> QuerySet[Authorisation]:
    now = timezone.now()
    return queryset.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def _subject(authorisation: Authorisation) -> str:
    """Whom the authorisation is for, by public id (the history names them; no health content)."""
    for kind in ("professional", "care_team", "establishment"):
        grantee = getattr(authorisation, kind)
        if grantee is not None:
            return f"{kind}:{grantee.uuid}"
    return ""


def _own(person, row, message: str) -> None:
    """The row must be this person's (anything else is answered as not found: nothing to learn)."""
    if row is None or row.person_id != person.pk:
        raise SharingError(message, code="not_found")


def _active_professional(professional: Professional | None) -> Professional:
    if professional is None:
        raise SharingError(_("Ce professionnel n'existe pas dans l'annuaire."), field="professional",
                           code="not_found")
    if not professional.active:
        raise SharingError(_("Ce professionnel n'est plus inscrit comme actif dans l'annuaire."),
                           field="professional", code="inactive")
    return professional


def _direct_authorisation(person, professional) -> Authorisation | None:
    return in_force(Authorisation.objects.filter(person=person, professional=professional)).first()


def _grant(actor, person, decision: Decision, until: dt.date | None, **grantee) -> Authorisation:
    expires_at = expires_at_for(until)
    with transaction.atomic():
        _lock(person)
        if in_force(Authorisation.objects.filter(person=person, **grantee)).exists():
            raise SharingError(_("Cet accès est déjà autorisé : vous pouvez modifier sa date de fin."),
                               code="already_authorised")
        authorisation = Authorisation.objects.create(person=person, granted_by=actor, expires_at=expires_at,
                                                     **grantee)
        _trace(person, actor, decision, "sharing.authorise", _subject(authorisation))
    return authorisation


def _end_roles(person, actor, decision: Decision, professional: Professional) -> int:
    roles = list(CareRole.objects.filter(person=person, professional=professional, ended_at__isnull=True))
    now = timezone.now()
    for role in roles:
        role.ended_at = now
        role.save(update_fields=["ended_at"])
        _trace(person, actor, decision, "sharing.role_end", f"professional:{professional.uuid}")
    return len(roles)


# --- authorisations -------------------------------------------------------------------------------------------


def authorise_professional(actor, person, professional: Professional, *, until: dt.date | None) -> Authorisation:
    """Autoriser un professionnel: permanently (`until` None) or through `until` included."""
    decision = check(actor, person)
    _active_professional(professional)
    if Block.objects.filter(person=person, professional=professional, lifted_at__isnull=True).exists():
        raise SharingError(_("Vous avez bloqué ce professionnel : débloquez-le avant de l'autoriser."),
                           code="blocked")
    return _grant(actor, person, decision, until, professional=professional)


def authorise_care_team(actor, person, care_team: CareTeam, *, until: dt.date | None) -> Authorisation:
    """Autoriser une équipe de soins: each of its members reads as if authorised (blocks still win)."""
    decision = check(actor, person)
    if care_team is None:
        raise SharingError(_("Cette équipe de soins n'existe pas."), code="not_found")
    return _grant(actor, person, decision, until, care_team=care_team)


def authorise_establishment(actor, person, establishment: Establishment, *,
                            until: dt.date | None) -> Authorisation:
    """Autoriser un établissement: the professionals practising there read as if authorised (blocks still win)."""
    decision = check(actor, person)
    if establishment is None:
        raise SharingError(_("Cet établissement n'existe pas."), code="not_found")
    return _grant(actor, person, decision, until, establishment=establishment)


def set_expiry(actor, person, authorisation: Authorisation, until: dt.date | None) -> Authorisation:
    """Change when an authorisation in force ends (None: no end)."""
    decision = check(actor, person)
    _own(person, authorisation, _("Cette autorisation n'existe pas."))
    expires_at = expires_at_for(until)
    with transaction.atomic():
        _lock(person)
        authorisation.refresh_from_db()
        if not in_force(Authorisation.objects.filter(pk=authorisation.pk)).exists():
            raise SharingError(_("Cette autorisation a pris fin : accordez-en une nouvelle."), code="ended")
        authorisation.expires_at = expires_at
        authorisation.save(update_fields=["expires_at"])
        _trace(person, actor, decision, "sharing.expiry", _subject(authorisation))
    return authorisation


def revoke(actor, person, authorisation: Authorisation) -> Authorisation:
    """Retirer une autorisation (declared by a professional or granted by the holder). A professional's own
    authorisation takes their roles with it."""
    decision = check(actor, person)
    _own(person, authorisation, _("Cette autorisation n'existe pas."))
    with transaction.atomic():
        _lock(person)
        authorisation.refresh_from_db()
        if authorisation.revoked_at is not None:
            raise SharingError(_("Cette autorisation a déjà été retirée."), code="ended")
        authorisation.revoked_at = timezone.now()
        authorisation.save(update_fields=["revoked_at"])
        _trace(person, actor, decision, "sharing.revoke", _subject(authorisation))
        if authorisation.professional is not None:
            _end_roles(person, actor, decision, authorisation.professional)
    return authorisation


# --- blocks ---------------------------------------------------------------------------------------------------


def check_block(actor, person) -> Decision:
    """May `actor` block and unblock professionals for `person`: the holder or a representative (MANAGE_SHARING),
    or the holder's administrateur de santé (BLOCK_ON_BEHALF only). A denial is recorded and raised."""
    if isinstance(actor, Professional):
        return require(actor, Action.BLOCK_ON_BEHALF, person)
    return check(actor, person)


# Roles the holder chose that their administrateur de santé cannot block.
PROTECTED_FROM_ADMINISTRATOR = {CareRoleKind.MEDECIN_TRAITANT, CareRoleKind.ADMINISTRATEUR_SANTE}


def _may_block_on_behalf(person, administrator: Professional, professional: Professional) -> None:
    if professional.pk == administrator.pk:
        raise SharingError(_("Vous ne pouvez pas vous bloquer vous-même."), code="self")
    if roles_of(person, professional) & PROTECTED_FROM_ADMINISTRATOR:
        raise SharingError(_("Le médecin traitant et l'administrateur de santé sont choisis par le titulaire : lui "
                             "seul peut les bloquer."), code="protected_role")


def block(actor, person, professional: Professional) -> Block:
    """Bloquer un professionnel: overrides every authorisation (except for what they authored). Their own
    authorisation in force is revoked and their roles end, so unblocking never restores access by itself.
    `actor` is the holder, a representative, or the holder's administrateur de santé (a Professional)."""
    decision = check_block(actor, person)
    if professional is None:
        raise SharingError(_("Ce professionnel n'existe pas dans l'annuaire."), code="not_found")
    on_behalf = isinstance(actor, Professional)
    with transaction.atomic():
        _lock(person)
        if on_behalf:
            _may_block_on_behalf(person, actor, professional)
        if Block.objects.filter(person=person, professional=professional, lifted_at__isnull=True).exists():
            raise SharingError(_("Ce professionnel est déjà bloqué."), code="already_blocked")
        row = Block.objects.create(person=person, professional=professional,
                                   blocked_by=None if on_behalf else actor,
                                   blocked_by_professional=actor if on_behalf else None)
        subject = f"professional:{professional.uuid}"
        _trace(person, actor, decision, "sharing.block", subject)
        for authorisation in in_force(Authorisation.objects.filter(person=person, professional=professional)):
            authorisation.revoked_at = row.created_at
            authorisation.save(update_fields=["revoked_at"])
            _trace(person, actor, decision, "sharing.revoke", subject)
        _end_roles(person, actor, decision, professional)
        if on_behalf:
            _tell_holder(person, _("Votre administrateur de santé a bloqué un professionnel de santé pour vous."))
    return row


def unblock(actor, person, professional: Professional) -> Block:
    """Débloquer un professionnel. Access comes back only through an authorisation in force (e.g. their care
    team's); their own must be given again. The administrateur de santé lifts only blocks an administrateur de
    santé made."""
    decision = check_block(actor, person)
    if professional is None:
        raise SharingError(_("Ce professionnel n'existe pas dans l'annuaire."), code="not_found")
    on_behalf = isinstance(actor, Professional)
    with transaction.atomic():
        _lock(person)
        row = Block.objects.filter(person=person, professional=professional, lifted_at__isnull=True).first()
        if row is None:
            raise SharingError(_("Ce professionnel n'est pas bloqué."), code="not_blocked")
        if on_behalf and row.blocked_by_professional_id is None:
            raise SharingError(_("Ce blocage a été décidé par le titulaire : lui seul peut le lever."),
                               code="holder_block")
        row.lifted_at = timezone.now()
        row.save(update_fields=["lifted_at"])
        _trace(person, actor, decision, "sharing.unblock", f"professional:{professional.uuid}")
        if on_behalf:
            _tell_holder(person, _("Votre administrateur de santé a débloqué un professionnel de santé pour vous."))
    return row


def _tell_holder(person, title: str) -> None:
    """What an administrateur de santé did for the holder: that it happened (the page and the history say who)."""
    from django.urls import reverse

    from carnet.notifications import actions as notifications
    from carnet.notifications.enums import Kind

    notifications.notify(person, kind=Kind.ACCOUNT, code="blocked_on_behalf", title=title,
                         url=reverse("portal:privacy") + "#bloques")


# --- roles ----------------------------------------------------------------------------------------------------


def role_problem(kind: str, professional: Professional) -> str:
    """Why `professional` cannot take role `kind` ("" when they can)."""
    if kind not in CareRoleKind.values:
        return _("Choisissez un rôle de la liste.")
    required = ROLE_PROFESSIONS.get(CareRoleKind(kind))
    if required and professional.profession_code != required:
        return {
            CareRoleKind.MEDECIN_TRAITANT: _("Le médecin traitant doit être un médecin."),
            CareRoleKind.SAGE_FEMME_REFERENTE: _("La sage-femme référente doit être une sage-femme."),
            CareRoleKind.PHARMACIEN_CORRESPONDANT: _("Le pharmacien correspondant doit être un pharmacien."),
        }[CareRoleKind(kind)]
    return ""


def assign_role(actor, person, professional: Professional, kind: str) -> CareRole:
    """Give a professional a role. Médecin traitant, sage-femme référente and pharmacien correspondant are
    held by one professional at a time: the previous one's role ends. The professional is authorised (on their
    own name, permanently) if they were not."""
    decision = check(actor, person)
    _active_professional(professional)
    if problem := role_problem(kind, professional):
        raise SharingError(problem, field="kind", code="bad_role")
    kind = CareRoleKind(kind)
    subject = f"professional:{professional.uuid}"
    with transaction.atomic():
        _lock(person)
        if Block.objects.filter(person=person, professional=professional, lifted_at__isnull=True).exists():
            raise SharingError(_("Vous avez bloqué ce professionnel : débloquez-le avant de lui confier un rôle."),
                               code="blocked")
        current = CareRole.objects.filter(person=person, kind=kind, ended_at__isnull=True)
        if current.filter(professional=professional).exists():
            raise SharingError(_("Ce professionnel a déjà ce rôle."), code="already_assigned")
        now = timezone.now()
        if kind in SINGLE_ROLES:
            for previous in current.select_related("professional"):
                previous.ended_at = now
                previous.save(update_fields=["ended_at"])
                _trace(person, actor, decision, "sharing.role_end", f"professional:{previous.professional.uuid}")
        if _direct_authorisation(person, professional) is None:
            Authorisation.objects.create(person=person, professional=professional, granted_by=actor)
            _trace(person, actor, decision, "sharing.authorise", subject)
        role = CareRole.objects.create(person=person, professional=professional, kind=kind, assigned_by=actor)
        _trace(person, actor, decision, "sharing.role_assign", subject)
    return role


def end_role(actor, person, role: CareRole) -> CareRole:
    """Mettre fin à un rôle; the professional stays authorised (revoking is a separate choice)."""
    decision = check(actor, person)
    _own(person, role, _("Ce rôle n'existe pas."))
    with transaction.atomic():
        _lock(person)
        role.refresh_from_db()
        if role.ended_at is not None:
            raise SharingError(_("Ce rôle a déjà pris fin."), code="ended")
        role.ended_at = timezone.now()
        role.save(update_fields=["ended_at"])
        _trace(person, actor, decision, "sharing.role_end", f"professional:{role.professional.uuid}")
    return role


# --- what the holder's pages and the API list (callers ask the policy first) -------------------------------------


def current_authorisations(person) -> QuerySet[Authorisation]:
    """Authorisations in force, professionals first, then care teams, then establishments."""
    return in_force(Authorisation.objects.filter(person=person)).select_related(
        "professional", "care_team", "establishment").order_by("created_at", "pk")


def current_blocks(person) -> QuerySet[Block]:
    return Block.objects.filter(person=person, lifted_at__isnull=True).select_related(
        "professional", "blocked_by_professional").order_by("created_at", "pk")


def current_roles(person) -> QuerySet[CareRole]:
    return CareRole.objects.filter(person=person, ended_at__isnull=True).select_related("professional").order_by(
        "kind", "created_at", "pk")
