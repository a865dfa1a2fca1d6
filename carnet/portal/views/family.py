"""Mes proches: activate an attached child's profile, switch profile, invite or remove a second
legal representative or a guardian, answer invitations, stop representing someone.

Every access to another person's space goes through `authorise` (policy + access event) — here or
inside the domain action the view calls.
"""

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from carnet.identity.actions import family as actions
from carnet.identity.enums import RepresentationKind, RepresentationStatus, SpaceStatus
from carnet.identity.models import Person, Representation
from carnet.sharing.events import authorise
from carnet.sharing.policy import Action, PolicyDenied

from ..forms_account import (
    ActivateChildForm,
    InviteRepresentativeForm,
    RespondInvitationForm,
    SwitchProfileForm,
)
from ..profiles import SESSION_KEY, own_person

# Denials that must not reveal whether the space exists or who is related to it.
HIDDEN_REASONS = {"no_relationship", "not_attached_parent"}
ACTIVATABLE = {SpaceStatus.NOTIFIED, SpaceStatus.CREATED, SpaceStatus.ACTIVE}
OPEN = [RepresentationStatus.INVITED, RepresentationStatus.ACCEPTED]


def deny(request, exc: PolicyDenied):
    """404 when the person has no relationship with the space, else 403 saying why."""
    if exc.decision.reason in HIDDEN_REASONS:
        raise Http404(exc.message)
    return render(request, "portal/family/denied.html", {"title": _("Accès refusé"), "message": exc.message},
                  status=403)


def me_or_404(request) -> Person:
    """The signed-in insured person; operators' accounts have no space, hence no such pages."""
    me = own_person(request)
    if me is None:
        raise Http404
    return me


def _family_page(request, me: Person, *, activate_forms=None, invite_forms=None):
    """Render the family page; bound forms with errors replace the blank ones of their child."""
    activate_forms, invite_forms = activate_forms or {}, invite_forms or {}
    mine = set(Representation.objects.active().filter(representative=me).values_list("person_id", flat=True))
    children: list[Any] = list(Person.objects.filter(parent=me).order_by("birth_date", "pk"))
    for child in children:
        child.represented_by_me = child.pk in mine
        child.can_activate = child.is_minor() and child.status in ACTIVATABLE and not child.represented_by_me
        if child.can_activate:
            child.activate_form = activate_forms.get(child.pk) or ActivateChildForm(
                auto_id=f"activate-{child.uuid}-%s"
            )

    managed = []
    now = timezone.now()
    profile: Any  # gets page-only attributes (representative_rows, invite_form)
    for profile in actions.represented_profiles(me):
        try:
            authorise(me, Action.VIEW_SPACE, profile)
        except PolicyDenied:
            continue
        rows = list(
            profile.representations.filter(status__in=OPEN)
            .select_related("representative").order_by("created_at", "pk")
        )
        for row in rows:
            row.is_me = row.representative_id == me.pk
            row.expired = bool(row.status == RepresentationStatus.INVITED and row.expires_at
                               and row.expires_at <= now)
            row.removable = not row.is_me and row.kind != RepresentationKind.ATTACHED_PARENT
        profile.representative_rows = rows
        profile.invite_form = invite_forms.get(profile.pk) or InviteRepresentativeForm(
            auto_id=f"invite-{profile.uuid}-%s", initial={"child": profile.uuid}
        )
        managed.append(profile)

    context = {
        "title": _("Mes proches"),
        "me": me,
        "children": children,
        "managed": managed,
        "invitations": Representation.objects.pending().filter(representative=me)
        .select_related("person", "invited_by").order_by("created_at"),
        "held": Representation.objects.active().filter(representative=me)
        .select_related("person").order_by("person__birth_date"),
        "acting_for": request.session.get(SESSION_KEY),
    }
    return render(request, "portal/family/family.html", context)


@require_safe
def family(request):
    me = me_or_404(request)
    try:
        authorise(me, Action.VIEW_SPACE, me)  # one's own family page; each represented space is asked below
    except PolicyDenied as exc:
        return deny(request, exc)
    return _family_page(request, me)


@require_POST
def switch_profile(request):
    """Show another space (a represented person's) or back to one's own; the policy decides."""
    me = me_or_404(request)
    form = SwitchProfileForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Profil invalide."))
    wanted = form.cleaned_data["profile"]
    if wanted == me.uuid:
        request.session.pop(SESSION_KEY, None)
        return redirect("portal:home")
    target = Person.objects.filter(uuid=wanted).first()
    if target is None:
        raise Http404
    try:
        authorise(me, Action.VIEW_SPACE, target)
    except PolicyDenied as exc:
        raise Http404(exc.message) from None
    request.session[SESSION_KEY] = str(target.uuid)
    messages.info(request, _("Vous consultez maintenant le profil de %(name)s.") % {"name": target.full_name})
    return redirect("portal:home")


@require_POST
def activate_child(request, child):
    me = me_or_404(request)
    target = Person.objects.filter(uuid=child).first()
    if target is None:
        raise Http404
    form = ActivateChildForm(request.POST, auto_id=f"activate-{target.uuid}-%s")
    if form.is_valid():
        try:
            actions.activate_child(me, target, certify=form.cleaned_data["certify"])
        except PolicyDenied as exc:
            return deny(request, exc)
        except actions.FamilyError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Le profil de %(name)s est activé.") % {"name": target.full_name})
            return redirect("portal:family")
    return _family_page(request, me, activate_forms={target.pk: form})


@require_POST
def invite(request):
    me = me_or_404(request)
    try:
        target = Person.objects.filter(uuid=uuid.UUID(request.POST.get("child", ""))).first()
    except ValueError:
        target = None
    if target is None:
        raise Http404
    form = InviteRepresentativeForm(request.POST, auto_id=f"invite-{target.uuid}-%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.invite_representative(
                me, target, nir=data["nir"], family_name=data["family_name"], given_name=data["given_name"],
                birth_date=data["birth_date"], kind=data["kind"],
            )
        except PolicyDenied as exc:
            return deny(request, exc)
        except actions.FamilyError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Invitation envoyée. La personne invitée doit l'accepter depuis son "
                                        "propre espace, dans les 30 jours."))
            return redirect("portal:family")
    return _family_page(request, me, invite_forms={target.pk: form})


@require_POST
def respond(request, representation):
    me = me_or_404(request)
    form = RespondInvitationForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Réponse invalide."))
    accept = form.cleaned_data["decision"] == RespondInvitationForm.ACCEPT
    try:
        row = actions.respond_to_invitation(me, representation, accept=accept)
    except actions.FamilyError as exc:
        messages.error(request, exc.message)
    else:
        if accept:
            messages.success(request, _("Vous pouvez maintenant accéder au profil de %(name)s.")
                             % {"name": row.person.full_name})
        else:
            messages.info(request, _("Invitation refusée."))
    return redirect("portal:family")


@require_POST
def end(request, representation):
    """Leave a representation I hold, or remove (or cancel the invitation of) another representative."""
    me = me_or_404(request)
    try:
        row = actions.end_representation(me, representation)
    except PolicyDenied as exc:
        return deny(request, exc)
    except actions.FamilyError as exc:
        messages.error(request, exc.message)
        return redirect("portal:family")
    if row.representative_id == me.pk:
        if request.session.get(SESSION_KEY) == str(row.person.uuid):
            request.session.pop(SESSION_KEY, None)
        messages.success(request, _("Vous n'avez plus accès au profil de %(name)s.")
                         % {"name": row.person.full_name})
    elif row.responded_at is None:
        messages.success(request, _("Invitation annulée."))
    else:
        messages.success(request, _("%(name)s n'a plus accès à ce profil.")
                         % {"name": row.representative.full_name})
    return redirect("portal:family")

