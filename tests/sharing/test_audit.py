"""Tampering with the audit chain, on PostgreSQL, the way an intruder with database access would:
raw SQL that bypasses the model's append-only `save`. Each change is found, and found where it is."""

import datetime as dt
import hashlib
import io
import json
import uuid

import pytest
from django.db import connection

from carnet.identity.enums import SpaceStatus
from carnet.sharing import audit
from carnet.sharing.audit import Anchor, Break, BreakKind, verify_person
from carnet.sharing.events import record, verify_chain
from carnet.sharing.models import AccessEvent

pytestmark = pytest.mark.django_db

TABLE = AccessEvent._meta.db_table


@pytest.fixture(autouse=True)
def _postgresql():
    assert connection.vendor == "postgresql", "the tampering tests run on PostgreSQL"


@pytest.fixture
def chain(family):
    """A person with five events, written by others (a representative, the system) and themselves."""
    person = family.person(status=SpaceStatus.ACTIVE)
    other = family.person(status=SpaceStatus.ACTIVE)
    base = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    for n, (actor, role, action) in enumerate([
        (person, "holder", "account.login"), (other, "representative", "space.view"),
        (other, "representative", "record.read"), (None, "system", "space.coming_of_age"),
        (other, "representative", "document.add"),
    ]):
        event = AccessEvent(person=person, actor=actor, actor_label=actor.full_name if actor else "",
                            actor_role=role, action=action, allowed=True, at=base + dt.timedelta(minutes=10 * n),
                            sequence=n + 1, previous_hash=AccessEvent.objects.filter(
                                person=person, sequence=n).values_list("hash", flat=True).first() or "")
        event.hash = event.compute_hash()
        event.save()
    return person


def events_of(person):
    return {e.sequence: e for e in AccessEvent.objects.filter(person=person)}


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def kinds(breaks):
    return [(b.sequence, b.kind) for b in breaks]


def forge(person, *, sequence, previous_hash, at, action="record.read"):
    """A plausible event written straight into the table, its own hash computed correctly."""
    fake = AccessEvent(person=person, actor=None, actor_label="Dr Faussaire", actor_role="representative",
                       action=action, allowed=True, at=at, sequence=sequence, previous_hash=previous_hash,
                       uuid=uuid.uuid4())
    fake.hash = fake.compute_hash()
    sql(f"INSERT INTO {TABLE} (uuid, person_id, actor_id, actor_label, actor_role, action, allowed, reason, "
        "subject, at, sequence, previous_hash, hash) VALUES (%s, %s, NULL, %s, %s, %s, true, '', '', %s, %s, %s, %s)",
        [fake.uuid, person.pk, fake.actor_label, fake.actor_role, fake.action, at, sequence, previous_hash,
         fake.hash])
    return fake


def test_an_intact_chain_has_no_break(chain, family):
    assert verify_person(chain) == []
    record(chain, actor=None, role="system", action="space.view")
    assert verify_person(chain) == [] and verify_chain(chain)


def test_an_edited_field_is_reported_as_altered_at_its_number(chain):
    target = events_of(chain)[3]
    sql(f"UPDATE {TABLE} SET allowed = false WHERE id = %s", [target.pk])

    assert verify_person(chain) == [Break(chain.uuid, 3, target.uuid, BreakKind.ALTERED)]
    assert verify_person(chain)[0].line() == f"personne {chain.uuid} : événement n° 3 modifié"
    assert not verify_chain(chain)


@pytest.mark.parametrize("column, value", [
    ("actor_label", "Quelqu'un d'autre"), ("action", "record.write"), ("at", "2020-01-01T00:00:00Z"),
    ("reason", "holder"), ("subject", "document:00000000-0000-4000-8000-000000000000"),
])
def test_every_hashed_column_is_covered(chain, column, value):
    sql(f"UPDATE {TABLE} SET {column} = %s WHERE person_id = %s AND sequence = 2", [value, chain.pk])  # noqa: S608
    assert kinds(verify_person(chain)) == [(2, BreakKind.ALTERED)]


def test_an_edit_with_a_recomputed_hash_is_found_at_the_next_link(chain):
    """The intruder rehashes the edited event: its successor no longer finds the hash it was chained to."""
    target = events_of(chain)[2]
    target.action = "document.delete"
    sql(f"UPDATE {TABLE} SET action = %s, hash = %s WHERE id = %s", [target.action, target.compute_hash(), target.pk])

    breaks = verify_person(chain)
    assert kinds(breaks) == [(3, BreakKind.REMOVED)]
    assert breaks[0].line() == f"personne {chain.uuid} : événement supprimé ou remplacé juste avant le n° 3"


def test_an_event_deleted_in_the_middle_is_reported_as_removed_with_its_number(chain):
    after = events_of(chain)[4]
    sql(f"DELETE FROM {TABLE} WHERE person_id = %s AND sequence = 3", [chain.pk])

    breaks = verify_person(chain)
    assert breaks == [Break(chain.uuid, 3, after.uuid, BreakKind.REMOVED, last=3)]
    assert breaks[0].describe() == "événement n° 3 supprimé"


def test_several_deleted_events_are_named_as_a_range(chain):
    sql(f"DELETE FROM {TABLE} WHERE person_id = %s AND sequence IN (2, 3)", [chain.pk])
    assert [b.describe() for b in verify_person(chain)] == ["événements n° 2 à 3 supprimés"]


def test_deleting_the_first_event_is_reported(chain):
    sql(f"DELETE FROM {TABLE} WHERE person_id = %s AND sequence = 1", [chain.pk])
    assert kinds(verify_person(chain)) == [(1, BreakKind.REMOVED)]


def test_a_deletion_hidden_by_renumbering_the_rest_is_still_found(chain):
    """Delete n° 2 and shift 3..5 down to close the gap: the shifted events are reported as moved and
    the first of them as having lost its predecessor."""
    sql(f"DELETE FROM {TABLE} WHERE person_id = %s AND sequence = 2", [chain.pk])
    for n in (3, 4, 5):
        sql(f"UPDATE {TABLE} SET sequence = %s WHERE person_id = %s AND sequence = %s", [n - 1, chain.pk, n])

    breaks = verify_person(chain)
    assert kinds(breaks) == [(2, BreakKind.REMOVED), (2, BreakKind.REORDERED), (3, BreakKind.REORDERED),
                             (4, BreakKind.REORDERED)]
    assert [b.was for b in breaks if b.kind == BreakKind.REORDERED] == [3, 4, 5]


def test_deleting_the_last_event_leaves_the_chain_consistent_without_an_anchor(chain):
    """What the chain alone cannot see: its head is gone, every remaining link still holds. Only an anchor
    of the heads kept outside the database (DESIGN.md §4) reveals it."""
    head = events_of(chain)[5]
    anchor = Anchor(chain.uuid, head.sequence, head.hash)
    sql(f"DELETE FROM {TABLE} WHERE id = %s", [head.pk])

    assert verify_person(chain) == []  # not detectable from the chain itself
    assert verify_person(chain, anchor) == [Break(chain.uuid, 5, None, BreakKind.REMOVED, last=5)]


def test_an_anchor_does_not_flag_events_written_after_it(chain):
    head = events_of(chain)[5]
    anchor = Anchor(chain.uuid, head.sequence, head.hash)
    record(chain, actor=None, role="system", action="space.view")
    assert verify_person(chain, anchor) == []


def test_a_chain_rewritten_from_scratch_is_caught_by_the_anchor(chain):
    """Rehash everything after editing n° 2: every link holds, only the anchor differs."""
    head = events_of(chain)[5]
    anchor = Anchor(chain.uuid, head.sequence, head.hash)
    previous = events_of(chain)[1].hash
    for n in range(2, 6):
        event = events_of(chain)[n]
        if n == 2:
            event.action = "record.write"
        event.previous_hash = previous
        event.hash = event.compute_hash()
        sql(f"UPDATE {TABLE} SET action = %s, previous_hash = %s, hash = %s WHERE id = %s",
            [event.action, event.previous_hash, event.hash, event.pk])
        previous = event.hash

    assert verify_person(chain) == []
    assert kinds(verify_person(chain, anchor)) == [(5, BreakKind.ALTERED)]


def test_two_swapped_events_are_each_reported_as_moved_with_their_original_number(chain):
    sql(f"UPDATE {TABLE} SET sequence = 1000 WHERE person_id = %s AND sequence = 2", [chain.pk])
    sql(f"UPDATE {TABLE} SET sequence = 2 WHERE person_id = %s AND sequence = 3", [chain.pk])
    sql(f"UPDATE {TABLE} SET sequence = 3 WHERE person_id = %s AND sequence = 1000", [chain.pk])

    breaks = verify_person(chain)
    assert kinds(breaks) == [(2, BreakKind.REORDERED), (3, BreakKind.REORDERED)]
    assert [(b.sequence, b.was) for b in breaks] == [(2, 3), (3, 2)]
    assert breaks[0].line() == f"personne {chain.uuid} : événement n° 2 déplacé (était n° 3)"
    assert not verify_chain(chain)


def test_a_reordering_rehashed_to_look_consistent_is_caught_by_time(chain):
    """Swap n° 3 and n° 4 and recompute every hash and link: the chain holds, but n° 4 now happened
    before n° 3 — impossible, since one person's events are written one at a time."""
    rows = events_of(chain)
    order = [rows[1], rows[2], rows[4], rows[3], rows[5]]
    sql(f"UPDATE {TABLE} SET sequence = sequence + 1000 WHERE person_id = %s", [chain.pk])
    previous = ""
    for n, event in enumerate(order, start=1):
        event.sequence, event.previous_hash = n, previous
        event.hash = event.compute_hash()
        sql(f"UPDATE {TABLE} SET sequence = %s, previous_hash = %s, hash = %s WHERE id = %s",
            [n, previous, event.hash, event.pk])
        previous = event.hash

    breaks = verify_person(chain)
    assert kinds(breaks) == [(4, BreakKind.REORDERED)]
    assert breaks[0].describe() == "événement n° 4 déplacé (antérieur au n° 3)"
    assert verify_chain(chain)  # the plain link check cannot see it


def test_a_forged_event_slipped_into_the_middle_is_reported_as_inserted(chain):
    """Shift n° 4 and 5 up and write a well-formed fake n° 4 chained to n° 3."""
    rows = events_of(chain)
    for n in (5, 4):
        sql(f"UPDATE {TABLE} SET sequence = %s WHERE person_id = %s AND sequence = %s", [n + 1, chain.pk, n])
    fake = forge(chain, sequence=4, previous_hash=rows[3].hash, at=rows[3].at + dt.timedelta(seconds=30))

    breaks = verify_person(chain)
    assert kinds(breaks) == [(4, BreakKind.INSERTED), (5, BreakKind.REORDERED), (6, BreakKind.REORDERED)]
    assert breaks[0].event == fake.uuid
    assert breaks[0].describe().startswith("événement n° 4 inséré")
    assert [b.was for b in breaks[1:]] == [4, 5]


def test_a_forged_event_appended_with_a_made_up_hash_is_altered(chain):
    rows = events_of(chain)
    sql(f"INSERT INTO {TABLE} (uuid, person_id, actor_label, actor_role, action, allowed, reason, subject, at, "
        "sequence, previous_hash, hash) VALUES (%s, %s, 'X', 'representative', 'record.read', true, '', '', "
        "now(), 6, %s, %s)", [uuid.uuid4(), chain.pk, rows[5].hash, hashlib.sha256(b"x").hexdigest()])
    assert kinds(verify_person(chain)) == [(6, BreakKind.ALTERED)]


def test_a_link_pointing_to_another_event_is_reported_as_reordered(chain):
    rows = events_of(chain)
    target = rows[4]
    target.previous_hash = rows[1].hash
    sql(f"UPDATE {TABLE} SET previous_hash = %s, hash = %s WHERE id = %s",
        [target.previous_hash, target.compute_hash(), target.pk])
    breaks = verify_person(chain)
    assert kinds(breaks) == [(4, BreakKind.REORDERED)]
    assert breaks[0].describe() == "événement n° 4 déplacé (chaîné après le n° 1)"


def test_chains_are_per_person_so_one_broken_chain_leaves_others_intact(chain, family):
    other = family.person(status=SpaceStatus.ACTIVE)
    record(other, actor=None, role="system", action="space.view")
    sql(f"UPDATE {TABLE} SET action = 'x' WHERE person_id = %s AND sequence = 1", [chain.pk])
    reports = {r.person: r for r in audit.verify_all(batch=1)}
    assert kinds(reports[chain.uuid].breaks) == [(1, BreakKind.ALTERED)]
    assert reports[other.uuid].breaks == [] and reports[other.uuid].events == 1


def test_verify_all_streams_every_person_with_events_in_batches(family, django_assert_max_num_queries):
    persons = [family.person(status=SpaceStatus.ACTIVE) for _ in range(7)]
    family.person(status=SpaceStatus.ACTIVE)  # no events: not visited
    for person in persons:
        record(person, actor=None, role="system", action="space.view")
    reports = list(audit.verify_all(batch=3))
    assert sorted(r.person for r in reports) == sorted(p.uuid for p in persons)
    assert [r.person for r in reports] == sorted(r.person for r in reports)  # by uuid, the anchors' order
    assert all(r.breaks == [] and r.events == 1 for r in reports)


def test_anchors_round_trip_and_reveal_emptied_chains(chain, family):
    other = family.person(status=SpaceStatus.ACTIVE)
    record(other, actor=None, role="system", action="space.view")
    stream = io.StringIO()
    assert audit.write_anchors(stream, audit.chain_heads(batch=1)) == 2
    sql(f"DELETE FROM {TABLE} WHERE person_id = %s", [other.pk])
    stream.seek(0)
    reports = {r.person: r for r in audit.verify_all(batch=1, anchors=audit.read_anchors(stream))}
    assert reports[chain.uuid].breaks == []
    assert reports[other.uuid].breaks == [Break(other.uuid, 1, None, BreakKind.REMOVED, last=1)]


def test_unsorted_anchors_are_refused():
    a, b = sorted([uuid.uuid4(), uuid.uuid4()])
    stream = io.StringIO(f"person,sequence,hash\n{b},1,x\n{a},1,y\n")
    with pytest.raises(ValueError, match="triés"):
        list(audit.read_anchors(stream))


def test_a_break_line_carries_no_health_content(chain):
    sql(f"UPDATE {TABLE} SET subject = 'document:x' WHERE person_id = %s AND sequence = 2", [chain.pk])
    line = verify_person(chain)[0].line()
    assert set(json.dumps(line)) and "document" not in line and "Dr" not in line


def test_each_event_says_how_it_happened(family, client):
    """Portal, patient API, FHIR or system (jobs, imports): the channel is part of the chained event."""
    from carnet.sharing import channels
    from carnet.sharing.events import record, verify_chain
    from carnet.sharing.models import AccessEvent as Event
    from carnet.sharing.policy import Role

    person = family.person()
    record(person, actor=None, role=Role.SYSTEM, action="space.activate")
    with channels.using(channels.FHIR):
        record(person, actor=None, role=Role.SYSTEM, action="record.read")
    assert [e.channel for e in Event.objects.filter(person=person).order_by("sequence")] == ["system", "fhir"]
    assert verify_chain(person)
    Event.objects.filter(person=person, channel="fhir").update(channel="portal")
    assert not verify_chain(person)
    assert channels.for_path("/api/documents") == "api" and channels.for_path("/documents/") == "portal"
