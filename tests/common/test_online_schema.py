"""The index migrations that must not stop writes (carnet/common/online_schema.py) run both ways on PostgreSQL,
CONCURRENTLY, outside a transaction, and can be run again: sharing 0007 (the access event's indexes) taken back
and forward, then its database steps run a second time over a schema that already has them."""

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'sharing_accessevent'")
        return dict(cursor.fetchall())


def _invalid() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       "WHERE NOT i.indisvalid")
        return [row[0] for row in cursor.fetchall()]


def test_the_access_event_indexes_go_back_and_forth_without_a_transaction():
    assert connection.vendor == "postgresql", "CONCURRENTLY is PostgreSQL's"
    after = _indexes()
    assert "access_event_pro_seen" in after and "sharing_accessevent_person_id_ec50890e" not in after
    try:
        call_command("migrate", "sharing", "0006", verbosity=0)
        before = _indexes()
        assert "access_event_pro_seen" not in before and "access_event_actor" not in before
        assert "sharing_accessevent_person_id_ec50890e" in before and "sharing_accessevent_actor_id_254c6fc1" in before
    finally:
        call_command("migrate", "sharing", verbosity=0)
    assert _indexes() == after
    assert not _invalid()


def test_its_database_steps_run_again_over_a_schema_that_has_them():
    """CONCURRENTLY is not transactional: a migration stopped half-way is run again, and every step takes it."""
    from django.apps import apps as live_apps
    from django.db.migrations.loader import MigrationLoader

    migration = MigrationLoader(connection).get_migration("sharing", "0007_access_event_indexes")
    steps = migration.operations[0].database_operations
    state_apps = MigrationLoader(connection).project_state(("sharing", "0007_access_event_indexes")).apps
    assert state_apps.get_model("sharing", "AccessEvent") is not live_apps.get_model("sharing", "AccessEvent")
    before = _indexes()
    with connection.schema_editor(atomic=False) as editor:
        for step in steps:
            step.code(state_apps, editor)
    assert _indexes() == before
    assert not _invalid()
