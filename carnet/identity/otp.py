"""One-time codes sent by email or SMS: issue, check (5 tries, then the code is dead)."""

import datetime as dt
import hmac

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from carnet.common.secrets import keyed_hash, new_otp
from carnet.notifications import actions as notifications

from . import notices
from .enums import Channel, OtpPurpose
from .models import OneTimeCode

PURPOSE_LABELS: dict[str, str] = {
    OtpPurpose.LOGIN: "vous connecter",
    OtpPurpose.ACTIVATION_CONTACT: "activer votre espace",
    OtpPurpose.PASSWORD_RESET: "réinitialiser votre mot de passe",
    OtpPurpose.CONTACT_CHANGE: "confirmer vos nouvelles coordonnées",
}


class OtpInvalid(Exception):
    pass


def mask(destination: str) -> str:
    """What a page may show of where the code went: p***@example.org, +33 6 ** ** ** 42."""
    if "@" in destination:
        local, domain = destination.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return f"{destination[:4]} ** ** ** {destination[-2:]}"


def issue(purpose: str, channel: str, destination: str, *, person=None, account=None) -> OneTimeCode:
    code = new_otp()
    otp = OneTimeCode.objects.create(
        person=person, account=account, purpose=purpose, channel=channel, destination=destination,
        code_hash=keyed_hash(code, f"otp:{purpose}"),
        expires_at=timezone.now() + dt.timedelta(seconds=settings.CARNET_OTP_TTL_SECONDS),
    )
    subject, body = notices.otp_message(code, PURPOSE_LABELS[purpose])
    if channel == Channel.SMS:
        notifications.send_sms(destination, body, person=person)
    else:
        notifications.send_email(destination, subject, body, person=person)
    return otp


def consume(otp_uuid, code: str, purpose: str) -> OneTimeCode:
    """Check a code; a success uses it up, five failures kill it. Raises OtpInvalid.

    The failure count is committed before raising, so it survives the caller's error handling.
    """
    with transaction.atomic():
        otp = OneTimeCode.objects.select_for_update().filter(uuid=otp_uuid, purpose=purpose).first()
        if otp is None:
            raise OtpInvalid()
        valid = not (
            otp.used_at or otp.expires_at <= timezone.now()
            or otp.failures >= settings.CARNET_MAX_ATTEMPTS
        )
        matched = valid and hmac.compare_digest(otp.code_hash, keyed_hash(code.strip(), f"otp:{purpose}"))
        if valid and not matched:
            otp.failures += 1
            otp.save(update_fields=["failures"])
        elif matched:
            otp.used_at = timezone.now()
            otp.save(update_fields=["used_at"])
    if not matched:
        raise OtpInvalid()
    return otp


def purge(before: dt.datetime) -> int:
    return OneTimeCode.objects.filter(expires_at__lt=before).delete()[0]
