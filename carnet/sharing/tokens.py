"""Bearer tokens identifying a professional to the FHIR API (clinical software), stored as keyed hashes.

A professional's token starts with `PREFIX` ("pro.", a dot never being part of a patient device token), so the FHIR
face asks one table, not two, for each request. The look-up is one plain SQL row read on every request, never
cached: a revoked token, an expired one or an inactive professional's stops working at once.
"""

import datetime as dt
from functools import cache

from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from carnet.common.secrets import keyed_hash, new_token

from .models import Professional, ProfessionalToken

TOKEN_PURPOSE = "pro-token"
DEFAULT_LIFETIME_SECONDS = 3600
# Not in the URL-safe base64 alphabet of `new_token`: no patient device token can start with it.
PREFIX = "pro."


def default_lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "CARNET_PRO_TOKEN_SECONDS", DEFAULT_LIFETIME_SECONDS))


def issue_professional_token(professional: Professional, *,
                             lifetime: dt.timedelta | None = None) -> tuple[ProfessionalToken, str]:
    """A new token for `professional`: the row (only the hash is stored) and the token, shown once."""
    if not professional.active:
        raise ValueError("inactive professionals get no token")
    token = PREFIX + new_token()
    now = timezone.now()
    row = ProfessionalToken.objects.create(
        professional=professional, token_hash=keyed_hash(token, TOKEN_PURPOSE), created_at=now,
        expires_at=now + (lifetime if lifetime is not None else default_lifetime()),
    )
    return row, token


def is_professional_token(token: str) -> bool:
    """Whether a bearer token has the form of a professional's (it may still be unknown, expired or revoked)."""
    return token.startswith(PREFIX)


@cache
def _lookup_sql() -> str:
    columns = ", ".join(f'p."{f.column}"' for f in Professional._meta.concrete_fields)
    return (f'SELECT {columns} FROM "{ProfessionalToken._meta.db_table}" t '  # noqa: S608 - names from the models
            f'JOIN "{Professional._meta.db_table}" p ON p."id" = t."professional_id" '
            'WHERE t."token_hash" = %s AND t."revoked_at" IS NULL AND t."expires_at" > %s AND p."active" LIMIT 1')


def professional_for_token(token: str) -> Professional | None:
    """The active professional a valid (unexpired, unrevoked) token identifies, else None. One row read in plain
    SQL on every call (the ORM query with its join cost more Python than the database took to answer it)."""
    if not token:
        return None
    alias = router.db_for_read(ProfessionalToken)
    with connections[alias].cursor() as cursor:
        cursor.execute(_lookup_sql(), [keyed_hash(token, TOKEN_PURPOSE), timezone.now()])
        row = cursor.fetchone()
    if row is None:
        return None
    return Professional.from_db(alias, [f.attname for f in Professional._meta.concrete_fields], row)


def revoke_professional_token(token: str) -> bool:
    """Revoke a token now; False if it was unknown or already revoked."""
    return bool(ProfessionalToken.objects.filter(token_hash=keyed_hash(token, TOKEN_PURPOSE),
                                                 revoked_at__isnull=True).update(revoked_at=timezone.now()))


def revoke_all_tokens(professional: Professional) -> int:
    return ProfessionalToken.objects.filter(professional=professional, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
