"""The wide INSERTs of `rows` and `vault.store_with_row` are parsed by psycopg once, not on every document: their
placeholders' conversion is cached (psycopg skips its cache above 50 parameters unless told, carnet/common/rows.py)."""

import pytest
from django.db import connection

from carnet.common import rows
from carnet.vault.services import _with_blob_statement


@pytest.mark.django_db
def test_the_widest_statement_is_under_the_raised_limit_and_its_parse_is_cached():
    if connection.vendor != "postgresql":
        pytest.skip("psycopg's query cache")
    # An ITI-65 document's: its SubmissionSet, blob, row, access event (decision 0016) and the notice's bump.
    from types import SimpleNamespace

    from psycopg import _queries

    from carnet.notifications.actions import coalesce_rider

    bump = coalesce_rider(SimpleNamespace(pk=1), code="document_added", title="Un", more_title="Des")
    sql, _fields, _column, _parent = _with_blob_statement("record.Document", "blob",
                                                          ("record.SubmissionSet", "submission_set"),
                                                          "sharing.AccessEvent", bump.sql)
    params = sql.count("%s")
    assert params > 50  # why the limit is raised at all
    assert _queries.MAX_CACHED_STATEMENT_PARAMS >= rows.WIDEST_STATEMENT_PARAMS >= params
    assert len(sql.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH  # psycopg's other limit (4 KB)
    query = _queries.PostgresQuery(_transformer())
    before = _queries._query2pg.cache_info().hits
    for _ in range(3):
        query.convert(sql, [None] * params)
    assert _queries._query2pg.cache_info().hits >= before + 2


def _transformer():
    from psycopg.adapt import Transformer

    connection.ensure_connection()
    return Transformer(connection.connection)
