"""Attempt limits kept in a table: 5 failures lock a key for a delay that doubles each time."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from carnet.common.secrets import keyed_hash

from .models import Throttle


class Locked(Exception):
    def __init__(self, until: dt.datetime):
        self.until = until
        super().__init__("locked")


def _key(value: str) -> str:
    return keyed_hash(value.lower(), "throttle")


def check(scope: str, value: str) -> None:
    row = Throttle.objects.filter(scope=scope, key_digest=_key(value)).first()
    if row and row.locked_until and row.locked_until > timezone.now():
        raise Locked(row.locked_until)


def fail(scope: str, value: str, *, limit: int | None = None) -> None:
    limit = limit or settings.CARNET_MAX_ATTEMPTS
    with transaction.atomic():
        row, _ = Throttle.objects.select_for_update().get_or_create(scope=scope, key_digest=_key(value))
        row.failures += 1
        if row.failures >= limit:
            delay = settings.CARNET_LOCKOUT_BASE_SECONDS * (2 ** min(row.lockouts, 10))
            row.locked_until = timezone.now() + dt.timedelta(seconds=delay)
            row.lockouts += 1
            row.failures = 0
        row.save()


def succeed(scope: str, value: str) -> None:
    """A success clears the failure count; the growing delay is remembered for a day."""
    Throttle.objects.filter(scope=scope, key_digest=_key(value)).update(failures=0)


def purge(before: dt.datetime) -> int:
    return Throttle.objects.filter(updated_at__lt=before).delete()[0]
