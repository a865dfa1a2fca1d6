"""Storing, reading and sealing a person's data. Callers wrap writes in `vault.atomic()`.

`atomic()` is `transaction.atomic()` that also removes the files written inside it when the block
fails, so a blob, its metadata and its event are stored together or not at all. A process killed
between the file write and the commit leaves an unreferenced file; `sweep_orphans` (daily) removes it.
"""

import contextvars
import functools
import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
from django.db import IntegrityError, transaction
from django.utils import timezone

from carnet.common.rows import Rider

from .crypto import CHUNK_SIZE, TamperedBlob, decrypt_stream, encrypt_chunks
from .keys import data_key_for
from .models import Blob

__all__ = ["TamperedBlob", "atomic", "store", "iter_plaintext", "read_bytes", "verified_copy", "seal", "unseal"]

_written: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("vault_written", default=None)


def storage():
    return storages["vault"]


@contextmanager
def atomic():
    """A database transaction whose vault files vanish with it on failure."""
    outer = _written.get()
    mine: list[str] = []
    token = _written.set(mine)
    try:
        with transaction.atomic():
            yield
    except BaseException:
        for name in mine:
            storage().delete(name)
        raise
    finally:
        _written.reset(token)
    if outer is not None:
        outer.extend(mine)


def _pieces(source: BinaryIO | bytes | Iterable[bytes]) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source)
        for start in range(0, len(view), CHUNK_SIZE):
            yield bytes(view[start:start + CHUNK_SIZE])
    elif hasattr(source, "read"):
        while piece := source.read(CHUNK_SIZE):  # type: ignore[union-attr]
            yield piece
    else:
        yield from source  # type: ignore[misc]


class _Counted:
    """Wraps the plaintext pieces to hash and count them on their way to the cipher."""

    def __init__(self, pieces: Iterator[bytes]):
        self.pieces, self.sha256, self.size = pieces, hashlib.sha256(), 0

    def __iter__(self):
        for piece in self.pieces:
            self.sha256.update(piece)
            self.size += len(piece)
            yield piece


class _StreamFile(File):
    """A Django File over a generator of bytes: the storage writes it chunk by chunk."""

    def __init__(self, chunks: Iterator[bytes], name: str):
        super().__init__(None, name)
        self._chunks, self._buffer = chunks, b""

    def chunks(self, chunk_size=None):
        if self._buffer:
            yield self._buffer
            self._buffer = b""
        yield from self._chunks

    def read(self, size=-1):
        while size < 0 or len(self._buffer) < size:
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                break
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def close(self):
        pass


def write_file(target: FileSystemStorage, name: str, chunks: Iterable[bytes]) -> str:
    """Write a new vault file under `name` in the filesystem storage: what `target.save` does for a fresh name, in 4
    system calls (an exclusive create, its mode, the write, close) instead of 15 (Django's also looks for a free
    name, makes the directory, takes and drops an advisory lock, probes the descriptor, and chmods and stats by
    path). A person's first file (no directory yet: the create fails) or a name already taken go through
    `target.save`, which makes the directory with its mode and finds a free name. No fsync either way: the vault's
    crash rule is the orphan sweep (decision 0005). Returns the name written; a partial file is the caller's to
    delete, as before."""
    path = target.path(name)  # joined safely under the storage's root, as save() does
    mode = target.file_permissions_mode
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666 if mode is None else mode)
    except (FileNotFoundError, FileExistsError):  # no directory yet; a name taken: never on a fresh uuid
        return target.save(name, _StreamFile(iter(chunks), name))
    try:
        if mode is not None:
            os.fchmod(fd, mode)  # exactly the mode whatever the umask, as save()'s chmod, before any byte
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    return name


_INSERT_BLOB = ('INSERT INTO "vault_blob" ("uuid", "person_id", "sha256", "size", "storage_name", "created_at") '
                'VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT ("person_id", "sha256") DO NOTHING RETURNING "id"')


def store(person, source: BinaryIO | bytes | Iterable[bytes]) -> Blob:
    """Encrypt `source` under the person's key into the vault; the same content is stored once."""
    blob = _write(person, source)
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        # One statement, no savepoint: the unique (person, sha256) constraint decides, as below.
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_BLOB, _blob_params(blob))
            row = cursor.fetchone()
        if row is not None:
            blob.pk, blob._state.adding, blob._state.db = row[0], False, connection.alias
            return blob
    else:
        try:
            with transaction.atomic():
                blob.save(force_insert=True)
                return blob
        except IntegrityError:
            pass
    return _reuse(blob)


def store_with_row(person, source: BinaryIO | bytes | Iterable[bytes], build, field: str = "blob",
                   parent: tuple[Any, str] | None = None, also=None, rider: Rider | None = None):
    """`store`, then the row `build(blob)` makes (a new model instance whose `field` names the blob) inserted as
    `rows.insert` would (no signals): on PostgreSQL both rows in one statement (a data-modifying CTE), one round
    trip less on every document filed. The blob's rule is `store`'s: a new row unless the person already has these
    bytes (the unique constraint decides); then the row points at the existing blob and the new file is deleted.
    `parent`, (a new unsaved instance, the row's foreign key to it): that row inserted first, in the same statement
    on PostgreSQL (an ITI-65 bundle's SubmissionSet with its first document: one round trip less again).
    `also`: one more new unsaved instance, unrelated to these rows, inserted by the same statement (the access
    event that traces the document: one round trip less again). `rider`: an UPDATE run by the same statement too,
    its `rowcount` set (the holder's notice bumped: once more). Returns the row, saved (the parent and `also` too)."""
    from carnet.common.rows import insert, values

    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        if parent is not None:
            insert(parent[0])  # saved first: `build` then points the row at it
        row = insert(build(store(person, source)))
        if also is not None:
            insert(also)
        if rider is not None:
            rider.run(connection.alias)
        return row
    blob = _write(person, source)
    row = build(blob)
    sql, fields, column, parent_column = _with_blob_statement(
        type(row)._meta.label, field, (type(parent[0])._meta.label, parent[1]) if parent else None,
        type(also)._meta.label if also is not None else None, rider.sql if rider is not None else None)
    params = values(parent[0], connection) if parent else []
    params += _blob_params(blob)
    for f in fields:
        if f is parent_column:
            continue  # the new parent's id, from the statement
        params += (blob.person_id, blob.sha256) if f is column else (
            f.get_db_prep_save(f.pre_save(row, True), connection),)
    if also is not None:
        params += values(also, connection)
    if rider is not None:
        params += rider.params
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row_id, blob_id, new_blob_id, *more = cursor.fetchone()
    row.pk, row._state.adding, row._state.db = row_id, False, connection.alias
    if rider is not None:
        rider.rowcount = more.pop()
    if also is not None:
        also.pk, also._state.adding, also._state.db = more.pop(), False, connection.alias
    if parent is not None:
        parent[0].pk, parent[0]._state.adding, parent[0]._state.db = more[0], False, connection.alias
        setattr(row, parent[1], parent[0])  # the row's key, from the now saved parent
    if new_blob_id is not None:
        blob.pk, blob._state.adding, blob._state.db = new_blob_id, False, connection.alias
        setattr(row, field, blob)  # the row's blob_id, from the now saved blob
        return row
    # The person already has these bytes: the same single copy, as `store` does. Not visible to the statement's
    # snapshot when a concurrent transaction committed it while this one waited on the constraint: read it now.
    existing = _reuse(blob)
    setattr(row, field, existing)
    if blob_id is None:
        type(row)._base_manager.filter(pk=row_id).update(**{column.attname: existing.pk})  # type: ignore[attr-defined]
    return row


@functools.cache
def _with_blob_statement(label: str, field: str, parent: tuple[str, str] | None,
                         also: str | None = None, rider: str | None = None) -> tuple[str, tuple, Any, Any]:
    """The blob's INSERT and the row's in one PostgreSQL statement; the row's `field` is the new blob's id, or this
    person's existing copy of the same bytes when this statement's snapshot sees it. With `parent` (its model's
    label, the row's foreign key to it), that row's INSERT first and the row's key its new id; with `also` (a
    model's label), one more INSERT of that model; with `rider` (an UPDATE), that statement, last. Returns the new
    row's id, the blob id it got and the new blob's id (NULL when the constraint found a copy), then the parent's id,
    then the `also` row's id, then the number of rows the rider changed."""
    from django.apps import apps
    from django.db import connection

    from carnet.common.rows import statement

    model = apps.get_model(label)
    sql, fields = statement(label, "postgresql")
    column = model._meta.get_field(field)
    parent_column = model._meta.get_field(parent[1]) if parent else None
    values = ", ".join('COALESCE((SELECT "id" FROM "new_blob"), (SELECT "id" FROM "vault_blob" '
                       'WHERE "person_id" = %s AND "sha256" = %s))' if f is column else
                       '(SELECT * FROM "new_parent")' if f is parent_column else "%s" for f in fields)
    quote = connection.ops.quote_name
    first = f'"new_parent" AS ({statement(parent[0], "postgresql")[0]}), ' if parent else ""
    parent_id = ', (SELECT * FROM "new_parent")' if parent else ""  # its one column: the new parent's key
    last = f', "also_row" AS ({statement(also, "postgresql")[0]})' if also else ""
    also_id = ', (SELECT * FROM "also_row")' if also else ""  # its one column too
    ridden = f', "rider" AS ({rider} RETURNING 1)' if rider else ""
    rider_count = ', (SELECT count(*) FROM "rider")' if rider else ""
    return (f'WITH {first}"new_blob" AS ({_INSERT_BLOB}), "new_row" AS ({sql.partition(" VALUES (")[0]} '  # noqa: S608
            f'VALUES ({values}) RETURNING {quote(model._meta.pk.column)}, {quote(column.column)}){last}{ridden} '
            f'SELECT "new_row".*, (SELECT "id" FROM "new_blob")'
            f'{parent_id}{also_id}{rider_count} FROM "new_row"', fields, column, parent_column)


def _write(person, source: BinaryIO | bytes | Iterable[bytes]) -> Blob:
    """The encrypted file, written and pending (`atomic` deletes it if the block fails), and its Blob unsaved."""
    pending = _written.get()
    if pending is None or not transaction.get_connection().in_atomic_block:
        raise RuntimeError("vault.store() must run inside vault.atomic()")
    key = data_key_for(person)
    blob_id = uuid.uuid4()
    counted = _Counted(_pieces(source))
    sealed = encrypt_chunks(key, blob_id.bytes, counted)
    name = f"{person.uuid}/{blob_id.hex}"
    target = storage()
    try:
        if isinstance(target, FileSystemStorage):
            name = write_file(target, name, sealed)
        else:  # remote storages want a seekable file: spool (bounded memory, then disk)
            with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
                for chunk in sealed:
                    spool.write(chunk)
                spool.seek(0)
                name = target.save(name, File(spool, name))
    except BaseException:
        target.delete(name)  # a partial file (the name is a fresh uuid: nothing else has it)
        raise
    pending.append(name)
    if counted.size == 0:
        raise ValueError("empty content")
    return Blob(uuid=blob_id, person_id=person.pk, sha256=counted.sha256.hexdigest(), size=counted.size,
                storage_name=name)


def _blob_params(blob: Blob) -> list:
    return [blob.uuid, blob.person_id, blob.sha256, blob.size, blob.storage_name, blob.created_at]


def _reuse(blob: Blob) -> Blob:
    """The person's existing row for these bytes; the file just written for them is deleted."""
    existing = Blob.objects.get(person_id=blob.person_id, sha256=blob.sha256)  # this person already has these bytes
    pending = _written.get()
    if pending is not None:  # always, inside vault.atomic() (`_write` checked)
        pending.remove(blob.storage_name)
    storage().delete(blob.storage_name)
    return existing


def iter_plaintext(blob: Blob) -> Iterator[bytes]:
    """Decrypt chunk by chunk; every chunk is authenticated and the whole is checked against its hash."""
    key = data_key_for(blob.person)
    digest, size = hashlib.sha256(), 0
    with storage().open(blob.storage_name, "rb") as source:
        for piece in decrypt_stream(key, blob.uuid.bytes, source):
            digest.update(piece)
            size += len(piece)
            yield piece
    if size != blob.size or digest.hexdigest() != blob.sha256:
        raise TamperedBlob("content does not match its address")


def read_bytes(blob: Blob) -> bytes:
    """The whole verified plaintext (for small blobs)."""
    return b"".join(iter_plaintext(blob))


def verified_copy(blob: Blob) -> BinaryIO:
    """A temporary file holding the verified plaintext, for serving: no byte leaves before the check."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - the caller closes it
    try:
        for piece in iter_plaintext(blob):
            spool.write(piece)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _seal_aad(person, purpose: str) -> bytes:
    return b"carnet-seal\x00" + purpose.encode() + b"\x00" + person.uuid.bytes


def seal(person, plaintext: bytes, *, purpose: str) -> bytes:
    """Encrypt a small value (a FHIR resource, a note) under the person's key, bound to `purpose`."""
    nonce = os.urandom(12)
    return b"S1" + nonce + AESGCM(data_key_for(person)).encrypt(nonce, plaintext, _seal_aad(person, purpose))


def unseal(person, token: bytes, *, purpose: str) -> bytes:
    token = bytes(token)
    if not token.startswith(b"S1"):
        raise TamperedBlob("not a sealed value")
    try:
        return AESGCM(data_key_for(person)).decrypt(token[2:14], token[14:], _seal_aad(person, purpose))
    except InvalidTag as exc:
        raise TamperedBlob("sealed value failed authentication") from exc


def sweep_orphans(min_age: timedelta = timedelta(days=1)) -> int:
    """Delete vault files no Blob row points at (left by a crash between write and commit)."""
    target, removed = storage(), 0
    cutoff = timezone.now() - min_age
    try:
        directories, _ = target.listdir("")
    except FileNotFoundError:  # nothing stored yet
        return 0
    for directory in directories:
        _, files = target.listdir(directory)
        try:
            person_uuid = uuid.UUID(directory)
        except ValueError:
            continue  # not ours
        names = {f"{directory}/{name}" for name in files}
        known = set(
            Blob.objects.filter(person__uuid=person_uuid, storage_name__in=names).values_list("storage_name", flat=True)
        )
        for name in names - known:
            if target.get_modified_time(name) < cutoff:
                target.delete(name)
                removed += 1
    return removed
