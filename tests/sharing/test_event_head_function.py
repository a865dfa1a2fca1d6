"""The access event's lock and chain head in one call on PostgreSQL (`carnet_event_head`, sharing migration 0008):
one statement, the same answer as the two statements other databases run, and a migration that goes back and forth.
That the read sees what a writer holding the lock committed is `test_fast_paths`'s two-connection test."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carnet.identity.enums import SpaceStatus
from carnet.sharing import events
from carnet.sharing.models import Professional


def _two_statements(person_id: int, professional_id: int | None) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(events._LOCK_PERSON + " FOR UPDATE", [person_id])
        cursor.execute(events._HEAD, [person_id, professional_id, person_id])
        sequence, previous, earlier = cursor.fetchone()
    return sequence, previous, bool(earlier)


def _function_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'carnet_event_head'")
        return cursor.fetchone()[0] == 1


@pytest.mark.django_db
def test_the_lock_and_the_head_are_one_call_with_the_two_statements_answer(family):
    if connection.vendor != "postgresql":
        pytest.skip("the function is PostgreSQL's")
    person = family.person(status=SpaceStatus.ACTIVE)
    doctor = Professional.objects.create(rpps="10000000001", family_name="Martin", given_names="Anne",
                                         profession_code="10")
    other = Professional.objects.create(rpps="10000000002", family_name="Durand", given_names="Paul",
                                        profession_code="10")
    answers = []
    for step in range(3):
        with CaptureQueriesContext(connection) as captured:
            got = {who: events._lock_and_read_head(person.pk, who) for who in (doctor.pk, other.pk, None)}
        assert len(captured.captured_queries) == 3  # one per call
        assert got == {who: _two_statements(person.pk, who) for who in (doctor.pk, other.pk, None)}
        answers.append(got)
        events.record(person, actor=doctor if step else person, role="professional" if step else "holder",
                      action="document.read")
    assert answers[0][doctor.pk] == (None, None, False)  # no event yet: no head, nobody seen
    assert answers[1][doctor.pk][0] == 1 and answers[1][doctor.pk][2] is False  # the holder's own read
    assert answers[2][doctor.pk][0] == 2 and answers[2][doctor.pk][2] is True  # the doctor read once
    assert answers[2][other.pk][2] is False and answers[2][None][2] is False


@pytest.mark.django_db(transaction=True)
def test_the_migration_creates_and_drops_the_function():
    if connection.vendor != "postgresql":
        pytest.skip("the function is PostgreSQL's")
    assert _function_exists()
    try:
        call_command("migrate", "sharing", "0007", verbosity=0)
        assert not _function_exists()
    finally:
        call_command("migrate", "sharing", verbosity=0)
    assert _function_exists()
