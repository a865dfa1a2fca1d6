"""Index changes that a live database takes without stopping writes, for migrations.

Django's `AddIndex` and `AlterField(db_index=...)` build or drop an index inside the migration's transaction, and
PostgreSQL then holds a lock that stops every write on the table until it is done: on `sharing_accessevent` or
`record_document`, every professional's act and every document filed, for as long as an index on hundreds of
millions of rows takes to build. A migration using these keeps Django's operations for its state
(`SeparateDatabaseAndState`) and does the database side here: CONCURRENTLY on PostgreSQL (the migration must say
`atomic = False`), the plain statements elsewhere (SQLite, for the demo). Each step can be run again (IF EXISTS /
IF NOT EXISTS), so a migration interrupted half-way (CONCURRENTLY is not transactional) can simply be run again.
"""

from django.db import migrations


def _concurrently(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def add_index(label: str, index) -> migrations.RunPython:
    """Build `index` on the model `label` ("app.Model")."""
    def forwards(apps, schema_editor):
        model = apps.get_model(label)
        if _concurrently(schema_editor):
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(index.name)}")
            schema_editor.add_index(model, index, concurrently=True)  # the drop: a build left INVALID by a crash
        else:
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index.name)}")
            schema_editor.add_index(model, index)

    def backwards(apps, schema_editor):
        keyword = "CONCURRENTLY " if _concurrently(schema_editor) else ""
        schema_editor.execute(f"DROP INDEX {keyword}IF EXISTS {schema_editor.quote_name(index.name)}")

    return migrations.RunPython(forwards, backwards, elidable=False)


def drop_field_index(label: str, column: str) -> migrations.RunPython:
    """Drop the plain one-column index Django made for a field with `db_index=True` (its own name for it), once
    another index or constraint starting with that column serves the same look-ups."""
    def name_and_table(apps, schema_editor) -> tuple[str, str]:
        table = apps.get_model(label)._meta.db_table
        return schema_editor._create_index_name(table, [column], suffix=""), table

    def forwards(apps, schema_editor):
        name, _table = name_and_table(apps, schema_editor)
        keyword = "CONCURRENTLY " if _concurrently(schema_editor) else ""
        schema_editor.execute(f"DROP INDEX {keyword}IF EXISTS {schema_editor.quote_name(name)}")

    def backwards(apps, schema_editor):
        name, table = name_and_table(apps, schema_editor)
        quote = schema_editor.quote_name
        keyword = "CONCURRENTLY " if _concurrently(schema_editor) else ""
        schema_editor.execute(f"CREATE INDEX {keyword}IF NOT EXISTS {quote(name)} ON {quote(table)} ({quote(column)})")

    return migrations.RunPython(forwards, backwards, elidable=False)


def postgresql_only(sql: str, reverse_sql: str) -> migrations.RunPython:
    """Run `sql` (backwards: `reverse_sql`) on PostgreSQL and nothing elsewhere (SQLite, the demo), for what only
    PostgreSQL has: an index with INCLUDE built CONCURRENTLY, a PL/pgSQL function."""
    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(reverse_sql)

    return migrations.RunPython(forwards, backwards, elidable=False)
