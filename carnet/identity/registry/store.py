"""The import's reads and writes: one query per chunk for lookups, binary COPY under reserved ids for
new rows, and the writer thread that commits one chunk while the next is prepared (PostgreSQL); the
ORM, in the calling thread, elsewhere."""

import functools
import queue
import re
import threading
from collections.abc import Callable, Iterable, Sequence

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction

from ..models import Account, Opposition, Person
from .notice_texts import _Named

_PLAIN = re.compile(r"[0-9A-Za-z,]*")


class _Store:
    """The reads and writes of one import. On PostgreSQL, lookups take one array parameter, and writes
    are queued for the _Writer as binary COPY under ids reserved from the sequences (a chunk's children
    can point at parents of the same COPY: foreign keys are checked at commit). Other databases (the
    SQLite demo) get the ORM, at once."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        self._copy_plans: dict[tuple, tuple[str, list[int], tuple]] = {}
        self.writes: list[Callable[[], None]] = []
        self.after_commit: list[Callable[[], None]] = []

    def _cursor(self) -> psycopg.Cursor:
        connection.ensure_connection()
        # Parameters bound by the server: Django's cursors quote each value in Python.
        return psycopg.Cursor(connection.connection)

    @staticmethod
    def _names(model: type[models.Model], *names: str) -> list[str]:
        # Names of concrete fields only, which have a column (get_field may also return relations).
        return [model._meta.get_field(name).column for name in names]  # type: ignore[union-attr,misc]

    def _select(self, model: type[models.Model], names: Sequence[str], key: str, values: Sequence[str], *,
                account_email: bool = False) -> list[tuple]:
        """SELECT names (and the account's email) FROM model WHERE key = ANY(values), on PostgreSQL."""
        columns = ", ".join(f"t.{c}" for c in self._names(model, *names))
        sql = f"SELECT {columns}"
        if account_email:
            email, person = self._names(Account, "email", "person")
            sql += (f", a.{email} FROM {model._meta.db_table} t "
                    f"LEFT JOIN {Account._meta.db_table} a ON a.{person} = t.{model._meta.pk.column}")
        else:
            sql += f" FROM {model._meta.db_table} t"
        sql += f" WHERE t.{self._names(model, key)[0]} = ANY(%s)"
        # NIRs and hex digests need no quoting: one array literal is cheaper than 5,000 dumped strings.
        literal = ",".join(values)
        if _PLAIN.fullmatch(literal):
            sql, values = sql.replace("ANY(%s)", "ANY(%s::text[])"), "{" + literal + "}"
        with self._cursor() as cursor:
            return cursor.execute(sql, [values]).fetchall()

    def opposed(self, digests: list[str]) -> set[str]:
        if self.postgres:
            return {d for (d,) in self._select(Opposition, ["nir_digest"], "nir_digest", digests)}
        return set(Opposition.objects.filter(nir_digest__in=digests).values_list("nir_digest", flat=True))

    def existing(self, nirs: list[str]) -> dict[str, tuple[int, str]]:
        """NIR -> (id, registry digest) of the people already known."""
        if self.postgres:
            rows: Iterable[tuple] = self._select(Person, ["nir", "id", "registry_digest"], "nir", nirs)
        else:
            rows = Person.objects.filter(nir__in=nirs).values_list("nir", "id", "registry_digest")
        return {nir: (pk, digest) for nir, pk, digest in rows}

    def parents(self, nirs: list[str]) -> dict[str, _Named]:
        """Parents already in the database, with the verified email of their account if they have one."""
        fields = ["id", "nir", "given_names", "family_name", "email", "address", "postal_code", "city"]
        if self.postgres:
            # The 8 fields, then the account's email (None without an account).
            rows: Iterable[tuple[int, str, str, str, str, str, str, str, str | None]] = self._select(
                Person, fields, "nir", nirs, account_email=True)
        else:
            rows = Person.objects.filter(nir__in=nirs).values_list(*fields, "account__email")
        return {r[1]: _Named(*r[:5], r[8], *r[5:8]) for r in rows}

    # Writes. On PostgreSQL they are queued (ids reserved at once from the sequences) and run as one job
    # per chunk by the _Writer; elsewhere they run at once, inside the chunk's transaction.
    def update(self, model, names: list[str], rows: list[tuple]) -> None:
        """Rows of (values..., id)."""
        if self.postgres:
            sets = ", ".join(f"{c} = %s" for c in self._names(model, *names))
            # Table and column names come from the models; every value is a bound parameter.
            sql = f"UPDATE {model._meta.db_table} SET {sets} WHERE {model._meta.pk.column} = %s"  # noqa: S608
            self.writes.append(functools.partial(self._execute_many, sql, rows))
        else:
            objects = [model(pk=row[-1], **dict(zip(names, row[:-1], strict=True))) for row in rows]
            model.objects.bulk_update(objects, names, batch_size=500)

    def insert(self, model, names: list[str], rows: list[tuple], *, ids: bool = False) -> list[int]:
        """Insert rows of `names` values (every other field at its default); returns the new ids if asked."""
        if not rows:
            return []
        if not self.postgres:
            objects = model.objects.bulk_create([model(**dict(zip(names, row, strict=True))) for row in rows])
            return [o.pk for o in objects] if ids else []
        sql, types, defaults = self._copy_plan(model, names, ids)
        new_ids: list[int] = []
        if ids:
            with self._cursor() as cursor:
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                               [model._meta.db_table, model._meta.pk.column, len(rows)])
                new_ids = [pk for (pk,) in cursor.fetchall()]
            rows = [(pk, *row) for pk, row in zip(new_ids, rows, strict=True)]
        self.writes.append(functools.partial(self._copy, sql, types, [row + defaults for row in rows]))
        return new_ids

    def on_commit(self, func: Callable[[], None]) -> None:
        if self.postgres:
            self.after_commit.append(func)
        else:
            transaction.on_commit(func)

    def take(self) -> tuple[list[Callable[[], None]], list[Callable[[], None]]]:
        """The chunk's queued writes and after-commit calls, handed over to be run."""
        job = (self.writes, self.after_commit)
        self.writes, self.after_commit = [], []
        return job

    def _execute_many(self, sql: str, rows: list[tuple]) -> None:
        with self._cursor() as cursor:
            cursor.executemany(sql, rows)

    def _copy(self, sql: str, types: list[int], rows: list[tuple]) -> None:
        # Binary COPY: no text to escape on this side nor to parse on the server's.
        with self._cursor() as cursor, cursor.copy(sql) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def _copy_plan(self, model, names: list[str], ids: bool) -> tuple[str, list[int], tuple]:
        """The COPY statement, its columns' types, and the values of the fields the import does not set
        (their defaults: a field added later with a plain default needs no change here; one without
        fails loudly)."""
        key = (model, tuple(names), ids)
        if key not in self._copy_plans:
            given = set(names)
            columns = ([model._meta.pk.column] if ids else []) + self._names(model, *names)
            defaults = []
            for f in model._meta.concrete_fields:
                if f.primary_key or f.name in given or f.attname in given:
                    continue
                if f.has_default() and callable(f.default):
                    raise ImproperlyConfigured(f"registry import: no value for {model.__name__}.{f.name}")
                # A plain default, else what Django would store: "" for text, NULL if nullable.
                value = f.get_db_prep_save(f.get_default(), connection)
                columns.append(f.column)
                defaults.append(str(value) if isinstance(value, str) else value)
            with self._cursor() as cursor:
                cursor.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass "
                               "AND attnum > 0 AND NOT attisdropped", [model._meta.db_table])
                oids: dict[str, int] = dict(cursor.fetchall())
            self._copy_plans[key] = (f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)",
                               [oids[c] for c in columns], tuple(defaults))
        return self._copy_plans[key]


class _Writer:
    """Runs each chunk's queued writes in one transaction. On PostgreSQL, unless the caller has a
    transaction open, that happens in a second thread with a connection of its own, so that the server
    writes one chunk while this thread reads, validates and prepares the next; `submit` waits for the
    previous chunk first, so one chunk at most is in flight. Otherwise the writes run at once, inside
    the chunk's transaction."""

    def __init__(self, threaded: bool):
        self.threaded = threaded
        self.error: BaseException | None = None
        if threaded:
            self.jobs: queue.Queue = queue.Queue()
            self.idle = threading.Event()
            self.idle.set()
            self.thread = threading.Thread(target=self._work, name="registry-writer", daemon=True)
            self.thread.start()

    def submit(self, writes: list[Callable[[], None]], after_commit: list[Callable[[], None]]) -> None:
        if not self.threaded:
            for write in writes:
                write()
            for func in after_commit:
                transaction.on_commit(func)
            return
        self.idle.wait()
        if self.error is not None:
            raise self.error
        self.idle.clear()
        self.jobs.put((writes, after_commit))

    def finish(self) -> None:
        """Wait for the last chunk; raise what went wrong in the writer, if anything did."""
        self.stop()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        if self.threaded and self.thread.is_alive():
            self.jobs.put(None)
            self.thread.join()

    def _work(self) -> None:
        try:
            while (job := self.jobs.get()) is not None:
                try:
                    if self.error is None:
                        with transaction.atomic():
                            for write in job[0]:
                                write()
                            for func in job[1]:
                                transaction.on_commit(func)
                except BaseException as exc:  # noqa: BLE001 - raised in the importing thread
                    self.error = exc
                finally:
                    self.idle.set()
        finally:
            connection.close()  # this thread's own connection
