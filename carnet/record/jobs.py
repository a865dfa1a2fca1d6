"""Daily record jobs."""

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from carnet.notifications import actions as notifications
from carnet.notifications.enums import Kind

from .enums import DocumentStatus
from .models import Document


def announcement_reminders(day: dt.date) -> str:
    """Tell holders that a result awaits an announcement consultation, once, on the reminder day after it
    arrived (never what it is). The document itself becomes visible on its `invisible_to_holder_until` date,
    which the visibility rules read: no job has to flip it."""
    arrived = day - dt.timedelta(days=settings.CARNET_ANNOUNCEMENT_REMINDER_DAYS)
    told = 0
    for document in _one_per_person(arrived, day):
        notifications.notify(
            document.person, kind=Kind.DOCUMENTS, code="document_awaiting_consultation",
            title=_("Un document vous attend : il vous sera présenté lors d'une consultation avec votre "
                    "professionnel de santé."), url=reverse("portal:documents"))
        told += 1
    return f"{told} personne(s) prévenue(s) d'un document en attente de consultation d'annonce"


def _one_per_person(arrived: dt.date, day: dt.date) -> list[Document]:
    seen: set[int] = set()
    found = []
    for document in Document.objects.filter(invisible_to_holder=True, status=DocumentStatus.CURRENT,
                                            created_at__date=arrived, invisible_to_holder_until__gt=day
                                            ).select_related("person").order_by("person_id"):
        if document.person_id not in seen:
            seen.add(document.person_id)
            found.append(document)
    return found
