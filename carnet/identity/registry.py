"""The insurance registry import: how spaces are created.

Streams the CSV in chunks (constant memory whatever the size), validates every row, upserts by NIR
(idempotent: a second run changes nothing), skips opposed NIRs, and gives each new person a notice
with a provisional code (email, or a letter in this run's print batch). A child may come before its
parent in the file: such rows wait in a spill file and are retried once the file has been read.

A registry extract holds millions of rows, so the write path is built for volume (bench/README.md
has the figures). Each chunk is one transaction. On PostgreSQL the lookups take one array parameter,
new rows go in with binary COPY under ids reserved from the tables' sequences, and a second thread with
its own connection writes each chunk while this one validates and prepares the next; other databases
(the SQLite demo) take the same rows through the ORM, in the calling thread.
"""

import csv
import datetime as dt
import functools
import hashlib
import hmac
import queue
import re
import secrets
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import EmailValidator
from django.db import connection, models, transaction
from django.utils import timezone
from stdnum.fr import nir as stdnum_nir

from carnet.common.dates import age_on, today
from carnet.common.secrets import CODE_ALPHABET, keyed_hash
from carnet.notifications.enums import OutboundChannel, OutboundStatus
from carnet.notifications.letters import BatchPrinter
from carnet.notifications.models import OutboundMessage

from . import notices
from .actions.codes import CODE_PURPOSE
from .enums import SpaceStatus
from .models import Account, Opposition, Person, ProvisionalCode
from .validators import normalise_phone, validate_nir, validate_serial

COLUMNS = ["nir", "vitale_serial", "family_name", "given_names", "birth_date", "sex", "email", "phone",
           "address", "postal_code", "city", "parent_nir"]
UPDATABLE = ["vitale_serial", "family_name", "given_names", "birth_date", "sex", "email", "phone", "address",
             "postal_code", "city", "parent_id", "registry_digest"]
_email = EmailValidator()
# Message ids per delivery task: a task stays short, and a failing gateway holds back few messages.
DELIVERY_BATCH = 2000


class RegistryFileError(Exception):
    """The file itself is unusable (not UTF-8 CSV, wrong header): nothing is imported."""


class RowInvalid(Exception):
    pass


@dataclass
class RegistryRow:
    line: int
    nir: str
    vitale_serial: str
    family_name: str
    given_names: str
    birth_date: dt.date
    sex: str
    email: str
    phone: str
    address: str
    postal_code: str
    city: str
    parent_nir: str
    digest: str = ""
    opposition_digest: str = ""  # the keyed hash an opposition to this NIR is filed under

    # Names as notices print them, by the same rules as a Person's.
    first_name = Person.first_name
    full_name = Person.full_name

    def raw(self) -> list[str]:
        return [str(self.line), self.nir, self.vitale_serial, self.family_name, self.given_names,
                self.birth_date.isoformat(), self.sex, self.email, self.phone, self.address, self.postal_code,
                self.city, self.parent_nir]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    opposed: int = 0
    emails: int = 0
    letters: int = 0
    batch: str = ""
    letters_pdf: Path | None = None
    errors: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"créés : {self.created}, mis à jour : {self.updated}, inchangés : {self.unchanged}, "
                f"rejetés : {self.rejected}, opposés (ignorés) : {self.opposed}; "
                f"avis envoyés : {self.emails} courriel(s), {self.letters} courrier(s)")
        if self.letters_pdf:
            text += f"; lot d'impression : {self.letters_pdf}"
        return text


_COMPACT_NIR = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}")


def _valid_nir(value: str) -> str:
    """validate_nir, quicker on a NIR already written as registry extracts write them (15 characters,
    no spaces): for those its clean-up changes nothing and only the check digits remain to compare,
    by the same function. Anything else, or a wrong key, goes through validate_nir and its message."""
    if _COMPACT_NIR.fullmatch(value) and stdnum_nir.calc_check_digits(value) == value[13:]:
        return value
    return validate_nir(value)


def parse_row(raw: dict, line: int, day: dt.date) -> RegistryRow:
    """Validate one CSV row; raises RowInvalid with a reason a registry operator can act on."""
    def get(name: str) -> str:
        return (raw.get(name) or "").strip()

    try:
        nir = _valid_nir(get("nir"))
    except ValidationError as exc:
        raise RowInvalid(exc.messages[0]) from None
    try:
        serial = validate_serial(get("vitale_serial"))
    except ValidationError as exc:
        raise RowInvalid(exc.messages[0]) from None
    family_name, given_names = get("family_name"), " ".join(get("given_names").split())
    if not family_name or not given_names:
        raise RowInvalid("nom ou prénoms manquants")
    if len(family_name) > 100 or len(given_names) > 150:
        raise RowInvalid("nom ou prénoms trop longs")
    try:
        birth_date = dt.date.fromisoformat(get("birth_date"))
    except ValueError:
        raise RowInvalid("date de naissance invalide (AAAA-MM-JJ attendu)") from None
    if birth_date > day or birth_date.year < 1880:
        raise RowInvalid("date de naissance hors limites")
    sex = get("sex").upper()
    if sex not in ("M", "F"):
        raise RowInvalid("sexe invalide (M ou F attendu)")
    if (nir[0] == "1" and sex != "M") or (nir[0] == "2" and sex != "F"):
        raise RowInvalid("le sexe ne correspond pas au NIR")
    email = get("email")
    if email:
        try:
            _email(email)
        except ValidationError:
            raise RowInvalid("adresse électronique invalide") from None
    phone = get("phone")
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValidationError:
            raise RowInvalid("numéro de téléphone invalide") from None
    address, postal_code, city = get("address"), get("postal_code"), get("city")
    if not (address and postal_code and city):
        raise RowInvalid("adresse postale incomplète")
    parent_nir = get("parent_nir")
    if parent_nir:
        try:
            parent_nir = _valid_nir(parent_nir)
        except ValidationError as exc:
            raise RowInvalid(f"parent_nir : {exc.messages[0]}") from None
        if parent_nir == nir:
            raise RowInvalid("une personne ne peut pas être son propre parent")
    row = RegistryRow(line, nir, serial, family_name, given_names, birth_date, sex, email.lower(), phone,
                      address, postal_code, city, parent_nir)
    row.digest = _digest(row)
    return row


def _digest(row: RegistryRow) -> str:
    return hashlib.sha256("\x1f".join(row.raw()[2:]).encode()).hexdigest()


def read_rows(stream: TextIO) -> Iterator[tuple[int, dict]]:
    """(line number, {column: value}) for each non-empty line after the header, as csv.DictReader
    reads them (a short line lacks its last keys), without its per-row overhead."""
    reader = csv.reader(stream)
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise RegistryFileError(f"colonnes manquantes dans l'en-tête : {', '.join(missing)}")
        for values in reader:
            if values:
                yield reader.line_num, dict(zip(header, values, strict=False))
    except (csv.Error, UnicodeDecodeError) as exc:
        raise RegistryFileError(f"ligne {reader.line_num} : fichier illisible ({type(exc).__name__})") from None


# -- provisional codes in bulk --------------------------------------------------------------------
CODE_LENGTH = 12
# Random bytes map onto the alphabet through a table; bytes past the last whole multiple of the
# alphabet's length are dropped rather than folded, so every character stays equally likely.
_WHOLE = len(CODE_ALPHABET) * (256 // len(CODE_ALPHABET))
_CODE_TABLE = bytes.maketrans(bytes(range(_WHOLE)), (CODE_ALPHABET * (256 // len(CODE_ALPHABET))).encode())
_CODE_DROPPED = bytes(range(_WHOLE, 256))


def new_codes(count: int) -> list[str]:
    """`count` provisional codes as typed once normalised (12 characters of CODE_ALPHABET, ~59 bits,
    the same as carnet.common.secrets.new_provisional_code) from one call to the system's CSPRNG."""
    need = CODE_LENGTH * count
    text = ""
    while len(text) < need:
        text += secrets.token_bytes(need - len(text) + 64).translate(_CODE_TABLE, _CODE_DROPPED).decode("ascii")
    return [text[start:start + CODE_LENGTH] for start in range(0, need, CODE_LENGTH)]


def shown_code(code: str) -> str:
    return f"{code[0:4]}-{code[4:8]}-{code[8:12]}"


def new_uuids(count: int) -> list[uuid.UUID]:
    """Random (version 4) UUIDs, as uuid.uuid4() makes them, from one call to the system's CSPRNG."""
    data = secrets.token_bytes(16 * count)
    return [uuid.UUID(bytes=data[i:i + 16], version=4) for i in range(0, 16 * count, 16)]


def keyed_hasher(purpose: str) -> Callable[[str], str]:
    """keyed_hash(value, purpose) for a million values: the key and the purpose are taken into the HMAC
    once, and each value continues a copy of it. Checked against keyed_hash itself, which it falls back
    to should the two ever differ."""
    keyed = hmac.new(settings.CARNET_HMAC_KEY.encode(), f"{purpose}\x00".encode(), hashlib.sha256)

    def fast(value: str) -> str:
        mac = keyed.copy()
        mac.update(value.encode())
        return mac.hexdigest()

    probe = "registry import self-check"
    return fast if fast(probe) == keyed_hash(probe, purpose) else functools.partial(keyed_hash, purpose=purpose)


# -- notices in bulk ------------------------------------------------------------------------------
class _Named:
    """Who a notice names when it is not a row of this file: a parent already in the database."""

    __slots__ = ("pk", "nir", "given_names", "family_name", "email", "account_email", "address", "postal_code",
                 "city")
    first_name = Person.first_name
    full_name = Person.full_name

    def __init__(self, pk, nir, given_names, family_name, email="", account_email="", address="", postal_code="",
                 city=""):
        self.pk, self.nir, self.given_names, self.family_name = pk, nir, given_names, family_name
        self.email, self.account_email = email, account_email or ""
        self.address, self.postal_code, self.city = address, postal_code, city


class _Placeholder:
    """Stands for a person in a notice template: names only, so that a notice reading anything else
    about a person (which the template could not vary) fails to become a template."""

    __slots__ = ("nir", "given_names", "family_name")
    first_name = Person.first_name
    full_name = Person.full_name

    def __init__(self, nir: str, given_names: str, family_name: str):
        self.nir, self.given_names, self.family_name = nir, given_names, family_name


class NoticeTexts:
    """notices.provisional_code_notice for a whole run, without formatting its dates a million times.

    The dates are the same for everyone in a run, and formatting them costs more than the rest of the
    notice; so each kind of notice (one's own space, a child's) is rendered once with placeholders for
    the names and the code, then filled in (in one pass: a name is never read as a placeholder). That
    holds while the notice depends on names, code and dates only: one that reads any other attribute
    of a person cannot be made a template, and the first notice of each kind is also rendered the
    ordinary way and compared. Either way, should they differ, every notice of the run is rendered the
    ordinary way.
    """

    _SLOT = re.compile("\x00([0-4])\x00")

    def __init__(self, deadline: dt.date | None):
        self.deadline = deadline
        self.templates: dict[tuple[dt.date, bool], tuple[str, str] | None] = {}

    def render(self, person, recipient, code: str, expires: dt.date) -> tuple[str, str]:
        for_child = recipient.nir != person.nir
        key = (expires, for_child)
        if key not in self.templates:
            self.templates[key] = self._template(expires, for_child)
            direct = self._direct(person, recipient, code, expires)
            if self.templates[key] is not None and self._fill(key, person, recipient, code) != direct:
                self.templates[key] = None
            return direct
        if self.templates[key] is None:
            return self._direct(person, recipient, code, expires)
        return self._fill(key, person, recipient, code)

    def _direct(self, person, recipient, code: str, expires: dt.date) -> tuple[str, str]:
        return notices.provisional_code_notice(person, recipient, code, expires=expires,
                                               opposition_deadline=self.deadline)

    def _template(self, expires: dt.date, for_child: bool) -> tuple[str, str] | None:
        person = _Placeholder("P", "\x000\x00", "\x001\x00")
        recipient = _Placeholder("R", "\x002\x00", "\x003\x00") if for_child else person
        try:
            texts = self._direct(person, recipient, "\x004\x00", expires)
        except AttributeError:
            return None
        # As str.format templates: braces in the text doubled, placeholders numbered.
        return tuple(self._SLOT.sub(r"{\1}", text.replace("{", "{{").replace("}", "}}")) for text in texts)

    def _fill(self, key, person, recipient, code: str) -> tuple[str, str]:
        subject, body = self.templates[key]
        values = (person.first_name, person.family_name, recipient.first_name, recipient.family_name, code)
        return subject.format(*values), body.format(*values)


# -- writing --------------------------------------------------------------------------------------
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
        return [model._meta.get_field(name).column for name in names]

    def _select(self, model: type[models.Model], names: Sequence[str], key: str, values: list, *,
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
            rows = self._select(Person, ["nir", "id", "registry_digest"], "nir", nirs)
        else:
            rows = Person.objects.filter(nir__in=nirs).values_list("nir", "id", "registry_digest")
        return {nir: (pk, digest) for nir, pk, digest in rows}

    def parents(self, nirs: list[str]) -> dict[str, _Named]:
        """Parents already in the database, with the verified email of their account if they have one."""
        fields = ["id", "nir", "given_names", "family_name", "email", "address", "postal_code", "city"]
        if self.postgres:
            rows = self._select(Person, fields, "nir", nirs, account_email=True)
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
                oids = dict(cursor.fetchall())
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


PERSON_FIELDS = ["uuid", "nir", "vitale_serial", "family_name", "given_names", "birth_date", "sex", "email",
                 "phone", "address", "postal_code", "city", "parent_id", "status", "registry_digest", "notified_at",
                 "opposition_deadline", "created_at", "updated_at", "came_of_age_on"]
CODE_FIELDS = ["person_id", "sent_to_id", "code_hash", "issued_at", "expires_at"]
MESSAGE_FIELDS = ["uuid", "person_id", "channel", "recipient", "subject", "body", "batch", "status", "created_at"]


class RegistryImport:
    """One run of the import; `run()` returns its report."""

    def __init__(self, stream: TextIO, *, day: dt.date | None = None, chunk_size: int = 5000,
                 on_error: Callable[[int, str], None] | None = None, keep_errors: int = 10_000):
        self.stream = stream
        self.day = day or today()
        self.chunk_size = chunk_size
        self.on_error = on_error
        self.keep_errors = keep_errors
        self.report = ImportReport(batch=f"registre-{timezone.now():%Y%m%d-%H%M%S-%f}")
        self.deadline = self.day + dt.timedelta(days=settings.CARNET_OPPOSITION_WINDOW_DAYS)
        self.notices = NoticeTexts(self.deadline)
        self.store = _Store()
        self.opposition_hash = keyed_hasher("opposition")
        self.code_hash = keyed_hasher(CODE_PURPOSE)
        self.printer = None  # this run's print batch, opened with its first letter
        self.writer: _Writer | None = None
        # Rows written by the chunk still in flight (NIR -> id, digest, row), which lookups in the
        # database may not see yet; and those of the chunk being prepared.
        self.in_flight: dict[str, tuple[int, str, RegistryRow]] = {}
        self.written: dict[str, tuple[int, str, RegistryRow]] = {}

    # -- reporting ------------------------------------------------------------------------------
    def reject(self, line: int, reason: str) -> None:
        self.report.rejected += 1
        if len(self.report.errors) < self.keep_errors:
            self.report.errors.append((line, reason))
        if self.on_error:
            self.on_error(line, reason)

    # -- the run ----------------------------------------------------------------------------------
    def run(self) -> ImportReport:
        self.writer = _Writer(threaded=self.store.postgres and not connection.in_atomic_block)
        try:
            self._run()
            self.writer.finish()
        except BaseException:
            self.writer.stop()  # the chunk in flight commits; nothing after it starts
            if self.printer:
                self.printer.abandon()  # its letters stay pending: the daily job prints them
            raise
        if self.printer:
            self.report.letters_pdf = self.printer.finish()
        return self.report

    def _run(self) -> None:
        with tempfile.TemporaryFile("w+", newline="", encoding="utf-8") as spill:
            deferred_writer = csv.writer(spill)
            deferred = 0
            for chunk in self._chunks(self._parsed(read_rows(self.stream))):
                for row in self._process(chunk):
                    deferred_writer.writerow(row.raw())
                    deferred += 1
            # Children listed before their parents: retry until a pass makes no progress.
            while deferred:
                spill.seek(0)
                rows = [self._from_spill(r) for r in csv.reader(spill)]
                spill.seek(0)
                spill.truncate()
                waiting: list[RegistryRow] = []
                for chunk in self._chunks(iter(rows)):
                    waiting.extend(self._process(chunk))
                if len(waiting) == deferred:
                    for row in waiting:
                        self.reject(row.line, "parent_nir inconnu : ni dans le registre ni dans ce fichier")
                    break
                deferred = len(waiting)
                for row in waiting:
                    deferred_writer.writerow(row.raw())
        self.report.errors.sort()

    def _from_spill(self, raw: list[str]) -> RegistryRow:
        line, *values = raw
        row = RegistryRow(int(line), *values[:4], dt.date.fromisoformat(values[4]), *values[5:])
        row.digest = _digest(row)
        row.opposition_digest = self.opposition_hash(row.nir)
        return row

    def _parsed(self, rows: Iterable[tuple[int, dict]]) -> Iterator[RegistryRow]:
        for line, raw in rows:
            try:
                row = parse_row(raw, line, self.day)
            except RowInvalid as exc:
                self.reject(line, str(exc))
            else:
                row.opposition_digest = self.opposition_hash(row.nir)
                yield row

    def _chunks(self, rows: Iterator[RegistryRow]) -> Iterator[list[RegistryRow]]:
        chunk: list[RegistryRow] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= self.chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _process(self, chunk: list[RegistryRow]) -> list[RegistryRow]:
        """Upsert one chunk in one transaction (its writes run by the _Writer); returns the rows whose
        parent is not known yet."""
        seen: dict[str, int] = {}
        rows: list[RegistryRow] = []
        for row in chunk:
            if row.nir in seen:
                self.reject(row.line, f"NIR en double dans le fichier (déjà ligne {seen[row.nir]})")
                continue
            seen[row.nir] = row.line
            rows.append(row)
        with transaction.atomic():
            opposed = self.store.opposed([r.opposition_digest for r in rows])
            if opposed:
                kept = [row for row in rows if row.opposition_digest not in opposed]
                self.report.opposed += len(rows) - len(kept)
                rows = kept
            existing = self.store.existing([r.nir for r in rows])
            for row in rows:
                if row.nir in self.in_flight:
                    existing[row.nir] = self.in_flight[row.nir][:2]
            # Parents: from the database (with their account), or rows of this chunk once upserted; a
            # parent new in this chunk is not in the database, so it is not looked for there.
            new_here = {r.nir for r in rows if r.nir not in existing}
            wanted = list({r.parent_nir for r in rows if r.parent_nir and r.parent_nir not in new_here})
            parents: dict[str, RegistryRow | _Named] = dict(self.store.parents(wanted))
            for nir in wanted:
                if nir in self.in_flight:
                    pk, _digest, row = self.in_flight[nir]
                    account_email = parents[nir].account_email if nir in parents else ""
                    parents[nir] = _Named(pk, nir, row.given_names, row.family_name, row.email, account_email,
                                          row.address, row.postal_code, row.city)
            ids = {nir: pk for nir, (pk, _digest) in existing.items()}
            ids.update((nir, parent.pk) for nir, parent in parents.items())
            pending = rows
            while pending:
                ready = [r for r in pending if not r.parent_nir or r.parent_nir in parents]
                if not ready:
                    break
                pending = [r for r in pending if r.parent_nir and r.parent_nir not in parents]
                self._upsert(ready, existing, parents, ids)
            self.writer.submit(*self.store.take())
        self.in_flight, self.written = self.written, {}
        return pending

    def _upsert(self, rows: list[RegistryRow], existing: dict[str, tuple[int, str]],
                parents: dict[str, "RegistryRow | _Named"], ids: dict[str, int]) -> None:
        now = timezone.now()
        new: list[RegistryRow] = []
        changed: list[tuple] = []
        for row in rows:
            known = existing.get(row.nir)
            if known is None:
                new.append(row)
            elif known[1] != row.digest:
                self.written[row.nir] = (known[0], row.digest, row)
                changed.append((row.vitale_serial, row.family_name, row.given_names, row.birth_date, row.sex,
                                row.email, row.phone, row.address, row.postal_code, row.city,
                                ids[row.parent_nir] if row.parent_nir else None, row.digest, now, known[0]))
            else:
                self.report.unchanged += 1
        if changed:
            self.store.update(Person, [*UPDATABLE, "updated_at"], changed)
            self.report.updated += len(changed)
        if new:
            uuids = new_uuids(len(new))
            people = []
            for row, key in zip(new, uuids, strict=True):
                adult = age_on(row.birth_date, self.day) >= 18
                people.append((
                    key, row.nir, row.vitale_serial, row.family_name, row.given_names, row.birth_date, row.sex,
                    row.email, row.phone, row.address, row.postal_code, row.city,
                    ids[row.parent_nir] if row.parent_nir else None, SpaceStatus.NOTIFIED.value, row.digest, now,
                    self.deadline, now, now,
                    self.day if adult else None,  # an adult from the start: no majority job later
                ))
            for row, pk in zip(new, self.store.insert(Person, PERSON_FIELDS, people, ids=True), strict=True):
                ids[row.nir] = pk
                self.written[row.nir] = (pk, row.digest, row)
            self.report.created += len(new)
            self._send_notices(new, parents, ids, now)
        # Children waiting for these rows now find them (with this file's name, address and email).
        for row in rows:
            known_parent = parents.get(row.nir)
            if isinstance(known_parent, _Named):
                row_parent = _Named(ids[row.nir], row.nir, row.given_names, row.family_name, row.email,
                                    known_parent.account_email, row.address, row.postal_code, row.city)
                parents[row.nir] = row_parent
            else:
                parents[row.nir] = row

    def _send_notices(self, people: list[RegistryRow], parents: dict, ids: dict[str, int], now) -> None:
        """A provisional code and a notice for each new person: to them, or to the parent of a minor."""
        expires_at = now + dt.timedelta(days=settings.CARNET_PROVISIONAL_CODE_DAYS)
        expires = timezone.localdate(expires_at)
        codes, messages = [], []
        letters = 0
        for person, code, key in zip(people, new_codes(len(people)), new_uuids(len(people)), strict=True):
            parent = parents[person.parent_nir] if person.parent_nir else None
            recipient = parent if parent is not None and age_on(person.birth_date, self.day) < 18 else person
            # Someone with an account gets notices at its verified address, else at the registry's.
            email = getattr(recipient, "account_email", "") or recipient.email
            person_id, recipient_id = ids[person.nir], ids[recipient.nir]
            # The code is drawn in its normalised form (capitals and digits), which is what is hashed.
            codes.append((person_id, recipient_id, self.code_hash(code), now, expires_at))
            subject, body = self.notices.render(person, recipient, shown_code(code), expires)
            if email:
                messages.append((key, person_id, OutboundChannel.EMAIL.value, email, subject, body, "",
                                 OutboundStatus.PENDING.value, now))
            else:
                letters += 1
                messages.append((key, person_id, OutboundChannel.LETTER.value, notices.postal_address(recipient),
                                 subject, body, self.report.batch, OutboundStatus.PENDING.value, now))
        self.store.insert(ProvisionalCode, CODE_FIELDS, codes)
        message_ids = self.store.insert(OutboundMessage, MESSAGE_FIELDS, messages, ids=True)
        emails = []
        for pk, message in zip(message_ids, messages, strict=True):
            if message[2] == OutboundChannel.LETTER:
                # Printed now, from memory; marked printed once the PDF is complete, at the end of the run.
                if self.printer is None:
                    self.printer = BatchPrinter(self.report.batch)
                self.printer.add(pk, *message[3:6])
            else:
                emails.append(pk)
        if emails:
            self.store.on_commit(lambda: _deliver(emails))
        self.report.letters += letters
        self.report.emails += len(messages) - letters


def _deliver(message_ids: list[int]) -> None:
    """Emails go out through the delivery task once the chunk has committed."""
    from carnet.notifications.tasks import deliver_messages

    for start in range(0, len(message_ids), DELIVERY_BATCH):
        deliver_messages.enqueue(message_ids[start:start + DELIVERY_BATCH])


def import_registry(path: str | Path, **options) -> ImportReport:
    """Open a registry extract (UTF-8, BOM tolerated) and import it."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            return RegistryImport(stream, **options).run()
    except UnicodeDecodeError:
        raise RegistryFileError("le fichier n'est pas encodé en UTF-8") from None
