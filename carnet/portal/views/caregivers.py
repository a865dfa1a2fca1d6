"""Mes aidants / Les personnes que j'aide: invite a caregiver, answer invitations, end a delegation.

The page is always about the signed-in person's own account (like "Mes proches"), whichever profile is shown.
The rules are the domain's (carnet/caregivers/actions.py) and the policy's; views validate, call, render.
"""

from django.contrib import messages
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from carnet.caregivers import actions
from carnet.caregivers.actions import INVITATION_DAYS, MAX_CAREGIVERS, MAX_HELPED
from carnet.caregivers.certificate import may_do, may_not_do
from carnet.caregivers.enums import DelegationStatus
from carnet.caregivers.errors import CaregiverError
from carnet.caregivers.models import Delegation
from carnet.sharing.events import authorise
from carnet.sharing.policy import Action, PolicyDenied

from ..forms_caregivers import InviteCaregiverForm, RespondCaregiverForm
from ..profiles import SESSION_KEY
from .family import deny, me_or_404


def _page(request, me, *, form=None, status=200):
    mine = list(actions.caregivers_of(me))
    context = {
        "title": _("Mes aidants"),
        "caregivers": mine,
        "at_maximum": len(mine) >= MAX_CAREGIVERS,
        "form": form or InviteCaregiverForm(auto_id="caregiver-%s"),
        "invitations": actions.invitations_for(me),
        "helped": actions.helped_by(me),
        "max_caregivers": MAX_CAREGIVERS, "max_helped": MAX_HELPED, "invitation_days": INVITATION_DAYS,
        "may_do": may_do(), "may_not_do": may_not_do(),
    }
    return render(request, "portal/caregivers/caregivers.html", context, status=status)


def _own_page(request):
    """The signed-in person and the policy's answer for their own page (caregivers are the holder's matter)."""
    me = me_or_404(request)
    authorise(me, Action.MANAGE_CAREGIVERS, me)
    return me


@require_safe
def caregivers(request):
    try:
        me = _own_page(request)
    except PolicyDenied as exc:
        return deny(request, exc)
    return _page(request, me)


@require_POST
def invite(request):
    try:
        me = _own_page(request)
    except PolicyDenied as exc:
        return deny(request, exc)
    form = InviteCaregiverForm(request.POST, auto_id="caregiver-%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.invite_caregiver(me, me, nir=data["nir"], family_name=data["family_name"],
                                     given_name=data["given_name"], birth_date=data["birth_date"],
                                     sworn=data["sworn"])
        except PolicyDenied as exc:
            return deny(request, exc)
        except CaregiverError as exc:
            form.add_domain_error(exc)
            return _page(request, me, form=form, status=429 if exc.code == "locked" else 400)
        messages.success(request, _("Invitation envoyée. La personne invitée doit l'accepter depuis son propre espace, "
                                    "dans les %(days)d jours.") % {"days": INVITATION_DAYS})
        return redirect("portal:caregivers")
    return _page(request, me, form=form, status=400)


@require_POST
def respond(request, delegation):
    try:
        me = _own_page(request)
    except PolicyDenied as exc:
        return deny(request, exc)
    form = RespondCaregiverForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Réponse invalide."))
    accept = form.cleaned_data["decision"] == RespondCaregiverForm.ACCEPT
    try:
        row = actions.respond_to_invitation(me, delegation, accept=accept)
    except CaregiverError as exc:
        messages.error(request, exc.message)
    else:
        if accept:
            messages.success(request, _("Vous êtes maintenant l'aidant de %(name)s. Choisissez son profil avec le "
                                        "sélecteur « Profil affiché ».") % {"name": row.person.full_name})
        else:
            messages.info(request, _("Invitation refusée."))
    return redirect("portal:caregivers")


@require_http_methods(["GET", "POST"])
def end(request, delegation):
    """Confirm, then end a delegation (either side) or cancel a pending invitation (the holder)."""
    me = me_or_404(request)
    row = Delegation.objects.filter(uuid=delegation).select_related("person", "caregiver").first()
    if row is None:
        raise Http404
    as_caregiver = row.caregiver_id == me.pk
    try:
        # The holder's side asks MANAGE_CAREGIVERS on their space (a stranger: 404); the caregiver leaves their own.
        if as_caregiver:
            authorise(me, Action.VIEW_SPACE, me)
        else:
            authorise(me, Action.MANAGE_CAREGIVERS, row.person)
    except PolicyDenied as exc:
        return deny(request, exc)
    open_row = (row.status == DelegationStatus.ACCEPTED and row.ended_at is None) or (
        row.is_pending() and not as_caregiver)
    if not open_row:
        messages.error(request, _("Cet accès n'existe pas ou a déjà pris fin."))
        return redirect("portal:caregivers")
    if request.method == "POST":
        try:
            ended = actions.end_delegation(me, row.uuid)
        except PolicyDenied as exc:
            return deny(request, exc)
        except CaregiverError as exc:
            messages.error(request, exc.message)
            return redirect("portal:caregivers")
        if as_caregiver:
            if request.session.get(SESSION_KEY) == str(ended.person.uuid):
                request.session.pop(SESSION_KEY, None)
            messages.success(request, _("Vous n'êtes plus l'aidant de %(name)s.") % {"name": ended.person.full_name})
        elif ended.end_reason == "cancelled":
            messages.success(request, _("Invitation annulée."))
        else:
            messages.success(request, _("%(name)s n'est plus votre aidant. Une attestation de fin d'accès est "
                                        "dans vos documents.") % {"name": ended.caregiver.full_name})
        return redirect("portal:caregivers")
    return render(request, "portal/caregivers/end.html", {
        "title": _("Mettre fin à un accès d'aidant"), "row": row, "as_caregiver": as_caregiver,
        "pending": row.status == DelegationStatus.PENDING,
    })
