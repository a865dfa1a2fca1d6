"""Mon compte: personal information, password, contact details, devices, notification preferences,
the notification centre and the access history (Historique des accès).

Credentials, contact details and devices are always the signed-in person's own account
(`request.user`), never those of a profile they represent.
"""

import csv
import datetime as dt
import json
import uuid
from functools import wraps
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe
from dsfr.forms import DsfrBaseForm
from stdnum.fr import nir as stdnum_nir

from carnet.identity.actions import login as login_actions
from carnet.identity.models import DeviceSession, Person
from carnet.messaging import actions as messaging_actions
from carnet.notifications import actions as notification_actions
from carnet.notifications.models import Notification
from carnet.record.visibility import visible_documents
from carnet.sharing.audit import audit_event_resource, verify_person
from carnet.sharing.events import authorise
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import Action, PolicyDenied, Role, decide

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
    Role.CAREGIVER: gettext_lazy("Aidant"),
    Role.SYSTEM: gettext_lazy("Système"),
    Role.PROFESSIONAL: gettext_lazy("Professionnel de santé"),
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
    Action.MANAGE_CAREGIVERS: gettext_lazy("Gestion des aidants"),
    "caregiver.invite": gettext_lazy("Invitation d'un aidant"),
    "caregiver.accept": gettext_lazy("Invitation d'aidant acceptée"),
    "caregiver.refuse": gettext_lazy("Invitation d'aidant refusée"),
    "caregiver.expire": gettext_lazy("Invitation d'aidant expirée"),
    "caregiver.cancel": gettext_lazy("Invitation d'aidant annulée"),
    "caregiver.end": gettext_lazy("Fin d'un accès d'aidant"),
    Action.READ_RECORD: gettext_lazy("Consultation du dossier"),
    Action.WRITE_RECORD: gettext_lazy("Modification du dossier"),
    Action.READ_DOCUMENT: gettext_lazy("Consultation d'un document"),
    Action.WRITE_WISHES: gettext_lazy("Modification de l'entourage et des volontés"),
    Action.DELETE_RECORD: gettext_lazy("Suppression dans le dossier"),
    Action.EXPORT_SPACE: gettext_lazy("Export des données ou de l'historique"),
    "document.add": gettext_lazy("Ajout d'un document"),
    "patient.lookup": gettext_lazy("Recherche de votre espace par un professionnel (identité)"),
    "document.edit": gettext_lazy("Modification d'un document"),
    "document.replace": gettext_lazy("Nouvelle version d'un document par son auteur"),
    "document.update_metadata": gettext_lazy("Mise à jour des informations d'un document par son auteur"),
    "document.delete": gettext_lazy("Suppression d'un document"),
    "document.mask": gettext_lazy("Document masqué aux professionnels"),
    "document.unmask": gettext_lazy("Document rendu visible aux professionnels"),
    "account.login": gettext_lazy("Connexion"),
    "account.sign_out_everywhere": gettext_lazy("Déconnexion de tous les appareils"),
    "account.password_change": gettext_lazy("Modification du mot de passe"),
    "account.password_reset": gettext_lazy("Réinitialisation du mot de passe"),
    "account.email_change": gettext_lazy("Modification de l'adresse électronique"),
    "account.phone_change": gettext_lazy("Modification du numéro de mobile"),
    "settings.confidentiality": gettext_lazy("Modification des paramètres de confidentialité"),
    "care_history.import": gettext_lazy("Import de l'historique des soins par l'Assurance Maladie"),
    Action.MANAGE_SHARING: gettext_lazy("Gestion des accès des professionnels"),
    "sharing.authorise": gettext_lazy("Autorisation d'accès accordée"),
    "sharing.expiry": gettext_lazy("Date de fin d'une autorisation modifiée"),
    "sharing.revoke": gettext_lazy("Autorisation d'accès retirée"),
    "sharing.block": gettext_lazy("Professionnel bloqué"),
    "sharing.unblock": gettext_lazy("Professionnel débloqué"),
    "sharing.role_assign": gettext_lazy("Rôle attribué à un professionnel"),
    "sharing.role_end": gettext_lazy("Fin du rôle d'un professionnel"),
    "authorisation.declare": gettext_lazy("Accord du patient déclaré par un professionnel"),
    Action.EMERGENCY_ACCESS: gettext_lazy("Accès au dossier en situation d'urgence"),
    "sharing.emergency_end": gettext_lazy("Fin anticipée de l'accès en situation d'urgence par le professionnel"),
    Action.BLOCK_ON_BEHALF: gettext_lazy("Blocage d'un professionnel par l'administrateur de santé"),
    Action.RELEASE_TO_HOLDER: gettext_lazy("Document rendu visible au patient par son auteur"),
    "settings.emergency": gettext_lazy("Modification des paramètres d'accès en cas d'urgence"),
    Action.SEND_MESSAGE: gettext_lazy("Message envoyé"),
    Action.READ_MESSAGES: gettext_lazy("Lecture de la messagerie"),
    Action.CLOSE_CONVERSATION: gettext_lazy("Échange clos par le professionnel"),
}
# The policy's reasons, as the holder reads them (a denial says why).
REASON_LABELS = {
    "no_relationship": gettext_lazy("Aucun lien avec ce profil"),
    "not_active": gettext_lazy("Espace non actif"),
    "holder_only": gettext_lazy("Réservé au titulaire"),
    "not_attached_parent": gettext_lazy("N'est pas le parent de rattachement"),
    "not_minor": gettext_lazy("Le profil n'est plus celui d'un mineur"),
    "blocked": gettext_lazy("Professionnel bloqué"),
    "no_authorisation": gettext_lazy("Professionnel non autorisé"),
    "habilitation": gettext_lazy("Type de document non accessible à cette profession"),
    "masked": gettext_lazy("Document masqué"),
    "inactive_professional": gettext_lazy("Professionnel inactif au répertoire"),
    "professional_not_allowed": gettext_lazy("Action réservée au titulaire"),
    "private_section": gettext_lazy("Rubrique privée du profil médical"),
    "conversation_closed": gettext_lazy("Échange clos"),
    "not_on_list": gettext_lazy("Professionnel absent de la liste du titulaire"),
    "recipient_blocked": gettext_lazy("Destinataire bloqué"),
    "recipient_inactive": gettext_lazy("Destinataire inactif au répertoire"),
    "holder": gettext_lazy("Titulaire"),
    "legal_representative": gettext_lazy("Représentant légal"),
    "caregiver": gettext_lazy("Aidant"),
    "caregiver_not_allowed": gettext_lazy("Action interdite à un aidant"),
    "caregiver_locked_section": gettext_lazy("Rubrique non modifiable par un aidant"),
    "attached_parent": gettext_lazy("Parent de rattachement"),
    "insurer": gettext_lazy("Assurance Maladie"),
    "declared_consent": gettext_lazy("Accord déclaré par le professionnel"),
    "professionals_only": gettext_lazy("Réservé aux professionnels de santé"),
    "emergency": gettext_lazy("Accès en situation d'urgence (bris de glace)"),
    "samu": gettext_lazy("Accès du médecin régulateur du SAMU"),
    "emergency_no_reason": gettext_lazy("Motif de l'accès en urgence non indiqué"),
    "emergency_refused": gettext_lazy("Accès en urgence refusé par vos paramètres"),
    "samu_refused": gettext_lazy("Accès du SAMU refusé par vos paramètres"),
    "not_samu_regulator": gettext_lazy("N'est pas médecin régulateur du SAMU"),
    "not_health_administrator": gettext_lazy("N'est pas votre administrateur de santé"),
    "administrateur_sante": gettext_lazy("Administrateur de santé"),
    "not_author": gettext_lazy("N'est pas l'auteur du document"),
    "no_emergency_access": gettext_lazy("Aucun accès en urgence en cours"),
}
# What an export of the history is recorded as (the event's subject), and how the history shows it.
EXPORT_SUBJECTS = {
    "history:csv": gettext_lazy("Export de l'historique des accès (CSV)"),
    "history:fhir": gettext_lazy("Export de l'historique des accès (FHIR)"),
}


def own_account(view):
    """Credentials, contact details, devices and notifications are the signed-in person's own: the policy
    is still asked (MANAGE_ACCOUNT on their own space), so one function decides every access."""
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        person = request.user.person if request.user.is_authenticated and request.user.person_id else None
        if person is not None:
            try:
                authorise(person, Action.MANAGE_ACCOUNT, person)
            except PolicyDenied as exc:
                return deny(request, exc)
        return view(request, *args, **kwargs)
    return wrapped



@require_safe
@own_account
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
@own_account
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
@own_account
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
@own_account
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
@own_account
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
    rows: list[Any] = list(DeviceSession.objects.filter(account=request.user).order_by("-last_seen_at", "-pk")[:50])
    for row in rows:
        row.is_current = str(row.uuid) == current
    return render(request, "portal/account/devices.html",
                  {"title": _("Mes appareils connectés"), "devices": rows})


@require_http_methods(["GET", "POST"])
@own_account
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
@own_account
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


# --- Historique des accès: the page, its filters and its exports --------------------------------------------------

WHO_CHOICES = [
    ("", gettext_lazy("Tout le monde")), ("me", gettext_lazy("Moi")),
    ("representatives", gettext_lazy("Représentants légaux")), ("system", gettext_lazy("Système")),
    ("others", gettext_lazy("Autres personnes")),
]
KIND_CHOICES = [
    ("", gettext_lazy("Toutes les actions")), ("document", gettext_lazy("Documents")),
    ("profile", gettext_lazy("Dossier et profil médical")), ("account", gettext_lazy("Compte et espace")),
    ("family", gettext_lazy("Proches et représentants légaux")),
    ("sharing", gettext_lazy("Partage avec les professionnels")),
]
OUTCOME_CHOICES = [
    ("", gettext_lazy("Autorisées et refusées")), ("allowed", gettext_lazy("Autorisées")),
    ("denied", gettext_lazy("Accès refusés")),
]
# Which action codes each kind covers: exact codes, or prefixes ending with ".".
HISTORY_KINDS = {
    "document": ("document.",),
    "profile": ("record.", Action.VIEW_SPACE, "care_history.", "settings."),
    "account": ("account.", "space.activate", "space.coming_of_age"),
    "family": ("representative.", Action.MANAGE_REPRESENTATIVES, Action.ACTIVATE_PROFILE, "caregiver.",
               Action.MANAGE_CAREGIVERS),
    "sharing": ("sharing.", "authorisation."),
}
# Coded filters only: they may travel in a URL (page links, export links); no free text ever does.
HISTORY_FILTERS = ("date_from", "date_to", "who", "kind", "outcome")
CSV_HEADER = ["Date", "Qui", "À quel titre", "Action", "Code de l'action", "Résultat", "Motif", "Objet",
              "N°", "Identifiant de l'événement", "Par"]
CHANNEL_LABELS = {
    "portal": gettext_lazy("Site Carnet"), "api": gettext_lazy("Application mobile"),
    "fhir": gettext_lazy("Logiciel de santé (FHIR)"), "system": gettext_lazy("Traitement automatique"),
    "emergency": gettext_lazy("Accès d'urgence"),
}


class HistoryFilterForm(DsfrBaseForm):
    """The history's filters, read from the query string: dates and choices, nothing typed freely."""

    date_from = forms.DateField(label=gettext_lazy("Du"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("Au"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    who = forms.ChoiceField(label=gettext_lazy("Qui"), required=False, choices=WHO_CHOICES)
    kind = forms.ChoiceField(label=gettext_lazy("Type d'action"), required=False, choices=KIND_CHOICES)
    outcome = forms.ChoiceField(label=gettext_lazy("Résultat"), required=False, choices=OUTCOME_CHOICES)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("La date de fin doit suivre la date de début."))
        return data


def _history_form(request) -> tuple[HistoryFilterForm, dict]:
    """The bound form and its cleaned, non-empty values ({} when absent or invalid)."""
    data = {name: request.GET[name] for name in HISTORY_FILTERS if request.GET.get(name)}
    form = HistoryFilterForm(data or None)
    if not (form.is_bound and form.is_valid()):
        return form, {}
    return form, {name: value for name, value in form.cleaned_data.items() if value}


def _filter_query(filters: dict, **extra) -> str:
    """The query string of the coded filters (dates as YYYY-MM-DD), for page and export links."""
    values = {name: value.isoformat() if isinstance(value, dt.date) else value for name, value in filters.items()}
    return urlencode({**values, **extra})


def _start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def _kind_q(kind: str) -> Q:
    query = Q(pk__in=[])
    for code in HISTORY_KINDS[kind]:
        query |= Q(action__startswith=code) if code.endswith(".") else Q(action=str(code))
    return query


def history_events(profile, me, filters: dict):
    """`profile`'s events matching the coded filters, newest first; "me" is the signed-in person."""
    events = AccessEvent.objects.filter(person=profile)
    if filters.get("date_from"):
        events = events.filter(at__gte=_start_of_day(filters["date_from"]))
    if filters.get("date_to"):
        events = events.filter(at__lt=_start_of_day(filters["date_to"] + dt.timedelta(days=1)))
    mine = Q(actor_id=me.pk)
    representatives = Q(actor_role=Role.REPRESENTATIVE) & ~mine
    system = (Q(actor_role=Role.SYSTEM) | Q(actor__isnull=True, actor_label="")) & ~mine & ~representatives
    who = filters.get("who")
    if who == "me":
        events = events.filter(mine)
    elif who == "representatives":
        events = events.filter(representatives)
    elif who == "system":
        events = events.filter(system)
    elif who == "others":
        events = events.exclude(mine | representatives | system)
    if filters.get("kind"):
        events = events.filter(_kind_q(filters["kind"]))
    if filters.get("outcome"):
        events = events.filter(allowed=filters["outcome"] == "allowed")
    return events.order_by("-sequence")


def _who(event, me) -> str:
    if event.actor_id == me.pk:
        return _("Vous")
    if event.actor_role == Role.SYSTEM or not (event.actor_id or event.actor_label):
        return _("Système")
    return event.actor_label


def _action_label(event) -> str:
    if event.subject in EXPORT_SUBJECTS:
        return str(EXPORT_SUBJECTS[event.subject])
    label = ACTION_LABELS.get(event.action)
    return str(label) if label else _("Autre action (%(code)s)") % {"code": event.action}


def _document_uuid(subject: str) -> uuid.UUID | None:
    kind, _sep, value = subject.partition(":")
    if kind != "document":
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _label(event, me) -> None:
    event.who = _who(event, me)
    event.role_label = ROLE_LABELS.get(event.actor_role, event.actor_role)
    event.action_label = _action_label(event)
    event.reason_label = REASON_LABELS.get(event.reason, event.reason) if not event.allowed else ""
    event.channel_label = CHANNEL_LABELS.get(event.channel, "")


@require_safe
def history(request):
    """Historique des accès of the profile shown: every access by someone else, every denial."""
    me = me_or_404(request)
    profile = cast(Person, current_profile(request))  # me_or_404 passed: at least their own space
    try:
        decision = authorise(me, Action.VIEW_SPACE, profile)
    except PolicyDenied as exc:
        return deny(request, exc)
    form, filters = _history_form(request)
    page = Paginator(history_events(profile, me, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    documents = {u for e in page.object_list if (u := _document_uuid(e.subject))}
    if documents:  # link what still exists and this reader may open
        documents = set(visible_documents(profile, decision.role, include_history=True)
                        .filter(uuid__in=documents).values_list("uuid", flat=True))
    writers = messaging_actions.professional_names(
        e.subject for e in page.object_list if e.action == Action.SEND_MESSAGE)
    for event in page.object_list:
        _label(event, me)
        if event.subject in writers and not event.professional_id:  # « X (aidant) a écrit au Dr Y »
            event.action_label = _("Message écrit à %(name)s") % {"name": writers[event.subject]}
        document = _document_uuid(event.subject)
        event.document_url = reverse("portal:document", args=[document]) if document in documents else ""
    query = _filter_query(filters)
    export_query = _filter_query(filters, profil=str(profile.uuid))
    return render(request, "portal/account/history.html", {
        "title": _("Historique des accès"), "page_obj": page, "profile": profile, "form": form,
        "filtered": bool(filters), "page_prefix": f"?{query}&" if query else "?",
        "csv_url": f"{reverse('portal:history_csv')}?{export_query}",
        "fhir_url": f"{reverse('portal:history_fhir')}?{export_query}",
        "is_me": profile.pk == me.pk, "chain_ok": not verify_person(profile),
        "may_export": decide(me, Action.EXPORT_SPACE, profile).allowed,
    }, status=400 if form.is_bound and form.errors else 200)


def _export_access(request, subject: str):
    """(me, profile, events) for an export: the profile named in the link (?profil=) or the one shown,
    through the policy like the page (a stranger gets a 404; a representative's export is recorded)."""
    me = me_or_404(request)
    profile = current_profile(request)
    if request.GET.get("profil"):
        try:
            wanted = uuid.UUID(request.GET["profil"])
        except ValueError:
            raise Http404 from None
        profile = Person.objects.filter(uuid=wanted).first()
        if profile is None:
            raise Http404
    try:
        authorise(me, Action.EXPORT_SPACE, profile, subject=subject)  # an export: never a caregiver's
    except PolicyDenied as exc:
        return None, deny(request, exc)
    form, filters = _history_form(request)
    if form.is_bound and form.errors:
        return None, HttpResponseBadRequest(_("Filtres invalides."))
    return (me, profile, history_events(profile, me, filters)), None


def _download(stream, content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _csv_cell(value) -> str:
    """No spreadsheet formula: a cell that starts like one is quoted as text."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _export_who(event, me) -> str:
    """A file outlives the session: the reader's own acts carry their name, not "Vous"."""
    return event.actor_label if event.actor_id == me.pk and event.actor_label else event.who


class _Echo:
    def write(self, value):
        return value


@require_safe
def history_csv(request):
    """The filtered history as CSV: a header row, dates in ISO 8601 (Europe/Paris), codes beside labels."""
    found, response = _export_access(request, "history:csv")
    if response is not None:
        return response
    me, profile, events = found
    paris = timezone.get_default_timezone()
    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff" + writer.writerow(CSV_HEADER)  # the BOM tells spreadsheets it is UTF-8
        for event in events.iterator(chunk_size=500):
            _label(event, me)
            yield writer.writerow([_csv_cell(v) for v in (
                event.at.astimezone(paris).isoformat(timespec="seconds"), _export_who(event, me), event.role_label,
                event.action_label, event.action, _("Autorisé") if event.allowed else _("Refusé"),
                event.reason_label, event.subject, event.sequence, event.uuid,
                CHANNEL_LABELS.get(event.channel, event.channel))])

    name = f"historique-acces-{timezone.localdate().isoformat()}.csv"
    return _download(rows(), "text/csv; charset=utf-8", name)


@require_safe
def history_fhir(request):
    """The filtered history as a FHIR R4 Bundle (collection) of AuditEvent resources, streamed."""
    found, response = _export_access(request, "history:fhir")
    if response is not None:
        return response
    me, profile, events = found

    def chunks():
        now = timezone.now().astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        yield json.dumps({"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "collection",
                          "timestamp": now})[:-1]
        first = True
        for event in events.iterator(chunk_size=500):
            _label(event, me)
            resource = audit_event_resource(
                event, person_uuid=profile.uuid, who=_export_who(event, me), action_display=event.action_label,
                role_display=str(event.role_label), reason_display=str(event.reason_label))
            entry = json.dumps({"fullUrl": f"urn:uuid:{event.uuid}", "resource": resource}, ensure_ascii=False)
            yield (', "entry": [' if first else ", ") + entry
            first = False
        yield "}" if first else "]}"

    name = f"historique-acces-{timezone.localdate().isoformat()}.json"
    return _download(chunks(), "application/fhir+json; charset=utf-8", name)
