"""The reads an access event's write makes are index probes, not scans of everything a person or a professional
ever did: on every professional's act, the chain head and "had this professional an allowed access before?"
(events._HEAD). Before the `access_event_pro_seen` index, PostgreSQL answered the second by reading every event of
the person and of the professional (a lab's millions) through two single-column indexes, on every event written.

PostgreSQL only (CI's database): the plans are PostgreSQL's. Sequential scans are turned off for the EXPLAIN so that
the answer says which index can serve the query, whatever the size of the test tables."""

import json

import pytest
from django.db import connection

from carnet.identity.enums import SpaceStatus
from carnet.sharing import events
from carnet.sharing.models import Professional

pytestmark = pytest.mark.django_db


def _plan(sql: str, params: list) -> dict:
    assert connection.vendor == "postgresql", "the plan tests run on PostgreSQL"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        answer = cursor.fetchone()[0]
    return (json.loads(answer) if isinstance(answer, str) else answer)[0]["Plan"]


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def test_the_earlier_access_question_is_one_probe_of_its_partial_index(family):
    person = family.person(status=SpaceStatus.ACTIVE)
    doctor = Professional.objects.create(rpps="10000000001", family_name="Martin", given_names="Anne",
                                         profession_code="10")
    events.record(person, actor=doctor, role="professional", action="document.read")

    plan = _plan(events._HEAD, [person.pk, doctor.pk, person.pk])
    used = {node.get("Index Name") for node in _nodes(plan) if "Index Name" in node}
    assert "access_event_pro_seen" in used, used
    assert "access_event_person_sequence" in used, used  # the head: the last of the person's chain
    assert not any(node["Node Type"] in ("Seq Scan", "BitmapAnd") for node in _nodes(plan))


def test_the_optional_links_of_a_document_are_indexed_where_set():
    """Most documents have no preview, no replaced version, no folder: those links are indexed where set only."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'record_document'")
        defs = dict(cursor.fetchall())
    for column in ("preview_blob_id", "author_person_id", "replaces_id", "folder_id", "submission_set_id"):
        on_column = [d for d in defs.values() if f"({column})" in d]
        assert len(on_column) == 1 and f"WHERE ({column} IS NOT NULL)" in on_column[0], on_column
