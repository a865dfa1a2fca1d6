"""One new row in one INSERT statement, without the ORM's query building.

For the rows written on every document filed (ITI-65 bundles, uploads): the ORM took longer to build a 40-column
INSERT than PostgreSQL took to run it. The values are what `Model.save()` would send (each field's `pre_save`, so
`auto_now` dates and defaults too, then `get_db_prep_save`); only new rows, and only models with no `save()` of
their own and no `pre_save`/`post_save` receivers (the caller's choice: `insert` does not send signals).
"""

from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.db import connections, router

# psycopg turns a query's %s placeholders into $n once and caches the result, except for queries of more than 50
# parameters (or 4 KB), which it parses again on every execution. A document's row with its blob (and, for an
# ITI-65 bundle, its SubmissionSet, access event and the notice's bump: `vault.store_with_row`) has 79 (2.3 KB):
# 0.18 ms of parsing per document filed (at 54). psycopg reads the limit on each call; these statements are few and
# fixed (one cache entry each).
WIDEST_STATEMENT_PARAMS = 128


def _cache_wide_statements() -> None:
    try:
        from psycopg import _queries
    except ImportError:  # SQLite only (no psycopg installed)
        return
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, WIDEST_STATEMENT_PARAMS)


_cache_wide_statements()


@cache
def statement(label: str, vendor: str) -> tuple[str, tuple]:
    model = apps.get_model(label)
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key)
    quote = connections[router.db_for_write(model)].ops.quote_name
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(meta.pk.column)}")
    return sql, fields


def insert(instance):
    """Save a new model instance in one plain INSERT (as `instance.save(force_insert=True)` without signals) and
    return it with its primary key. Falls back to `save()` where the database cannot return the new key."""
    model = type(instance)
    alias = router.db_for_write(model)
    connection = connections[alias]
    if not connection.features.can_return_columns_from_insert:
        instance.save(force_insert=True)
        return instance
    sql, _fields = statement(model._meta.label, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, values(instance, connection))
        instance.pk = cursor.fetchone()[0]
    instance._state.adding, instance._state.db = False, alias
    return instance


def values(instance, connection) -> list:
    """The parameters of `statement` for a new `instance`: each field's value as `save()` would send it."""
    _sql, fields = statement(type(instance)._meta.label, connection.vendor)
    return [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]


@dataclass
class Rider:
    """A statement that rides in another's instead of running alone (one round trip less): an UPDATE and its
    parameters, which `vault.store_with_row` runs as a data-modifying CTE of the document's statement (the holder's
    notice bumped with the document that causes it). `rowcount`: how many rows it changed, once it ran."""

    sql: str
    params: list
    rowcount: int | None = None

    def run(self, alias: str = "default") -> int:
        """Run it alone (where it cannot ride: SQLite, or a caller with no statement to ride in); its row count."""
        with connections[alias].cursor() as cursor:
            cursor.execute(self.sql, self.params)
            self.rowcount = cursor.rowcount
        return self.rowcount
