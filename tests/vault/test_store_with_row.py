"""`vault.store_with_row`: the blob row and the row that points at it in one statement, with `store`'s rule for
content already stored (one copy per person: the existing blob is reused, the new file deleted), including when a
concurrent transaction commits the same bytes while this one waits on the unique constraint."""

import threading
import uuid
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.db import IntegrityError, connection, connections
from django.test.utils import CaptureQueriesContext

from carnet.identity.enums import SpaceStatus
from carnet.record.models import Document, SubmissionSet
from carnet.vault import services as vault
from carnet.vault.models import Blob

pytestmark = pytest.mark.django_db


def _files() -> list[Path]:
    root = Path(storages["vault"].location)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _document(person, unique_id="", submission_set=None):
    def build(blob):
        return Document(person=person, blob=blob, type_code="11488-4", title="Compte rendu", size=blob.size,
                        sha256=blob.sha256, unique_id=unique_id, submission_set=submission_set)
    return build


def _submission_set(person, unique_id="1.2.250.1.999.1"):
    return SubmissionSet(person=person, unique_id=unique_id, source_id="SRC", title="Lot",
                         author_identifier="10101201234", submitted_at="2026-11-26T10:00:00+01:00")


@pytest.fixture
def person(family):
    return family.person(status=SpaceStatus.ACTIVE)


def test_new_content_is_one_statement_and_reads_back(person):
    with vault.atomic(), CaptureQueriesContext(connection) as queries:
        document = vault.store_with_row(person, b"new bytes", _document(person))
    rows = [q["sql"] for q in queries.captured_queries if "vault_blob" in q["sql"] or "record_document" in q["sql"]]
    assert len(rows) == (1 if connection.vendor == "postgresql" else 2), rows  # (the data key's reads aside)
    stored = Document.objects.get(pk=document.pk)
    assert stored.blob_id == document.blob_id == document.blob.pk
    assert vault.read_bytes(stored.blob) == b"new bytes"
    assert len(_files()) == 1


def test_content_the_person_already_has_reuses_its_blob_and_drops_the_new_file(person, family):
    other = family.person(status=SpaceStatus.ACTIVE)
    with vault.atomic():
        first = vault.store(person, b"same bytes")
    with vault.atomic():
        document = vault.store_with_row(person, b"same bytes", _document(person))
        twice = vault.store_with_row(person, b"same bytes", _document(person))
        theirs = vault.store_with_row(other, b"same bytes", _document(other))
    assert Document.objects.get(pk=document.pk).blob_id == first.pk == document.blob.pk
    assert Document.objects.get(pk=twice.pk).blob_id == first.pk
    assert Document.objects.get(pk=theirs.pk).blob_id not in (None, first.pk)
    assert Blob.objects.count() == 2 and len(_files()) == 2


def test_a_refused_row_leaves_no_blob_and_no_file(person):
    with vault.atomic():
        vault.store_with_row(person, b"first", _document(person, unique_id="1.2.3"))
    with pytest.raises(IntegrityError), vault.atomic():
        vault.store_with_row(person, b"second", _document(person, unique_id="1.2.3"))
    assert Blob.objects.count() == 1 and len(_files()) == 1
    assert Document.objects.filter(person=person).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_bytes_committed_meanwhile_by_another_transaction_are_reused(family):
    """The statement waits on the constraint for the other transaction, which commits: its snapshot cannot see the
    row, so the document is pointed at it by a second statement, and the new file is deleted."""
    if connection.vendor != "postgresql":
        pytest.skip("the single statement is PostgreSQL's")
    person = family.person(status=SpaceStatus.ACTIVE)
    stored, release, failures = threading.Event(), threading.Event(), []

    def other_transaction():
        try:
            with vault.atomic():
                vault.store(person, b"raced bytes")
                stored.set()
                release.wait(10)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)
            stored.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_transaction)
    thread.start()
    assert stored.wait(10)
    threading.Timer(0.5, release.set).start()  # commits while this statement waits on the constraint
    with vault.atomic(), CaptureQueriesContext(connection) as queries:
        document = vault.store_with_row(person, b"raced bytes", _document(person))
    thread.join(10)
    assert not failures
    assert any(q["sql"].startswith('UPDATE "record_document"') for q in queries.captured_queries)  # the late path
    blob = Blob.objects.get(person=person)
    assert Document.objects.get(pk=document.pk).blob_id == blob.pk == document.blob.pk
    assert vault.read_bytes(blob) == b"raced bytes"
    assert len([p for p in _files() if p.parent.name == str(person.uuid)]) == 1


def test_a_new_parent_row_goes_in_the_same_statement_and_the_row_points_at_it(person):
    listed = _submission_set(person)
    with vault.atomic(), CaptureQueriesContext(connection) as queries:
        document = vault.store_with_row(person, b"with its set", _document(person, submission_set=listed),
                                        parent=(listed, "submission_set"))
    rows = [q["sql"] for q in queries.captured_queries
            if any(t in q["sql"] for t in ("vault_blob", "record_document", "record_submissionset"))]
    assert len(rows) == (1 if connection.vendor == "postgresql" else 3), rows
    assert listed.pk is not None and not listed._state.adding
    stored = Document.objects.get(pk=document.pk)
    assert stored.submission_set_id == listed.pk == document.submission_set_id
    assert SubmissionSet.objects.get(pk=listed.pk).unique_id == "1.2.250.1.999.1"
    assert vault.read_bytes(stored.blob) == b"with its set"


def test_a_refused_parent_leaves_no_row_no_blob_and_no_file(person):
    with vault.atomic():
        SubmissionSet.objects.create(person=person, unique_id="1.2.250.1.999.1", source_id="SRC", title="Lot",
                                     author_identifier="10101201234", submitted_at="2026-11-26T10:00:00+01:00")
    again = _submission_set(person)  # the same uniqueId: the constraint refuses the whole statement
    with pytest.raises(IntegrityError), vault.atomic():
        vault.store_with_row(person, b"refused", _document(person, submission_set=again),
                             parent=(again, "submission_set"))
    assert SubmissionSet.objects.filter(person=person).count() == 1
    assert not Document.objects.filter(person=person).exists()
    assert Blob.objects.count() == 0 and _files() == []


def _event(person, document_uuid):
    from carnet.sharing.events import chained
    from carnet.sharing.policy import Role

    return chained(person, actor=person, role=Role.HOLDER, action="document.add", subject=f"document:{document_uuid}")


def test_an_also_row_goes_in_the_same_statement_with_a_parent(person):
    """The access event that traces an ITI-65 document rides in its statement (after its SubmissionSet and blob)."""
    from carnet.sharing.events import verify_chain
    from carnet.sharing.models import AccessEvent

    listed, named = _submission_set(person), uuid.uuid4()
    build = _document(person, submission_set=listed)
    with vault.atomic():
        event = _event(person, named)  # the person locked and the chain head read first
        with CaptureQueriesContext(connection) as queries:
            document = vault.store_with_row(person, b"traced", lambda blob: _with_uuid(build(blob), named),
                                            parent=(listed, "submission_set"), also=event)
    rows = [q["sql"] for q in queries.captured_queries
            if any(t in q["sql"] for t in ("vault_blob", "record_document", "record_submissionset",
                                           "sharing_accessevent"))]
    assert len(rows) == (1 if connection.vendor == "postgresql" else 4), rows
    assert event.pk is not None and not event._state.adding
    stored = AccessEvent.objects.get(pk=event.pk)
    assert stored.subject == f"document:{document.uuid}" and stored.sequence == 1 and stored.hash == event.hash
    assert Document.objects.get(pk=document.pk).submission_set_id == listed.pk == document.submission_set_id
    assert vault.read_bytes(Document.objects.get(pk=document.pk).blob) == b"traced"
    assert verify_chain(person)


def _with_uuid(document, value):
    document.uuid = value
    return document


def test_a_refused_statement_leaves_no_event(person):
    with vault.atomic():
        vault.store_with_row(person, b"first", _document(person, unique_id="1.2.3"))
    with pytest.raises(IntegrityError), vault.atomic():
        vault.store_with_row(person, b"second", _document(person, unique_id="1.2.3"),
                             also=_event(person, "00000000-0000-0000-0000-000000000000"))
    from carnet.sharing.models import AccessEvent

    assert not AccessEvent.objects.filter(person=person).exists()
    assert Document.objects.filter(person=person).count() == 1


@pytest.mark.django_db(transaction=True)
def test_chained_refuses_to_run_outside_a_transaction(person):
    """It locks the person until the transaction ends: outside one, the lock and the head would be gone before the
    event is inserted."""
    with pytest.raises(RuntimeError, match="inside the transaction"):
        _event(person, "00000000-0000-0000-0000-000000000000")


@pytest.mark.parametrize("waiting", [True, False])
def test_a_rider_runs_in_the_same_statement_and_says_how_many_rows_it_changed(person, waiting):
    """The holder's notice bumped by the document's own statement (ITI-65): when an unread notice of the burst is
    waiting, it counts the document (rowcount 1); when none is, nothing changes (0) and the caller makes one."""
    from carnet.notifications import actions as notifications
    from carnet.notifications.models import Notification

    if waiting:
        Notification.objects.create(person=person, kind="documents", code="document_added", title="Un", url="/")
    rider = notifications.coalesce_rider(person, code="document_added", title="Un", more_title="Des", count=2)
    with vault.atomic(), CaptureQueriesContext(connection) as queries:
        vault.store_with_row(person, b"announced", _document(person), rider=rider)
    statements = [q["sql"] for q in queries.captured_queries if "notifications_notification" in q["sql"]]
    assert len(statements) == 1 and (connection.vendor != "postgresql" or "record_document" in statements[0])
    assert rider.rowcount == (1 if waiting else 0)
    bumped = Notification.objects.filter(person=person, code="document_added")
    assert [(n.occurrences, n.title) for n in bumped] == ([(3, "Des")] if waiting else [])


def test_a_refused_statement_leaves_the_notice_as_it_was(person):
    from carnet.notifications import actions as notifications
    from carnet.notifications.models import Notification

    Notification.objects.create(person=person, kind="documents", code="document_added", title="Un", url="/")
    with vault.atomic():
        vault.store_with_row(person, b"first", _document(person, unique_id="1.2.3"))
    rider = notifications.coalesce_rider(person, code="document_added", title="Un", more_title="Des")
    with pytest.raises(IntegrityError), vault.atomic():
        vault.store_with_row(person, b"second", _document(person, unique_id="1.2.3"), rider=rider)
    assert Notification.objects.get(person=person, code="document_added").occurrences == 1
