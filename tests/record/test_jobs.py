"""Results held for an announcement consultation: the holder is told on day 14 (once, without content) and
sees the document from day 30 on, with no job needed to flip it."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from carnet.record import actions
from carnet.record.enums import DocumentSource
from carnet.record.jobs import announcement_reminders
from carnet.record.visibility import visible_documents
from carnet.sharing.policy import Role

from .conftest import make_pdf

pytestmark = pytest.mark.django_db


def test_held_result_reminder_then_automatic_release(holder, django_capture_on_commit_callbacks):
    me = holder.person
    start = timezone.localdate()
    held = actions.add_document(None, me, content=make_pdf("résultat"), type_code="11502-2",
                                source=DocumentSource.PROFESSIONAL, invisible_to_holder=True, title="Sérologie")
    assert held.invisible_to_holder_until == start + dt.timedelta(days=30)
    assert held not in visible_documents(me, Role.HOLDER)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert announcement_reminders(start + dt.timedelta(days=13)).startswith("0 ")
        assert announcement_reminders(start + dt.timedelta(days=14)).startswith("1 ")
        assert announcement_reminders(start + dt.timedelta(days=15)).startswith("0 ")
    assert len(mail.outbox) == 1 and "Sérologie" not in mail.outbox[0].body + mail.outbox[0].subject

    with time_machine.travel(timezone.now() + dt.timedelta(days=29)):
        assert held not in visible_documents(me, Role.HOLDER)
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        assert held in visible_documents(me, Role.HOLDER)
