"""The registry import's threaded path, which the other registry tests never take.

On PostgreSQL, when the caller has no transaction open, a writer thread with its own connection
commits chunk N while the importing thread reads, validates and prepares chunk N+1. Every other
registry test runs inside the test's transaction, where the writes stay in the calling thread; these
run outside one (transaction=True), with chunks of 3 rows, so that a parent, a duplicate or a failure
falls in the chunk still in flight.

That the thread was used is observed, not assumed: the writer's connection is opened in the thread
named "registry-writer", deliveries are queued from it once its chunk has committed, and in the
family test a real table lock held by the test keeps chunk 1 from committing until the importing
thread has prepared chunk 2 (impossible if both ran in one thread).
"""

import datetime as dt
import re
import threading
import time
from types import SimpleNamespace

import psycopg
import pytest
from django.db import connection
from django.db.backends.signals import connection_created
from django_tasks.signals import task_enqueued
from pypdf import PdfReader

from carnet.common.dates import today
from carnet.common.secrets import keyed_hash
from carnet.identity.actions.codes import usable_code
from carnet.identity.actions.enrolment import is_opposed
from carnet.identity.models import Opposition, Person, ProvisionalCode
from carnet.identity.registry import import_registry
from carnet.identity.synthetic import write_csv
from carnet.notifications.letters import render_pending
from carnet.notifications.models import OutboundMessage
from tests.conftest import code_in

pytestmark = pytest.mark.django_db(transaction=True)

CHUNK = 3
WRITER = "registry-writer"
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _connect() -> psycopg.Connection:
    """A connection of the test's own to the test database, outside Django."""
    params = connection.settings_dict
    return psycopg.connect(dbname=params["NAME"], user=params["USER"] or None, password=params["PASSWORD"] or None,
                           host=params["HOST"] or None, port=params["PORT"] or None)


def _other_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def _no_session_left():
    """Every connection the writer thread opened is closed by the end of the run (else the test
    database could not be dropped)."""
    yield
    deadline = time.monotonic() + 5
    while (left := _other_sessions()) and time.monotonic() < deadline:
        time.sleep(0.05)  # a closed connection's server process takes a moment to go
    assert left == 0, "a connection to the test database is still open"
    assert not [t for t in threading.enumerate() if t.name == WRITER]


@pytest.fixture
def observed():
    """Which thread opened each database connection, and each delivery queued (thread, message ids)."""
    seen = SimpleNamespace(connections=[], queued=[])

    def on_connection(sender, **kwargs):
        seen.connections.append(threading.current_thread().name)

    def on_queued(sender, task_result, **kwargs):
        seen.queued.append((threading.current_thread().name, list(task_result.args[0])))

    connection_created.connect(on_connection, weak=False)
    task_enqueued.connect(on_queued, weak=False)
    yield seen
    connection_created.disconnect(on_connection)
    task_enqueued.disconnect(on_queued)


class PersonTableLocked:
    """Holds a SHARE lock on the person table from a connection of the test's own: reads go on, but
    no write to the table can commit. The lock is released once `reserved` more person ids have been
    drawn from the sequence (the importing thread draws them after its lookups for a chunk) while a
    writer waits on the lock, or after `timeout` seconds."""

    def __init__(self, reserved: int, timeout: float = 15):
        self.reserved, self.timeout = reserved, timeout
        self.released_on_progress = False
        self.visible_people: int | None = None

    def __enter__(self):
        table = Person._meta.db_table
        self.conn = _connect()
        self.sequence = self.conn.execute("SELECT pg_get_serial_sequence(%s, %s)",
                                          [table, Person._meta.pk.column]).fetchone()[0]
        self.start = self._last_id()
        self.conn.execute(f"LOCK TABLE {table} IN SHARE MODE")
        self.watcher = threading.Thread(target=self._watch, name="lock-watcher")
        self.watcher.start()
        return self

    def _last_id(self) -> int:
        return self.conn.execute("SELECT coalesce(pg_sequence_last_value(%s::regclass), 0)",
                                 [self.sequence]).fetchone()[0]

    def _writer_waits(self) -> bool:
        return self.conn.execute("SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND NOT granted",
                                 [Person._meta.db_table]).fetchone()[0] > 0

    def _watch(self) -> None:
        deadline = time.monotonic() + self.timeout
        try:
            while time.monotonic() < deadline:
                if self._last_id() - self.start >= self.reserved and self._writer_waits():
                    self.released_on_progress = True
                    break
                time.sleep(0.01)
            self.visible_people = self.conn.execute(f"SELECT count(*) FROM {Person._meta.db_table}").fetchone()[0]
        finally:
            self.conn.commit()  # releases the lock

    def __exit__(self, *exc):
        self.watcher.join()
        self.conn.close()


def years_ago(years: int, days: int = 10) -> dt.date:
    return today().replace(year=today().year - years) - dt.timedelta(days=days)


def person(row: dict) -> Person:
    return Person.objects.get(nir=row["nir"])


def test_families_duplicates_oppositions_and_a_bad_row_across_chunks_in_flight(people, tmp_path, settings,
                                                                                observed):
    settings.TASKS = DUMMY_TASKS  # deliveries are queued, not run: emails stay pending with their bodies
    grandmother = people.row(birth=years_ago(70), sex="F", family_name="Durand", email=False)
    mother = people.row(birth=years_ago(40), sex="F", family_name="Durand", parent=grandmother)
    granddaughter = people.row(birth=years_ago(8), sex="F", family_name="Durand", email=False, phone=False,
                               parent=mother)
    father = people.row(birth=years_ago(45), sex="M", family_name="Roux", email=False)
    son = people.row(birth=years_ago(5), sex="M", family_name="Roux", email=False, phone=False, parent=father)
    adults = [people.row(birth=years_ago(30 + i), email=i != 1) for i in range(3)]
    opposed = people.row(birth=years_ago(50))
    Opposition.objects.create(nir_digest=keyed_hash(opposed["nir"], "opposition"), proof_number="OPP-TEST-1")
    bad = dict(people.row(birth=years_ago(33)), birth_date="1990-13-01")
    moved = dict(father, address="12 rue Neuve")
    rows = [
        # chunk 1: the granddaughter waits for her mother; the father and an adult are written.
        granddaughter, father, adults[0],
        # chunk 2, prepared while chunk 1 cannot commit: the son's father and the duplicate of adults[0]
        # are known only from the chunk in flight. The mother waits for the grandmother.
        son, mother, dict(adults[0]),
        bad,  # line 8: rejected, the file goes on
        # chunk 3
        grandmother, opposed, adults[1],
        # chunk 4: the father again, moved (he is in the database by now): updated, no new notice.
        moved, adults[2],
        # then the retry of the rows that waited: mother and granddaughter, in one chunk.
    ]
    path = tmp_path / "registry.csv"
    write_csv(path, rows)

    with PersonTableLocked(reserved=3) as lock:  # father and adults[0] (chunk 1), son (chunk 2)
        report = import_registry(path, chunk_size=CHUNK)

    # The importing thread looked up and prepared chunk 2 while chunk 1 was held back, uncommitted, in
    # the writer thread, which opened its own connection and queued the deliveries after each commit.
    assert lock.released_on_progress and lock.visible_people == 0
    assert WRITER in observed.connections
    assert observed.queued and {name for name, _ids in observed.queued} == {WRITER}

    assert (report.created, report.updated, report.unchanged, report.rejected, report.opposed) == (8, 1, 1, 1, 1)
    assert [line for line, _reason in report.errors] == [8] and "date de naissance" in report.errors[0][1]
    created = [granddaughter, father, adults[0], son, mother, grandmother, adults[1], adults[2]]
    assert Person.objects.count() == 8 and {p.nir for p in Person.objects.all()} == {r["nir"] for r in created}
    assert is_opposed(opposed["nir"]) and not Person.objects.filter(nir=opposed["nir"]).exists()
    assert person(granddaughter).parent == person(mother)
    assert person(mother).parent == person(grandmother)
    assert person(son).parent == person(father)
    assert person(father).address == "12 rue Neuve"

    # One code and one notice per new person; a minor's go to the parent.
    assert ProvisionalCode.objects.count() == OutboundMessage.objects.count() == 8
    assert ProvisionalCode.objects.get(person=person(son)).sent_to == person(father)
    assert ProvisionalCode.objects.get(person=person(granddaughter)).sent_to == person(mother)

    # Emails: pending, with exactly their ids queued for delivery, and the code in the body is the one
    # whose hash was stored.
    emails = OutboundMessage.objects.filter(channel="email").select_related("person")
    assert {m.person.nir for m in emails} == {r["nir"] for r in (adults[0], adults[2], mother, granddaughter)}
    assert {m.status for m in emails} == {"pending"}
    queued = [pk for _name, ids in observed.queued for pk in ids]
    assert sorted(queued) == sorted(m.pk for m in emails)
    assert OutboundMessage.objects.get(person=person(granddaughter)).recipient == mother["email"]
    for message in emails:
        assert usable_code(message.person, code_in(message.body)) is not None

    # Letters: one PDF, one page each (the son's addressed to his father, at the address this file gave
    # him first), marked printed with their bodies erased; the code on each page is the stored one.
    letters = list(OutboundMessage.objects.filter(channel="letter").select_related("person").order_by("pk"))
    assert [m.person.nir for m in letters] == [r["nir"] for r in (father, son, grandmother, adults[1])]
    assert report.letters == 4 and report.emails == 4
    assert all(m.status == "printed" and m.body_erased and not m.body for m in letters)
    assert letters[1].recipient == letters[0].recipient and father["address"] in letters[1].recipient
    pages = PdfReader(report.letters_pdf).pages
    assert len(pages) == 4
    for message, page in zip(letters, pages, strict=True):
        text = page.extract_text()
        assert message.recipient.splitlines()[-1] in text
        assert usable_code(message.person, code_in(text)) is not None
    assert list(settings.CARNET_LETTERS_DIR.glob("*.pdf")) == [report.letters_pdf]


def test_emails_delivered_after_each_commit_carry_the_code_that_was_stored(people, tmp_path, settings, observed,
                                                                           mailoutbox):
    settings.CARNET_DEMO = True  # delivered emails keep their bodies (tasks run at once in tests)
    parent = people.row(birth=years_ago(36))
    rows = [people.row(birth=years_ago(7), email=False, phone=False, parent=parent), *[
        people.row(birth=years_ago(25 + i)) for i in range(5)], parent]
    path = tmp_path / "registry.csv"
    write_csv(path, rows)

    report = import_registry(path, chunk_size=CHUNK)

    assert (report.created, report.emails, report.letters) == (7, 7, 0)
    assert {name for name, _ids in observed.queued} == {WRITER} and len(observed.queued) == 4  # 3 chunks, 1 retry
    messages = OutboundMessage.objects.select_related("person")
    assert {m.status for m in messages} == {"sent"}
    assert sorted((m.to[0], m.body) for m in mailoutbox) == sorted((m.recipient, m.body) for m in messages)
    for message in messages:
        assert usable_code(message.person, code_in(message.body)) is not None
    assert ProvisionalCode.objects.get(person=person(rows[0])).sent_to == person(parent)


def test_a_second_run_changes_nothing(people, tmp_path, settings, observed):
    settings.TASKS = DUMMY_TASKS
    grandfather = people.row(birth=years_ago(75), sex="M", email=False)
    father = people.row(birth=years_ago(45), sex="M", parent=grandfather)
    children = [people.row(birth=years_ago(4 + i), email=False, phone=False, parent=father) for i in range(2)]
    rows = [*children, father, *[people.row(birth=years_ago(30 + i), email=i % 2 == 0) for i in range(4)],
            grandfather]
    path = tmp_path / "registry.csv"
    write_csv(path, rows)
    first = import_registry(path, chunk_size=CHUNK)
    assert (first.created, first.rejected) == (len(rows), 0)
    counts = (Person.objects.count(), ProvisionalCode.objects.count(), OutboundMessage.objects.count())
    queued = len(observed.queued)
    observed.connections.clear()

    again = import_registry(path, chunk_size=CHUNK)

    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, len(rows), 0)
    assert (again.emails, again.letters, again.letters_pdf) == (0, 0, None)
    assert (Person.objects.count(), ProvisionalCode.objects.count(), OutboundMessage.objects.count()) == counts
    assert len(observed.queued) == queued
    assert WRITER in observed.connections  # the second run went through the writer thread too
    assert len(list(settings.CARNET_LETTERS_DIR.glob("*.pdf"))) == 1


@pytest.fixture
def refused_family_name():
    """A CHECK constraint added to the person table for the test: a row with this family name passes
    validation and fails in the database, at the writer's COPY, as a real constraint violation."""
    table, column = Person._meta.db_table, Person._meta.get_field("family_name").column
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT registry_test_refused CHECK ({column} <> 'Refusé')")
    yield "Refusé"
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS registry_test_refused")


@pytest.mark.parametrize("failing_chunk", ["middle", "last"])
def test_a_chunk_failing_in_the_writer_stops_the_run_and_keeps_earlier_chunks(people, tmp_path, settings, observed,
                                                                              refused_family_name, failing_chunk):
    settings.TASKS = DUMMY_TASKS
    first = [people.row(birth=years_ago(40)), people.row(birth=years_ago(41), email=False),
             people.row(birth=years_ago(42), email=False)]
    failing = [people.row(birth=years_ago(43)), people.row(birth=years_ago(44), family_name=refused_family_name),
               people.row(birth=years_ago(45), email=False)]
    later = [people.row(birth=years_ago(46 + i), email=i != 1) for i in range(6)] if failing_chunk == "middle" else []
    path = tmp_path / "registry.csv"
    write_csv(path, [*first, *failing, *later])

    with pytest.raises(psycopg.errors.CheckViolation, match="registry_test_refused"):
        import_registry(path, chunk_size=CHUNK)

    assert WRITER in observed.connections
    # Chunk 1 committed, with its codes, its email queued and its letters pending (bodies kept) for the
    # daily job; nothing of the failing chunk nor of any later one.
    assert {p.nir for p in Person.objects.all()} == {r["nir"] for r in first}
    assert ProvisionalCode.objects.count() == OutboundMessage.objects.count() == 3
    email = OutboundMessage.objects.get(channel="email")
    assert observed.queued == [(WRITER, [email.pk])] and email.status == "pending"
    letters = OutboundMessage.objects.filter(channel="letter")
    assert len(letters) == 2 and all(m.status == "pending" and m.body and not m.body_erased for m in letters)
    # The run's partial PDF is gone; the daily job prints the letters that were kept.
    assert list(settings.CARNET_LETTERS_DIR.glob("*.pdf")) == []
    printed = render_pending()
    assert len(printed) == 1 and len(re.findall(rb"/Type /Page[^s]", printed[0].read_bytes())) == 2
