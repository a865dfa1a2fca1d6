"""Sign-in (password, then a one-time code, then a bearer token), sign-out, forgotten credentials."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from carnet.identity.actions import (
    begin_login,
    begin_password_reset,
    finish_login,
    finish_password_reset,
    send_username_reminder,
    sign_out_device,
    sign_out_everywhere,
)
from carnet.identity.actions.login import open_device
from carnet.identity.models import DeviceSession

from ..access import ApiRequest, client_ip
from ..schemas import (
    AcceptedOut,
    ChallengeOut,
    Error,
    LoginIn,
    LoginOtpIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    PasswordResetOut,
    TokenOut,
    UsernameReminderIn,
)

router = Router()
ERRORS = {400: Error, 429: Error}


@router.post("/login", auth=None, response={200: ChallengeOut, **ERRORS},
             summary="Connexion, étape 1 : mot de passe")
def login(request: HttpRequest, payload: LoginIn):
    challenge = begin_login(payload.username, payload.password, ip=client_ip(request))
    return {"otp_id": challenge.otp_uuid, "channel": challenge.channel,
            "masked_destination": challenge.masked_destination}


@router.post("/login/otp", auth=None, response={200: TokenOut, 403: Error, **ERRORS},
             summary="Connexion, étape 2 : code à usage unique, jeton d'accès")
def login_otp(request: HttpRequest, payload: LoginOtpIn):
    """The token is shown once; only its keyed hash is stored. It expires after the idle delay."""
    account = finish_login(payload.otp_id, payload.code)
    if not account.person_id:
        return Status(403, {"detail": _("Cette application est réservée aux titulaires d'un espace santé."),
                            "field": ""})
    user_agent = payload.device_name.strip() or request.headers.get("User-Agent", "")
    device, token = open_device(account, kind=DeviceSession.Kind.API, user_agent=user_agent)
    return {"access_token": token, "token_type": "Bearer",
            "expires_in": settings.CARNET_API_TOKEN_IDLE_SECONDS, "device_id": device.uuid}


@router.post("/logout", response={204: None, 401: Error}, summary="Se déconnecter de cet appareil")
def logout(request: ApiRequest):
    sign_out_device(request.auth, request.device.uuid)
    return Status(204, None)


@router.post("/logout-everywhere", response={204: None, 401: Error},
             summary="Se déconnecter de tous les appareils")
def logout_everywhere(request: ApiRequest):
    sign_out_everywhere(request.auth)
    return Status(204, None)


@router.post("/password-reset", auth=None, response={202: PasswordResetOut, **ERRORS},
             summary="Mot de passe oublié : recevoir un code")
def password_reset(request: HttpRequest, payload: PasswordResetIn):
    """Answers the same whether or not the identifier exists (the code goes to the account's contact)."""
    challenge = begin_password_reset(payload.username)
    return Status(202, {"otp_id": challenge.otp_uuid})


@router.post("/password-reset/confirm", auth=None, response={204: None, **ERRORS},
             summary="Mot de passe oublié : nouveau mot de passe")
def password_reset_confirm(request: HttpRequest, payload: PasswordResetConfirmIn):
    """Success signs the account out everywhere, this app included: sign in again."""
    finish_password_reset(payload.otp_id, payload.code, payload.new_password)
    return Status(204, None)


@router.post("/username-reminder", auth=None, response={202: AcceptedOut}, summary="Identifiant oublié")
def username_reminder(request: HttpRequest, payload: UsernameReminderIn):
    """Always the same answer; the identifier goes by email to the account's verified address."""
    send_username_reminder(payload.nir, payload.birth_date)
    return Status(202, {"detail": _(
        "Si ces informations correspondent à un espace activé, votre identifiant vous a été envoyé "
        "par courriel."
    )})
