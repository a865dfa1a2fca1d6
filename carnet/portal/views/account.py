"""Mon compte: personal information, password, contact details, devices, notification preferences,
the notification centre and the access history (Historique des accès).

Credentials, contact details and devices are always the signed-in person's own account
(`request.user`), never those of a profile they represent.
"""

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe
from stdnum.fr import nir as stdnum_nir

from carnet.identity.actions import login as login_actions
from carnet.identity.models import DeviceSession
from carnet.notifications import actions as notification_actions
from carnet.notifications.models import Notification
from carnet.sharing.events import authorise, verify_chain
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import Action, PolicyDenied, Role

from ..forms_account import (
    ContactChangeForm,
    DeviceActionForm,
    NotificationActionForm,
    OneTimeCodeForm,
    PasswordChangeForm,
    PreferencesForm,
)
from ..profiles import current_profile
from .family import deny, me_or_404

CONTACT_SESSION_KEY = "contact_change"
PAGE_SIZE = 20

ROLE_LABELS = {
    Role.HOLDER: gettext_lazy("Titulaire"),
    Role.REPRESENTATIVE: gettext_lazy("Représentant légal"),
    Role.SYSTEM: gettext_lazy("Système"),
    Role.NONE: gettext_lazy("Aucun lien avec ce profil"),
}
ACTION_LABELS = {
    Action.VIEW_SPACE: gettext_lazy("Consultation du profil"),
    Action.MANAGE_ACCOUNT: gettext_lazy("Gestion du compte"),
    Action.MANAGE_REPRESENTATIVES: gettext_lazy("Gestion des représentants légaux"),
    Action.ACTIVATE_PROFILE: gettext_lazy("Demande d'activation du profil"),
    "space.activate": gettext_lazy("Activation de l'espace"),
    "space.coming_of_age": gettext_lazy("Passage à la majorité"),
    "representative.invite": gettext_lazy("Invitation d'un représentant légal"),
    "representative.accept": gettext_lazy("Invitation acceptée"),
    "representative.refuse": gettext_lazy("Invitation refusée"),
    "representative.end": gettext_lazy("Fin d'un accès de représentant légal"),
    Action.READ_RECORD: gettext_lazy("Consultation du dossier"),
    Action.WRITE_RECORD: gettext_lazy("Modification du dossier"),
    "document.add": gettext_lazy("Ajout d'un document"),
    "document.edit": gettext_lazy("Modification d'un document"),
    "document.delete": gettext_lazy("Suppression d'un document"),
    "document.mask": gettext_lazy("Document masqué aux professionnels"),
    "document.unmask": gettext_lazy("Document rendu visible aux professionnels"),
    "account.login": gettext_lazy("Connexion"),
    "account.sign_out_everywhere": gettext_lazy("Déconnexion de tous les appareils"),
    "account.password_change": gettext_lazy("Modification du mot de passe"),
    "account.password_reset": gettext_lazy("Réinitialisation du mot de passe"),
    "account.email_change": gettext_lazy("Modification de l'adresse électronique"),
    "account.phone_change": gettext_lazy("Modification du numéro de mobile"),
}


@require_safe
def account(request):
    user = request.user
    person = user.person if user.person_id else None
    context = {
        "title": _("Mon compte"),
        "account": user,
        "person": person,
        "ins": stdnum_nir.format(person.nir) if person else "",
    }
    return render(request, "portal/account/account.html", context)


@require_http_methods(["GET", "POST"])
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if form.is_valid():
        data = form.cleaned_data
        try:
            login_actions.change_password(request.user, data["current"], data["new_password"],
                                            keep_device=request.session.get("device"))
        except login_actions.LoginError as exc:
            form.add_domain_error(exc, {"password": "new_password"})
        else:
            # The session hash follows the password: keep this session, other browsers are signed out.
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Votre mot de passe a été modifié."))
            return redirect("portal:account")
    return render(request, "portal/account/password_change.html",
                  {"title": _("Modifier mon mot de passe"), "form": form})


@require_http_methods(["GET", "POST"])
def contact_change(request):
    form, status = ContactChangeForm(request.POST or None), 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            challenge = login_actions.begin_contact_change(
                request.user, data["channel"], data["value"], password=data["password"]
            )
        except login_actions.LoginError as exc:
            form.add_domain_error(exc)
            status = 429 if getattr(exc, "code", "") == "locked" else 200
        else:
            request.session[CONTACT_SESSION_KEY] = {
                "otp": str(challenge.otp_uuid), "channel": challenge.channel,
                "to": challenge.masked_destination,
            }
            return redirect("portal:contact_change_confirm")
    return render(request, "portal/account/contact_change.html",
                  {"title": _("Modifier mes coordonnées"), "form": form, "account": request.user},
                  status=status)


@require_http_methods(["GET", "POST"])
def contact_change_confirm(request):
    pending = request.session.get(CONTACT_SESSION_KEY)
    if not pending:
        return redirect("portal:contact_change")
    form = OneTimeCodeForm(request.POST or None)
    if form.is_valid():
        try:
            login_actions.finish_contact_change(request.user, pending["otp"], form.cleaned_data["code"])
        except login_actions.LoginError as exc:
            form.add_domain_error(exc)
        else:
            request.session.pop(CONTACT_SESSION_KEY, None)
            messages.success(request, _("Vos coordonnées ont été modifiées. Elles servent désormais à "
                                        "recevoir vos codes de connexion."))
            return redirect("portal:account")
    return render(request, "portal/account/contact_change_confirm.html",
                  {"title": _("Confirmer mes nouvelles coordonnées"), "form": form, "pending": pending})


@require_http_methods(["GET", "POST"])
def devices(request):
    current = request.session.get("device")
    if request.method == "POST":
        form = DeviceActionForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(_("Demande invalide."))
        if form.cleaned_data["action"] == DeviceActionForm.EVERYWHERE:
            login_actions.sign_out_everywhere(request.user)
            logout(request)
            messages.success(request, _("Vous avez été déconnecté(e) de tous vos appareils, "
                                        "y compris celui-ci."))
            return redirect("portal:login")
        device = form.cleaned_data["device"]
        if not login_actions.sign_out_device(request.user, device):
            raise Http404
        if str(device) == current:
            logout(request)
            messages.success(request, _("Vous avez été déconnecté(e) de cet appareil."))
            return redirect("portal:login")
        messages.success(request, _("L'appareil a été déconnecté."))
        return redirect("portal:devices")
    rows = list(DeviceSession.objects.filter(account=request.user).order_by("-last_seen_at", "-pk")[:50])
    for row in rows:
        row.is_current = str(row.uuid) == current
    return render(request, "portal/account/devices.html",
                  {"title": _("Mes appareils connectés"), "devices": rows})


@require_http_methods(["GET", "POST"])
def preferences(request):
    me = me_or_404(request)
    form = PreferencesForm(request.POST or None, preferences=notification_actions.preferences_for(me))
    if form.is_valid():
        for kind, (email, sms) in form.choices().items():
            notification_actions.set_preference(me, kind, email=email, sms=sms)
        messages.success(request, _("Vos préférences de notification sont enregistrées."))
        return redirect("portal:preferences")
    return render(request, "portal/account/preferences.html", {
        "title": _("Mes préférences de notification"), "form": form, "account": request.user,
    })


@require_http_methods(["GET", "POST"])
def notifications(request):
    """The signed-in person's notification centre (including those about profiles they represent)."""
    me = me_or_404(request)
    if request.method == "POST":
        form = NotificationActionForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(_("Demande invalide."))
        action, target = form.cleaned_data["action"], form.cleaned_data["notification"]
        if action == NotificationActionForm.ALL_READ:
            notification_actions.mark_all_read(me)
            messages.success(request, _("Toutes vos notifications sont marquées comme lues."))
        elif action == NotificationActionForm.DELETE:
            if not notification_actions.delete_notification(me, target):
                raise Http404
            messages.success(request, _("Notification supprimée."))
        elif not notification_actions.mark_read(me, target, read=action == NotificationActionForm.READ):
            raise Http404
        page = request.GET.get("page", "")
        return redirect(f"{request.path}?page={page}" if page.isdigit() else request.path)
    items = Notification.objects.filter(person=me).select_related("about").order_by("-created_at", "-id")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/account/notifications.html", {
        "title": _("Mes notifications"), "page_obj": page,
        "has_unread": items.filter(read_at__isnull=True).exists(),
    })


@require_safe
def history(request):
    """Historique des accès of the profile shown: every access by someone else, every denial."""
    me = me_or_404(request)
    profile = current_profile(request)
    try:
        authorise(me, Action.VIEW_SPACE, profile)
    except PolicyDenied as exc:
        return deny(request, exc)
    events = AccessEvent.objects.filter(person=profile).order_by("-sequence")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for event in page.object_list:
        if event.actor_id == me.pk:
            event.who = _("Vous")
        elif event.actor_role == Role.SYSTEM or not (event.actor_id or event.actor_label):
            event.who = _("Système")
        else:
            event.who = event.actor_label
        event.role_label = ROLE_LABELS.get(event.actor_role, event.actor_role)
        event.action_label = ACTION_LABELS.get(event.action, event.action)
    return render(request, "portal/account/history.html", {
        "title": _("Historique des accès"), "page_obj": page, "profile": profile,
        "is_me": profile.pk == me.pk, "chain_ok": verify_chain(profile),
    })
