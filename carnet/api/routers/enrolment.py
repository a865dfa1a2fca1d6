"""Before any account exists: opposition, activation (three steps), a new provisional code.

Public endpoints (`auth=None`): the person proves who they are with NIR + Vitale serial + code, in
the request body. Failures are uniform (the domain does not say which of the three was wrong).
"""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from carnet.identity import otp as otps
from carnet.identity.actions import (
    begin_activation,
    complete_activation,
    oppose,
    request_new_code,
    send_activation_otp,
)
from carnet.identity.actions.enrolment import TICKET_MAX_AGE

from ..access import client_ip  # noqa: E402
from ..schemas import (
    AcceptedOut,
    ActivationCompleteIn,
    ActivationOtpIn,
    ActivationOut,
    EnrolmentIn,
    Error,
    NewCodeIn,
    OppositionOut,
    OtpSentOut,
    UsernameOut,
)

router = Router(auth=None)
ERRORS = {400: Error, 429: Error}


@router.post("/opposition", response={200: OppositionOut, **ERRORS},
             summary="S'opposer à la création de son espace")
def opposition(request: HttpRequest, payload: EnrolmentIn):
    """Within the opposition window only; the answer is the proof of opposition, the only thing kept."""
    proof = oppose(payload.nir, payload.vitale_serial, payload.provisional_code, ip=client_ip(request))
    return {"proof_number": proof.proof_number, "opposed_at": proof.opposed_at}


@router.post("/activation", response={200: ActivationOut, **ERRORS}, summary="Activation, étape 1 : identité")
def activation(request: HttpRequest, payload: EnrolmentIn):
    ticket = begin_activation(
        payload.nir, payload.vitale_serial, payload.provisional_code, ip=client_ip(request)
    )
    person = ticket.person
    return {
        "activation_token": ticket.token, "expires_in": TICKET_MAX_AGE,
        "given_names": person.given_names, "family_name": person.family_name, "birth_date": person.birth_date,
        "suggested_email": ticket.suggested_email, "suggested_phone": ticket.suggested_phone,
    }


@router.post("/activation/otp", response={200: OtpSentOut, **ERRORS},
             summary="Activation, étape 2 : vérifier un courriel ou un mobile")
def activation_otp(request: HttpRequest, payload: ActivationOtpIn):
    otp = send_activation_otp(payload.activation_token, payload.channel, payload.destination)
    return {"otp_id": otp.uuid, "masked_destination": otps.mask(otp.destination)}


@router.post("/activation/complete", response={201: UsernameOut, **ERRORS},
             summary="Activation, étape 3 : identifiant, mot de passe, conditions d'utilisation")
def activation_complete(request: HttpRequest, payload: ActivationCompleteIn):
    account = complete_activation(
        payload.activation_token, otp_uuid=payload.otp_id, otp_code=payload.otp_code,
        username=payload.username, password=payload.password, accept_terms=payload.accept_terms,
    )
    return Status(201, {"username": account.username})


@router.post("/new-code", response={202: AcceptedOut}, summary="Demander un nouveau code provisoire")
def new_code(request: HttpRequest, payload: NewCodeIn):
    """Always the same answer: it must not reveal whether the NIR exists or matched."""
    request_new_code(payload.nir, payload.vitale_serial, payload.birth_date, ip=client_ip(request))
    return Status(202, {"detail": _(
        "Si ces informations correspondent à un espace santé, un lien pour obtenir un nouveau code "
        "provisoire a été envoyé par courriel (ou un nouveau code par courrier)."
    )})
