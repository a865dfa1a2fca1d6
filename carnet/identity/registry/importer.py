"""One run of the import: chunks, the spill file for children listed before their parents, the
upsert by NIR, codes and notices for new people, and the report."""

import csv
import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from carnet.common.dates import age_on, today
from carnet.common.secrets import new_codes, shown_code
from carnet.notifications.enums import OutboundChannel, OutboundStatus
from carnet.notifications.letters import BatchPrinter
from carnet.notifications.models import OutboundMessage

from .. import notices
from ..actions.codes import CODE_PURPOSE
from ..enums import SpaceStatus
from ..models import Person, ProvisionalCode
from .bulk import keyed_hasher, new_uuids
from .notice_texts import NoticeTexts, _Named
from .parsing import RegistryFileError, RegistryRow, RowInvalid, _digest, parse_row, read_rows
from .store import _Store, _Writer

UPDATABLE = ["vitale_serial", "family_name", "given_names", "birth_date", "sex", "email", "phone", "address",
             "postal_code", "city", "parent_id", "registry_digest"]
# Message ids per delivery task: a task stays short, and a failing gateway holds back few messages.
DELIVERY_BATCH = 2000


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
        self.printer: BatchPrinter | None = None  # this run's print batch, opened with its first letter
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
        # mypy cannot size the slices: the spill row has the 13 columns RegistryRow.raw() wrote.
        row = RegistryRow(int(line), *values[:4], dt.date.fromisoformat(values[4]), *values[5:])  # type: ignore[call-arg,arg-type]
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
            # Until _upsert adds this chunk's rows, every parent here is a _Named (hence the ignores below).
            parents: dict[str, RegistryRow | _Named] = dict(self.store.parents(wanted))
            for nir in wanted:
                if nir in self.in_flight:
                    pk, _digest, row = self.in_flight[nir]
                    account_email = parents[nir].account_email if nir in parents else ""  # type: ignore[union-attr]
                    parents[nir] = _Named(pk, nir, row.given_names, row.family_name, row.email, account_email,
                                          row.address, row.postal_code, row.city)
            ids = {nir: pk for nir, (pk, _digest) in existing.items()}
            ids.update((nir, parent.pk) for nir, parent in parents.items())  # type: ignore[union-attr]
            pending = rows
            while pending:
                ready = [r for r in pending if not r.parent_nir or r.parent_nir in parents]
                if not ready:
                    break
                pending = [r for r in pending if r.parent_nir and r.parent_nir not in parents]
                self._upsert(ready, existing, parents, ids)
            self.writer.submit(*self.store.take())  # type: ignore[union-attr]  # run() sets it before _run()
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
