"""The insurance registry import: how spaces are created.

Streams the CSV in chunks (constant memory whatever the size), validates every row, upserts by NIR
(idempotent: a second run changes nothing), skips opposed NIRs, and gives each new person a notice
with a provisional code (email, or a letter in this run's print batch). A child may come before its
parent in the file: such rows wait in a spill file and are retried once the file has been read.
"""

import csv
import datetime as dt
import hashlib
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone

from carnet.common.dates import age_on, today
from carnet.common.secrets import keyed_hash
from carnet.notifications import actions as notifications

from .actions.codes import new_code_row, notice_message
from .enums import SpaceStatus
from .models import Opposition, Person, ProvisionalCode
from .validators import normalise_phone, validate_nir, validate_serial

COLUMNS = ["nir", "vitale_serial", "family_name", "given_names", "birth_date", "sex", "email", "phone",
           "address", "postal_code", "city", "parent_nir"]
UPDATABLE = ["vitale_serial", "family_name", "given_names", "birth_date", "sex", "email", "phone", "address",
             "postal_code", "city", "parent_id", "registry_digest"]
_email = EmailValidator()


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


def parse_row(raw: dict, line: int, day: dt.date) -> RegistryRow:
    """Validate one CSV row; raises RowInvalid with a reason a registry operator can act on."""
    def get(name: str) -> str:
        return (raw.get(name) or "").strip()

    try:
        nir = validate_nir(get("nir"))
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
            parent_nir = validate_nir(parent_nir)
        except ValidationError as exc:
            raise RowInvalid(f"parent_nir : {exc.messages[0]}") from None
        if parent_nir == nir:
            raise RowInvalid("une personne ne peut pas être son propre parent")
    row = RegistryRow(line, nir, serial, family_name, given_names, birth_date, sex, email.lower(), phone,
                      address, postal_code, city, parent_nir)
    row.digest = hashlib.sha256("\x1f".join(row.raw()[2:]).encode()).hexdigest()
    return row


def read_rows(stream: TextIO) -> Iterator[tuple[int, dict]]:
    reader = csv.DictReader(stream)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RegistryFileError(f"colonnes manquantes dans l'en-tête : {', '.join(missing)}")
    reader.fieldnames = header
    try:
        for raw in reader:
            yield reader.line_num, raw
    except (csv.Error, UnicodeDecodeError) as exc:
        raise RegistryFileError(f"ligne {reader.line_num} : fichier illisible ({type(exc).__name__})") from None


class RegistryImport:
    """One run of the import; `run()` returns its report."""

    def __init__(self, stream: TextIO, *, day: dt.date | None = None, chunk_size: int = 2000,
                 on_error: Callable[[int, str], None] | None = None, keep_errors: int = 10_000):
        self.stream = stream
        self.day = day or today()
        self.chunk_size = chunk_size
        self.on_error = on_error
        self.keep_errors = keep_errors
        self.report = ImportReport(batch=f"registre-{timezone.now():%Y%m%d-%H%M%S-%f}")
        self.deadline = self.day + dt.timedelta(days=settings.CARNET_OPPOSITION_WINDOW_DAYS)

    # -- reporting ------------------------------------------------------------------------------
    def reject(self, line: int, reason: str) -> None:
        self.report.rejected += 1
        if len(self.report.errors) < self.keep_errors:
            self.report.errors.append((line, reason))
        if self.on_error:
            self.on_error(line, reason)

    # -- the run ----------------------------------------------------------------------------------
    def run(self) -> ImportReport:
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
        if self.report.letters:
            from carnet.notifications.letters import render_batch

            self.report.letters_pdf = render_batch(self.report.batch)
        return self.report

    def _from_spill(self, raw: list[str]) -> RegistryRow:
        line, *values = raw
        row = RegistryRow(int(line), *values[:4], dt.date.fromisoformat(values[4]), *values[5:])
        row.digest = hashlib.sha256("\x1f".join(row.raw()[2:]).encode()).hexdigest()
        return row

    def _parsed(self, rows: Iterable[tuple[int, dict]]) -> Iterator[RegistryRow]:
        for line, raw in rows:
            try:
                yield parse_row(raw, line, self.day)
            except RowInvalid as exc:
                self.reject(line, str(exc))

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
        """Upsert one chunk in one transaction; returns the rows whose parent is not known yet."""
        seen: dict[str, int] = {}
        rows: list[RegistryRow] = []
        for row in chunk:
            if row.nir in seen:
                self.reject(row.line, f"NIR en double dans le fichier (déjà ligne {seen[row.nir]})")
                continue
            seen[row.nir] = row.line
            rows.append(row)
        opposed = set(
            Opposition.objects.filter(
                nir_digest__in=[keyed_hash(r.nir, "opposition") for r in rows]
            ).values_list("nir_digest", flat=True)
        )
        if opposed:
            kept = []
            for row in rows:
                if keyed_hash(row.nir, "opposition") in opposed:
                    self.report.opposed += 1
                else:
                    kept.append(row)
            rows = kept
        with transaction.atomic():
            existing = {
                p.nir: p for p in Person.objects.filter(nir__in=[r.nir for r in rows]).only(
                    "id", "nir", "registry_digest", "parent_id", "status", *UPDATABLE[:-2]
                )
            }
            parents = {
                p.nir: p for p in Person.objects.filter(nir__in={r.parent_nir for r in rows if r.parent_nir})
                .select_related("account")
            }
            pending = rows
            while pending:
                ready = [r for r in pending if not r.parent_nir or r.parent_nir in parents]
                if not ready:
                    break
                pending = [r for r in pending if r.parent_nir and r.parent_nir not in parents]
                for person in self._upsert(ready, existing, parents):
                    parents[person.nir] = person
        return pending

    def _upsert(self, rows: list[RegistryRow], existing: dict[str, Person], parents: dict[str, Person]) -> list[Person]:
        now = timezone.now()
        to_create: list[Person] = []
        to_update: list[Person] = []
        for row in rows:
            parent = parents.get(row.parent_nir) if row.parent_nir else None
            person = existing.get(row.nir)
            if person is None:
                person = Person(
                    nir=row.nir, status=SpaceStatus.NOTIFIED, notified_at=now, opposition_deadline=self.deadline,
                    created_at=now,
                )
                self._assign(person, row, parent)
                if age_on(row.birth_date, self.day) >= 18:
                    person.came_of_age_on = self.day  # an adult from the start: no majority job later
                to_create.append(person)
            elif person.registry_digest != row.digest:
                self._assign(person, row, parent)
                person.updated_at = now
                to_update.append(person)
            else:
                self.report.unchanged += 1
        if to_update:
            Person.objects.bulk_update(to_update, [*UPDATABLE, "updated_at"])
            self.report.updated += len(to_update)
        if to_create:
            Person.objects.bulk_create(to_create)
            self.report.created += len(to_create)
            self._send_notices(to_create, parents)
        return to_create + to_update

    @staticmethod
    def _assign(person: Person, row: RegistryRow, parent: Person | None) -> None:
        for name in ("vitale_serial", "family_name", "given_names", "birth_date", "sex", "email", "phone",
                     "address", "postal_code", "city"):
            setattr(person, name, getattr(row, name))
        person.parent = parent
        person.registry_digest = row.digest

    def _send_notices(self, people: list[Person], parents: dict[str, Person]) -> None:
        codes: list[ProvisionalCode] = []
        messages = []
        for person in people:
            parent = person.parent if person.parent_id else None
            minor = parent is not None and age_on(person.birth_date, self.day) < 18
            recipient = parent if minor else person
            # New people have no account yet; parents from the database came with theirs.
            email = ""
            if recipient.pk and "account" in recipient._state.fields_cache:
                account = recipient._state.fields_cache["account"]
                email = account.email if account and account.email else ""
            email = email or recipient.email
            code_row, code = new_code_row(person, recipient)
            codes.append(code_row)
            messages.append(notice_message(person, recipient, code, code_row.expires_at, batch=self.report.batch,
                                           email=email))
        ProvisionalCode.objects.bulk_create(codes)
        notifications.bulk_queue(messages)
        letters = sum(1 for m in messages if m.channel == "letter")
        self.report.letters += letters
        self.report.emails += len(messages) - letters


def import_registry(path: str | Path, **options) -> ImportReport:
    """Open a registry extract (UTF-8, BOM tolerated) and import it."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            return RegistryImport(stream, **options).run()
    except UnicodeDecodeError:
        raise RegistryFileError("le fichier n'est pas encodé en UTF-8") from None
