"""PostgreSQL parses and plans a statement once per connection, not on every request: psycopg prepares what a
connection runs more than 5 times (Django leaves that off unless told, carnet/settings.py). Real PostgreSQL; the
prepared statements are read from the server's own view of the session (`pg_prepared_statements`)."""

import json

import pytest
from django.db import connection

from carnet.identity.models import Person
from tests.test_settings import read_settings_expr


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_query_run_again_and_again_is_prepared_on_the_server():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements: PostgreSQL")
    lookup = 'FROM "identity_person" WHERE "identity_person"."nir" = $1'
    assert not any(lookup in statement for statement in _prepared())
    for n in range(7):
        assert Person.objects.filter(nir=f"18501750{n:05d}").first() is None
    assert any(lookup in statement for statement in _prepared()), _prepared()


def test_prepared_statements_can_be_turned_off_for_a_transaction_pooler():
    base = {"SECRET_KEY": "k" * 50, "CARNET_MASTER_KEYS": "2026:" + "a" * 43 + "=",
            "DATABASE_URL": "postgres://u@db.example:5432/carnet"}
    options = "json.dumps(s.DATABASES['default']['OPTIONS'])"
    default = json.loads(read_settings_expr(options, **base))
    assert default["server_side_binding"] is True and default["prepare_threshold"] == 5
    off = json.loads(read_settings_expr(options, DATABASE_PREPARE_THRESHOLD="0", **base))
    assert off["server_side_binding"] is True and off["prepare_threshold"] is None
    client_side = json.loads(read_settings_expr(options, DATABASE_SERVER_SIDE_BINDING="0", **base))
    assert "server_side_binding" not in client_side and "prepare_threshold" not in client_side


@pytest.mark.parametrize(("value", "message"), [("abc", "must be a whole number, not 'abc'"),
                                                ("-1", "must be 0 or more, not -1")])
def test_a_bad_threshold_stops_the_start_with_a_message_naming_it(value, message):
    base = {"SECRET_KEY": "k" * 50, "CARNET_MASTER_KEYS": "2026:" + "a" * 43 + "=",
            "DATABASE_URL": "postgres://u@db.example:5432/carnet"}
    with pytest.raises(RuntimeError, match=f"ImproperlyConfigured: DATABASE_PREPARE_THRESHOLD {message}"):
        read_settings_expr("1", DATABASE_PREPARE_THRESHOLD=value, **base)
