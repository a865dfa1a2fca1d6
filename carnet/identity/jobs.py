"""Daily jobs of the identity area, run by `carnet daily [--date]`; each is idempotent."""

import datetime as dt

from django.utils import timezone

from carnet.common.dates import start_of_day

from . import otp, throttle
from .actions.family import process_coming_of_age
from .enums import SpaceStatus
from .models import Person, RegenerationLink


def open_spaces_after_opposition_window(day: dt.date) -> str:
    """NOTIFIED spaces whose 6-week window ended without opposition become CREATED."""
    opened = Person.objects.filter(status=SpaceStatus.NOTIFIED, opposition_deadline__lt=day).update(
        status=SpaceStatus.CREATED, opened_at=start_of_day(day), updated_at=timezone.now()
    )
    return f"{opened} espace(s) ouvert(s) à l'issue du délai d'opposition"


def coming_of_age(day: dt.date) -> str:
    return f"{process_coming_of_age(day)} profil(s) devenu(s) majeur(s)"


def purge_expired_secrets(day: dt.date) -> str:
    before = start_of_day(day) - dt.timedelta(days=1)
    removed = otp.purge(before) + RegenerationLink.objects.filter(expires_at__lt=before).delete()[0]
    removed += throttle.purge(before - dt.timedelta(days=1))
    return f"{removed} secret(s) expiré(s) effacé(s)"
