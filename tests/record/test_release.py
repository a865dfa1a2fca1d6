"""A result held for an announcement consultation (INVISIBLE_PATIENT) released by its author before the automatic
delay: visible to the holder at once, recorded, the holder told without content; anyone else is refused and the
refusal recorded; the daily job then has nothing to remind, and unreleased results keep the 14/30-day rules."""

import datetime as dt
import itertools

import pytest
import time_machine
from django.utils import timezone

from carnet.record import actions
from carnet.record.actions import Author
from carnet.record.enums import AuthorKind, DocumentSource
from carnet.record.errors import RecordError
from carnet.record.jobs import announcement_reminders
from carnet.record.visibility import visible_documents
from carnet.sharing.models import AccessEvent, Professional
from carnet.sharing.policy import PolicyDenied, Role
from tests.record.conftest import make_pdf

pytestmark = pytest.mark.django_db
_rpps = itertools.count(70000000001)


def pro() -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name="Oncologue", given_names="Anne",
                                       profession_code="10")


def held(person, author: Professional, *, national_id=False):
    identifier = author.national_id if national_id else author.rpps
    return actions.add_document(None, person, content=make_pdf("résultat"), type_code="11502-2",
                                source=DocumentSource.PROFESSIONAL, invisible_to_holder=True,
                                author=Author(AuthorKind.PROFESSIONAL, "Dr Oncologue", identifier))


def seen_by_holder(person, document) -> bool:
    return visible_documents(person, Role.HOLDER).filter(pk=document.pk).exists()


@pytest.mark.parametrize("national_id", [False, True])
def test_the_author_releases_a_held_result(holder, national_id):
    me, author = holder.person, pro()
    document = held(me, author, national_id=national_id)
    assert not seen_by_holder(me, document)
    released = actions.release_to_holder(author, me, document)
    assert not released.invisible_to_holder
    assert seen_by_holder(me, document)
    event = AccessEvent.objects.filter(person=me, professional=author).get()
    assert (event.action, event.allowed, event.actor_role, event.subject) == (
        "document.release", True, Role.PROFESSIONAL, f"document:{document.uuid}")
    from carnet.notifications.models import Notification

    notice = Notification.objects.get(person=me, code="document_released")
    assert "résultat" not in notice.title and "Oncologue" not in notice.title


def test_a_non_author_a_holder_or_a_stranger_cannot_release(holder, family):
    me, author, colleague = holder.person, pro(), pro()
    document = held(me, author)
    for actor, reason in ((colleague, "not_author"), (me, "professionals_only"),
                          (family.holder().person, "professionals_only")):
        with pytest.raises(PolicyDenied) as denied:
            actions.release_to_holder(actor, me, document)
        assert denied.value.decision.reason == reason
    document.refresh_from_db()
    assert document.invisible_to_holder and not seen_by_holder(me, document)
    denials = AccessEvent.objects.filter(person=me, allowed=False, action="document.release")
    assert denials.count() == 3


def test_bad_targets_are_clear_errors(holder, family):
    me, author = holder.person, pro()
    visible = actions.add_document(None, me, content=make_pdf("x"), type_code="11502-2",
                                   source=DocumentSource.PROFESSIONAL,
                                   author=Author(AuthorKind.PROFESSIONAL, "Dr", author.rpps))
    with pytest.raises(RecordError) as error:
        actions.release_to_holder(author, me, visible)
    assert error.value.code == "not_held"
    other = family.holder().person
    with pytest.raises(RecordError) as error:
        actions.release_to_holder(author, other, held(me, author))
    assert error.value.code == "not_found"
    document = held(me, author)
    actions.release_to_holder(author, me, document)
    with pytest.raises(RecordError):
        actions.release_to_holder(author, me, document)  # twice: already visible


def test_the_job_skips_released_results_and_keeps_the_delays_for_the_others(holder, family):
    me, author = holder.person, pro()
    other = family.holder().person
    start = timezone.now().replace(hour=10)
    with time_machine.travel(start, tick=False):
        released, waiting = held(me, author), held(other, author)
        actions.release_to_holder(author, me, released)
    day = timezone.localdate(start)
    assert announcement_reminders(day + dt.timedelta(days=14)).startswith("1 ")  # `other` only
    from carnet.notifications.models import Notification

    assert not Notification.objects.filter(person=me, code="document_awaiting_consultation").exists()
    assert Notification.objects.filter(person=other, code="document_awaiting_consultation").exists()
    with time_machine.travel(start + dt.timedelta(days=29), tick=False):
        assert not seen_by_holder(other, waiting)
    with time_machine.travel(start + dt.timedelta(days=30, hours=14), tick=False):
        assert seen_by_holder(other, waiting)
