"""The holder's own account: identity, password, contact details, signed-in devices."""

from typing import cast
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from carnet.identity.actions import (
    begin_contact_change,
    change_password,
    finish_contact_change,
    sign_out_device,
)
from carnet.identity.models import INS_OID, Account, DeviceSession, Person
from carnet.sharing.policy import Action

from ..access import ApiRequest, not_found, profile
from ..schemas import (
    ChallengeOut,
    ContactChangeIn,
    ContactConfirmIn,
    DeviceOut,
    Error,
    MeOut,
    PasswordChangeIn,
)

router = Router()
ERRORS = {400: Error, 401: Error, 403: Error, 429: Error}


def me_out(account: Account) -> dict:
    person = cast(Person, account.person)  # API accounts always have a person (BearerAuth)
    return {
        "id": person.uuid, "given_names": person.given_names, "family_name": person.family_name,
        "birth_date": person.birth_date, "sex": person.sex, "ins": person.ins,
        "ins_system": f"urn:oid:{INS_OID}", "status": person.status, "username": account.username,
        "email": account.email, "phone": account.phone, "otp_channel": account.otp_channel,
    }


def holder(request: HttpRequest) -> Account:
    """Credentials, contact details and devices are the holder's alone (Action.MANAGE_ACCOUNT)."""
    profile(request, None, Action.MANAGE_ACCOUNT)
    return cast(ApiRequest, request).auth


@router.get("/me", response={200: MeOut, 401: Error}, summary="Mon identité et mon compte")
def read_me(request: HttpRequest):
    return me_out(holder(request))


@router.put("/me/password", response={204: None, **ERRORS}, summary="Changer mon mot de passe")
def password(request: ApiRequest, payload: PasswordChangeIn):
    change_password(holder(request), payload.current_password, payload.new_password,
                    keep_device=request.device.uuid)
    return Status(204, None)


@router.post("/me/contact", response={200: ChallengeOut, **ERRORS},
             summary="Changer mon courriel ou mon mobile : recevoir un code")
def contact(request: HttpRequest, payload: ContactChangeIn):
    """Re-authentication by password, then a code sent to the *new* address or number."""
    account = holder(request)
    challenge = begin_contact_change(account, payload.channel, payload.value, password=payload.password)
    return {"otp_id": challenge.otp_uuid, "channel": challenge.channel,
            "masked_destination": challenge.masked_destination}


@router.post("/me/contact/confirm", response={200: MeOut, **ERRORS},
             summary="Changer mon courriel ou mon mobile : confirmer le code")
def contact_confirm(request: HttpRequest, payload: ContactConfirmIn):
    account = finish_contact_change(holder(request), payload.otp_id, payload.code,
                                    use_for_login=payload.use_for_login)
    return me_out(account)


@router.get("/me/devices", response={200: list[DeviceOut], **ERRORS}, summary="Mes appareils connectés")
def devices(request: ApiRequest):
    account = holder(request)
    current = request.device.pk
    rows = DeviceSession.objects.filter(account=account, ended_at__isnull=True).order_by("-last_seen_at")
    return [
        {"id": d.uuid, "kind": d.kind, "user_agent": d.user_agent, "created_at": d.created_at,
         "last_seen_at": d.last_seen_at, "current": d.pk == current}
        for d in rows if d.is_open()
    ]


@router.delete("/me/devices/{device_id}", response={204: None, 404: Error, **ERRORS},
               summary="Déconnecter un appareil")
def device_delete(request: HttpRequest, device_id: UUID):
    if not sign_out_device(holder(request), device_id):
        raise not_found()
    return Status(204, None)


