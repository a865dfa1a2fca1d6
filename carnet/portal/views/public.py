"""Public pages: the landing page, enrolment (opposition, activation, new provisional code) and
sign-in (password + one-time code, password reset, forgotten identifier), plus the static pages.

Each view validates a form, calls one identity action and renders; the state carried between the
steps of a journey lives in the server-side session and is cleared as soon as the journey ends.
Nothing secret goes in a URL or the messages framework (the fresh code of a regeneration link is
shown in the page itself, which is the point of that page).
"""

import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from carnet.common.http import client_ip
from carnet.identity import actions
from carnet.identity import otp as otps
from carnet.identity.actions import EnrolmentError, LoginError
from carnet.identity.actions.enrolment import TERMS_VERSION, read_ticket
from carnet.identity.actions.login import open_device
from carnet.sharing.events import authorise
from carnet.sharing.policy import Action, PolicyDenied

from ..forms_public import (
    ActivationFinishForm,
    CredentialsForm,
    IdentityForm,
    LoginForm,
    NewCodeForm,
    OppositionForm,
    OtpForm,
    PasswordResetConfirmForm,
    PasswordResetForm,
    UsernameReminderForm,
)
from ..middleware import login_exempt
from ..profiles import current_profile, own_person

T = "portal/public/"

# Session keys of each journey; every one of them is dropped when its journey ends.
TICKET = "activation_ticket"
ACTIVATION_KEYS = (TICKET, "activation_otp", "activation_channel", "activation_destination",
                   "activation_username")
LOGIN_KEYS = ("login_otp", "login_destination", "login_next")
RESET_KEYS = ("reset_otp",)
PROOF = "opposition_proof"
REGENERATION = "regeneration_token"


def _forget(request, keys) -> None:
    for key in keys:
        request.session.pop(key, None)


def _status(form) -> int:
    """429 when an attempt limit answered, so clients and monitoring can tell a lockout apart."""
    return 429 if getattr(form, "locked", False) else 200


def _refuse(form, exc, field=None) -> None:
    form.add_error(field, exc.message)
    form.locked = getattr(exc, "code", "") == "locked"


def _safe_next(request, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return ""


# --- landing ---------------------------------------------------------------------------------


@login_exempt
def home(request):
    """Signed in: the dashboard of the profile shown; otherwise what the service is and how to start."""
    if request.user.is_authenticated:
        profile = current_profile(request)
        me = own_person(request)
        if me is not None:  # operators have no space
            try:
                authorise(me, Action.VIEW_SPACE, profile)
            except PolicyDenied as exc:
                return render(request, "portal/family/denied.html", {"title": _("Accès refusé"),
                                                                      "message": exc.message}, status=403)
        return render(request, T + "dashboard.html", {
            "title": _("Mon espace santé"), "profile": profile, "me": own_person(request),
        })
    return render(request, T + "home.html", {"title": _("Accueil")})


# --- activation: identity, then credentials, then the one-time code --------------------------


@login_exempt
@never_cache
def activate(request):
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = actions.begin_activation(data["nir"], data["serial"], data["code"], ip=client_ip(request))
        except EnrolmentError as exc:
            _refuse(form, exc)
        else:
            _forget(request, ACTIVATION_KEYS)
            request.session[TICKET] = ticket.token
            return redirect("portal:activate_credentials")
    return render(request, T + "activate.html", {"title": _("Activer mon espace santé"), "form": form},
                  status=_status(form))


def _ticket_person(request):
    """The person behind the activation ticket in the session, or None after a message."""
    token = request.session.get(TICKET)
    if not token:
        messages.info(request, _("Commencez par vérifier votre identité."))
        return None
    try:
        person, _code_id = read_ticket(token)
    except EnrolmentError as exc:
        _forget(request, ACTIVATION_KEYS)
        messages.error(request, exc.message)
        return None
    return person


@login_exempt
@never_cache
def activate_credentials(request):
    person = _ticket_person(request)
    if person is None:
        return redirect("portal:activate")
    initial = {
        "channel": request.session.get("activation_channel") or ("email" if person.email or not person.phone
                                                                 else "sms"),
        "destination": request.session.get("activation_destination") or person.email or person.phone,
        "username": request.session.get("activation_username", ""),
    }
    form = CredentialsForm(request.POST or None, person=person, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            otp = actions.send_activation_otp(request.session[TICKET], data["channel"], data["destination"])
        except EnrolmentError as exc:
            _refuse(form, exc, exc.field if exc.field in form.fields else None)
        else:
            # Server-side (database) session, dropped as soon as the activation ends either way.
            request.session.update({
                "activation_otp": str(otp.uuid), "activation_channel": otp.channel,
                "activation_destination": otp.destination, "activation_username": data["username"],
            })
            return redirect("portal:activate_verify")
    return render(request, T + "activate_credentials.html", {
        "title": _("Choisir mes identifiants"), "form": form,
    }, status=_status(form))


@login_exempt
@never_cache
def activate_verify(request):
    person = _ticket_person(request)
    if person is None:
        return redirect("portal:activate")
    session = request.session
    if not all(session.get(k) for k in ("activation_otp", "activation_username")):
        return redirect("portal:activate_credentials")
    if request.method == "POST" and "resend" in request.POST:
        try:
            otp = actions.send_activation_otp(session[TICKET], session["activation_channel"],
                                              session["activation_destination"])
        except EnrolmentError as exc:
            messages.error(request, exc.message)
        else:
            session["activation_otp"] = str(otp.uuid)
            messages.info(request, _("Un nouveau code de sécurité vous a été envoyé."))
        return redirect("portal:activate_verify")
    form = ActivationFinishForm(request.POST or None, person=person, username=session["activation_username"])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.complete_activation(
                session[TICKET], otp_uuid=session["activation_otp"], otp_code=data["code"],
                username=session["activation_username"], password=data["password"],
                accept_terms=data["accept_terms"],
            )
        except EnrolmentError as exc:
            if exc.field == "otp_code":
                _refuse(form, exc, "code")
            elif exc.field in ("password", "accept_terms"):
                _refuse(form, exc, exc.field)
            elif exc.field == "username":  # taken meanwhile: choose another one
                _forget(request, ("activation_otp",))
                messages.error(request, exc.message)
                return redirect("portal:activate_credentials")
            else:  # the provisional code was used or replaced meanwhile: start again
                _forget(request, ACTIVATION_KEYS)
                messages.error(request, exc.message)
                return redirect("portal:activate")
        else:
            _forget(request, ACTIVATION_KEYS)
            messages.success(request, _("Votre espace santé est activé. Connectez-vous avec votre "
                                        "identifiant et votre mot de passe."))
            return redirect("portal:login")
    return render(request, T + "activate_verify.html", {
        "title": _("Vérifier mes coordonnées"), "form": form,
        "masked_destination": otps.mask(session.get("activation_destination", "")),
    }, status=_status(form))


# --- opposition ------------------------------------------------------------------------------


@login_exempt
@never_cache
def opposition(request):
    form = OppositionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proof = actions.oppose(data["nir"], data["serial"], data["code"], ip=client_ip(request))
        except EnrolmentError as exc:
            _refuse(form, exc)
        else:
            request.session[PROOF] = {"number": proof.proof_number, "at": proof.opposed_at.isoformat()}
            return render(request, T + "opposition_done.html", {
                "title": _("Opposition enregistrée"), "proof_number": proof.proof_number,
                "opposed_at": proof.opposed_at,
            })
    return render(request, T + "opposition.html", {
        "title": _("M'opposer à la création de mon espace santé"), "form": form,
    }, status=_status(form))


@login_exempt
@never_cache
def opposition_proof(request):
    """The proof of opposition as a one-page PDF: its number and date, nothing else about the person."""
    proof = request.session.get(PROOF)
    if not proof:
        raise Http404
    opposed_at = timezone.localtime(dt.datetime.fromisoformat(proof["at"]))
    response = HttpResponse(_proof_pdf(proof["number"], opposed_at), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="preuve-opposition-{proof["number"]}.pdf"'
    return response


def _proof_pdf(number: str, opposed_at: dt.datetime) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True, pageCompression=0)  # one small page
    title = _("Preuve d'opposition à la création d'un espace santé")
    pdf.setTitle(title)
    pdf.setAuthor("Carnet")
    width, height = A4
    y = height - 3 * cm
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(2.5 * cm, y, "Carnet")
    y -= 1.2 * cm
    pdf.setFont("Helvetica-Bold", 13)
    pdf.drawString(2.5 * cm, y, title)
    y -= 1.5 * cm
    pdf.setFont("Helvetica", 11)
    lines = [
        _("Numéro de preuve : %(number)s") % {"number": number},
        _("Opposition enregistrée le %(date)s à %(time)s (heure de Paris).") % {
            "date": date_format(opposed_at, "j F Y"), "time": date_format(opposed_at, "H:i"),
        },
        "",
        _("La personne qui a présenté ce numéro de sécurité sociale, le numéro de série de sa carte "
          "Vitale et son code provisoire s'est opposée à la création de son espace numérique de santé."),
        _("Les informations de cet espace ont été supprimées. Seule cette preuve est conservée, sans aucune "
          "donnée personnelle : l'espace ne sera pas recréé."),
        _("Conservez ce document : son numéro permet de retrouver votre opposition si vous nous contactez."),
    ]
    for line in lines:
        for part in simpleSplit(line, "Helvetica", 11, width - 5 * cm) or [""]:
            pdf.drawString(2.5 * cm, y, part)
            y -= 0.6 * cm
        y -= 0.2 * cm
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- new provisional code --------------------------------------------------------------------


@login_exempt
@never_cache
def new_code(request):
    form = NewCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actions.request_new_code(data["nir"], data["serial"], data["birth_date"], ip=client_ip(request))
        # The same answer whatever happened: it must not tell whether the NIR exists.
        return render(request, T + "new_code_sent.html", {"title": _("Demande enregistrée")})
    return render(request, T + "new_code.html", {
        "title": _("Obtenir un nouveau code provisoire"), "form": form,
    })


@login_exempt
@never_cache
def new_code_link(request, token):
    """The emailed link: the token moves into the session and the browser goes on to a URL without
    it (as Django's password reset does), so it never sits in history, Referer headers or logs."""
    request.session[REGENERATION] = token
    return redirect("portal:new_code_confirm")


@login_exempt
@never_cache
def new_code_confirm(request):
    """GET only asks for confirmation (mail scanners open links); POST spends the link."""
    token = request.session.get(REGENERATION)
    if request.method == "POST":
        request.session.pop(REGENERATION, None)
        result = actions.redeem_regeneration_link(token) if token else None
        if result is None:
            return render(request, T + "new_code_link_invalid.html",
                          {"title": _("Ce lien n'est plus valable")}, status=410)
        _person, code = result
        return render(request, T + "new_code_link_done.html", {"title": _("Votre nouveau code provisoire"),
                                                               "code": code})
    if not token:
        return render(request, T + "new_code_link_invalid.html",
                      {"title": _("Ce lien n'est plus valable")}, status=410)
    return render(request, T + "new_code_link.html", {"title": _("Obtenir mon nouveau code provisoire")})


# --- sign-in ---------------------------------------------------------------------------------


@login_exempt
@never_cache
def login(request):
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(_safe_next(request, request.GET.get("next", "")) or "portal:home")
    form = LoginForm(request.POST or None, initial={"next": _safe_next(request, request.GET.get("next", ""))})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            challenge = actions.begin_login(data["username"], data["password"],
                                            ip=client_ip(request))
        except LoginError as exc:
            _refuse(form, exc)
        else:
            request.session.update({
                "login_otp": str(challenge.otp_uuid), "login_destination": challenge.masked_destination,
                "login_next": _safe_next(request, data["next"]),
            })
            return redirect("portal:login_otp")
    return render(request, T + "login.html", {"title": _("Se connecter"), "form": form}, status=_status(form))


@login_exempt
@never_cache
def login_otp(request):
    otp_uuid = request.session.get("login_otp")
    if not otp_uuid:
        return redirect("portal:login")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = actions.finish_login(otp_uuid, form.cleaned_data["code"])
        except LoginError as exc:
            _refuse(form, exc, "code")
        else:
            next_url = _safe_next(request, request.session.get("login_next", ""))
            _forget(request, LOGIN_KEYS)
            auth_login(request, account, backend="django.contrib.auth.backends.ModelBackend")
            request.session.cycle_key()  # a fresh key for the signed-in session (fixation)
            device, _token = open_device(account, kind="web", session_key=request.session.session_key,
                                         user_agent=request.META.get("HTTP_USER_AGENT", ""))
            request.session["device"] = str(device.uuid)
            return redirect(next_url or "portal:home")
    return render(request, T + "login_otp.html", {
        "title": _("Code de sécurité"), "form": form,
        "masked_destination": request.session.get("login_destination", ""),
    }, status=_status(form))


@login_exempt
@require_POST
def logout(request):
    if request.user.is_authenticated:
        device = request.session.get("device")
        if device:
            actions.sign_out_device(request.user, device)
        auth_logout(request)
    messages.success(request, _("Vous êtes déconnecté."))
    return redirect("portal:home")


@login_exempt
@never_cache
def password_reset(request):
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            challenge = actions.begin_password_reset(form.cleaned_data["username"])
        except LoginError as exc:
            _refuse(form, exc)
        else:
            request.session["reset_otp"] = str(challenge.otp_uuid)
            return redirect("portal:password_reset_confirm")
    return render(request, T + "password_reset.html", {"title": _("Mot de passe oublié"), "form": form},
                  status=_status(form))


@login_exempt
@never_cache
def password_reset_confirm(request):
    otp_uuid = request.session.get("reset_otp")
    if not otp_uuid:
        return redirect("portal:password_reset")
    form = PasswordResetConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.finish_password_reset(otp_uuid, data["code"], data["new_password"])
        except LoginError as exc:
            field = {"code": "code", "password": "new_password"}.get(exc.field)
            _refuse(form, exc, field)
        else:
            _forget(request, RESET_KEYS)
            messages.success(request, _("Votre mot de passe est modifié. Connectez-vous avec le nouveau."))
            return redirect("portal:login")
    return render(request, T + "password_reset_confirm.html", {
        "title": _("Choisir un nouveau mot de passe"), "form": form,
    }, status=_status(form))


@login_exempt
@never_cache
def username_reminder(request):
    form = UsernameReminderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.send_username_reminder(form.cleaned_data["nir"], form.cleaned_data["birth_date"])
        return render(request, T + "username_reminder_sent.html", {"title": _("Demande enregistrée")})
    return render(request, T + "username_reminder.html", {"title": _("Identifiant oublié"), "form": form})


# --- static pages ----------------------------------------------------------------------------


@login_exempt
def terms(request):
    return render(request, T + "terms.html", {
        "title": _("Conditions générales d'utilisation"), "terms_version": TERMS_VERSION,
    })


@login_exempt
def accessibility(request):
    return render(request, T + "accessibility.html", {"title": _("Déclaration d'accessibilité")})
