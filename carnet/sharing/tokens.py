"""Bearer tokens identifying a professional to the FHIR API (clinical software), stored as keyed hashes.

Not wired into /fhir/ yet: the policy for professionals decides what such a token may read.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from carnet.common.secrets import keyed_hash, new_token

from .models import Professional, ProfessionalToken

TOKEN_PURPOSE = "pro-token"
DEFAULT_LIFETIME_SECONDS = 3600


def default_lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "CARNET_PRO_TOKEN_SECONDS", DEFAULT_LIFETIME_SECONDS))


def issue_professional_token(professional: Professional, *,
                             lifetime: dt.timedelta | None = None) -> tuple[ProfessionalToken, str]:
    """A new token for `professional`: the row (only the hash is stored) and the token, shown once."""
    if not professional.active:
        raise ValueError("inactive professionals get no token")
    token = new_token()
    now = timezone.now()
    row = ProfessionalToken.objects.create(
        professional=professional, token_hash=keyed_hash(token, TOKEN_PURPOSE), created_at=now,
        expires_at=now + (lifetime if lifetime is not None else default_lifetime()),
    )
    return row, token


def professional_for_token(token: str) -> Professional | None:
    """The active professional a valid (unexpired, unrevoked) token identifies, else None."""
    if not token:
        return None
    row = (ProfessionalToken.objects.filter(token_hash=keyed_hash(token, TOKEN_PURPOSE), revoked_at__isnull=True,
                                            expires_at__gt=timezone.now())
           .select_related("professional").first())
    if row is None or not row.professional.active:
        return None
    return row.professional


def revoke_professional_token(token: str) -> bool:
    """Revoke a token now; False if it was unknown or already revoked."""
    return bool(ProfessionalToken.objects.filter(token_hash=keyed_hash(token, TOKEN_PURPOSE),
                                                 revoked_at__isnull=True).update(revoked_at=timezone.now()))


def revoke_all_tokens(professional: Professional) -> int:
    return ProfessionalToken.objects.filter(professional=professional, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
