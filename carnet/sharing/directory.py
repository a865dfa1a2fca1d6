"""The professionals' directory import: `carnet import_directory FILE.csv` (UTF-8 CSV, header row).

Columns `rpps,family_name,given_names,profession_code,specialty_code,finess,email`; one row per activity place, so
a professional with two places comes on two rows (same RPPS, same identity, two FINESS). The import is streamed
in chunks, each in its own transaction, and is idempotent: professionals are upserted by RPPS (an unchanged one is
not rewritten), establishments created by FINESS, and a professional's activity places become the FINESS numbers
this file gives for them. A bad row is reported with its line and reason and skipped; the rest is loaded.
"""

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone

from . import professions
from .models import ActivityPlace, Establishment, Professional

COLUMNS = ["rpps", "family_name", "given_names", "profession_code", "specialty_code", "finess", "email"]
PROFESSIONAL_FIELDS = ["family_name", "given_names", "profession_code", "specialty_code", "email"]
_email = EmailValidator()


class DirectoryFileError(Exception):
    """The file itself is unusable (not UTF-8 CSV, wrong header); `line` is where reading stopped (1: nothing
    was imported; further down, the chunks before it were, and re-running the corrected file is safe)."""

    def __init__(self, message: str, line: int = 1):
        self.line = line
        super().__init__(message)


class RowInvalid(Exception):
    pass


@dataclass
class DirectoryRow:
    line: int
    rpps: str
    family_name: str
    given_names: str
    profession_code: str
    specialty_code: str
    finess: str
    email: str
    digest: str = ""  # of the identity columns (not the FINESS): what Professional.directory_digest keeps

    def values(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in PROFESSIONAL_FIELDS}


def parse_row(raw: dict, line: int) -> DirectoryRow:
    """Validate one CSV row; raises RowInvalid with a reason the directory operator can act on."""
    def get(name: str) -> str:
        return (raw.get(name) or "").strip()

    rpps = get("rpps")
    if not (len(rpps) == 11 and rpps.isdigit()):
        raise RowInvalid(f"numéro RPPS invalide (11 chiffres attendus) : {rpps[:20]!r}")
    if not professions.rpps_is_valid(rpps):
        raise RowInvalid(f"numéro RPPS {rpps} : clé de contrôle (Luhn) fausse")
    family_name, given_names = " ".join(get("family_name").split()), " ".join(get("given_names").split())
    if not family_name or not given_names:
        raise RowInvalid("nom ou prénoms manquants")
    if len(family_name) > 100 or len(given_names) > 150:
        raise RowInvalid("nom ou prénoms trop longs")
    profession = get("profession_code")
    if not professions.is_profession(profession):
        raise RowInvalid(f"code de profession inconnu (TRE_G15) : {profession[:20]!r}")
    specialty = get("specialty_code").upper()
    if problem := professions.specialty_problem(profession, specialty):
        raise RowInvalid(problem)
    finess = get("finess").upper()
    if finess and not professions.finess_is_valid(finess):
        raise RowInvalid(f"numéro FINESS invalide (9 caractères attendus) : {finess[:20]!r}")
    email = get("email").lower()
    if email:
        try:
            _email(email)
        except ValidationError:
            raise RowInvalid("adresse électronique invalide") from None
        if len(email) > 254:
            raise RowInvalid("adresse électronique trop longue")
    row = DirectoryRow(line, rpps, family_name, given_names, profession, specialty, finess, email)
    row.digest = hashlib.sha256("\x1f".join(row.values().values()).encode()).hexdigest()
    return row


def read_rows(stream: TextIO) -> Iterator[tuple[int, dict]]:
    """(line number, {column: value}) for each non-empty line after the header."""
    reader = csv.reader(stream)
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise DirectoryFileError(f"colonnes manquantes dans l'en-tête : {', '.join(missing)}")
        for values in reader:
            if any(v.strip() for v in values):
                yield reader.line_num, dict(zip(header, values, strict=False))
    except (csv.Error, UnicodeDecodeError) as exc:
        reason = "pas en UTF-8" if isinstance(exc, UnicodeDecodeError) else "CSV mal formé"
        line = max(reader.line_num, 1)
        raise DirectoryFileError(f"ligne {line} : fichier illisible ({reason})", line) from None


@dataclass
class DirectoryReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    establishments: int = 0
    places_added: int = 0
    places_removed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"professionnels créés : {self.created}, mis à jour : {self.updated}, inchangés : {self.unchanged}; "
                f"lignes rejetées : {self.rejected}; établissements créés : {self.establishments}; "
                f"lieux d'exercice ajoutés : {self.places_added}, retirés : {self.places_removed}")


class _Seen:
    """What the run has already read, compactly enough for a million rows: per RPPS the first line and a
    64-bit share of its identity digest, and per (RPPS, FINESS) pair the line that gave it."""

    def __init__(self) -> None:
        self.professionals: dict[int, int] = {}  # int(rpps) -> line << 64 | identity
        self.places: dict[int, int] = {}  # hash((rpps, finess)) -> line

    def check(self, row: DirectoryRow) -> tuple[str, bool]:
        """(reason to reject the row or "", whether it is the first row of its professional in this run)."""
        identity = int(row.digest[:16], 16)
        known = self.professionals.get(int(row.rpps))
        if known is not None and known & (2**64 - 1) != identity:
            return (f"RPPS {row.rpps} déjà ligne {known >> 64} avec un autre nom, profession, spécialité ou "
                    "adresse électronique", False)
        pair = hash((row.rpps, row.finess))
        if pair in self.places:
            return f"ligne répétée (même RPPS et même FINESS que la ligne {self.places[pair]})", False
        self.places[pair] = row.line
        if known is None:
            self.professionals[int(row.rpps)] = row.line << 64 | identity
            return "", True
        return "", False


class DirectoryImport:
    """One run of the import; `run()` returns its report."""

    def __init__(self, stream: TextIO, *, chunk_size: int = 5000,
                 on_error: Callable[[int, str], None] | None = None, keep_errors: int = 10_000):
        self.stream = stream
        self.chunk_size = chunk_size
        self.on_error = on_error
        self.keep_errors = keep_errors
        self.report = DirectoryReport()
        self.seen = _Seen()

    def reject(self, line: int, reason: str) -> None:
        self.report.rejected += 1
        if len(self.report.errors) < self.keep_errors:
            self.report.errors.append((line, reason))
        if self.on_error:
            self.on_error(line, reason)

    def run(self) -> DirectoryReport:
        for chunk in self._chunks(self._checked(read_rows(self.stream))):
            self._process(chunk)
        return self.report

    def _checked(self, rows: Iterable[tuple[int, dict]]) -> Iterator[tuple[DirectoryRow, bool]]:
        for line, raw in rows:
            try:
                row = parse_row(raw, line)
            except RowInvalid as exc:
                self.reject(line, str(exc))
                continue
            problem, first = self.seen.check(row)
            if problem:
                self.reject(line, problem)
            else:
                yield row, first

    def _chunks(self, rows: Iterator[tuple[DirectoryRow, bool]]) -> Iterator[list[tuple[DirectoryRow, bool]]]:
        chunk: list[tuple[DirectoryRow, bool]] = []
        for item in rows:
            chunk.append(item)
            if len(chunk) >= self.chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _process(self, chunk: list[tuple[DirectoryRow, bool]]) -> None:
        """Upsert one chunk's professionals, establishments and activity places, in one transaction."""
        now = timezone.now()
        identity: dict[str, DirectoryRow] = {}
        places: dict[str, set[str]] = {}
        replace: set[str] = set()  # professionals whose places this run has not set yet: set them, not add
        for row, first in chunk:
            identity.setdefault(row.rpps, row)
            places.setdefault(row.rpps, set())
            if row.finess:
                places[row.rpps].add(row.finess)
            if first:
                replace.add(row.rpps)
        with transaction.atomic():
            existing = {rpps: (pk, digest, active) for rpps, pk, digest, active in Professional.objects.filter(
                rpps__in=list(identity)).values_list("rpps", "id", "directory_digest", "active")}
            writes = []
            for rpps, row in identity.items():
                known = existing.get(rpps)
                if known is None:
                    self.report.created += 1
                elif known[1] != row.digest or not known[2]:
                    self.report.updated += 1
                else:
                    if rpps in replace:  # counted once per professional, on its first row
                        self.report.unchanged += 1
                    continue
                writes.append(Professional(rpps=rpps, directory_digest=row.digest, active=True, created_at=now,
                                           updated_at=now, **row.values()))
            if writes:
                Professional.objects.bulk_create(
                    writes, update_conflicts=True, unique_fields=["rpps"],
                    update_fields=[*PROFESSIONAL_FIELDS, "directory_digest", "active", "updated_at"])
            ids = {rpps: known[0] for rpps, known in existing.items()}
            new = [rpps for rpps in identity if rpps not in ids]
            if new:
                ids.update(Professional.objects.filter(rpps__in=new).values_list("rpps", "id"))
            self._places(places, replace, ids, now)

    def _places(self, places: dict[str, set[str]], replace: set[str], ids: dict[str, int], now) -> None:
        wanted_finess = set().union(*places.values())
        establishments = dict(Establishment.objects.filter(finess__in=list(wanted_finess)).values_list("finess", "id"))
        missing = [finess for finess in wanted_finess if finess not in establishments]
        if missing:
            Establishment.objects.bulk_create([Establishment(finess=f, created_at=now) for f in missing],
                                              ignore_conflicts=True)
            establishments.update(Establishment.objects.filter(finess__in=missing).values_list("finess", "id"))
            self.report.establishments += len(missing)
        wanted = {(ids[rpps], establishments[finess]) for rpps, numbers in places.items() for finess in numbers}
        current: dict[tuple[int, int], int] = {
            (professional, establishment): pk for pk, professional, establishment in ActivityPlace.objects.filter(
                professional_id__in=[ids[rpps] for rpps in places]).values_list("id", "professional_id",
                                                                                "establishment_id")}
        replaced = {ids[rpps] for rpps in replace}
        gone = [pk for pair, pk in current.items() if pair not in wanted and pair[0] in replaced]
        if gone:
            ActivityPlace.objects.filter(pk__in=gone).delete()
            self.report.places_removed += len(gone)
        added = [ActivityPlace(professional_id=p, establishment_id=e) for p, e in wanted if (p, e) not in current]
        if added:
            ActivityPlace.objects.bulk_create(added, ignore_conflicts=True)
            self.report.places_added += len(added)


def import_directory(path: str | Path, **options) -> DirectoryReport:
    """Open a directory extract (UTF-8, BOM tolerated) and import it."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            return DirectoryImport(stream, **options).run()
    except UnicodeDecodeError:
        raise DirectoryFileError("le fichier n'est pas encodé en UTF-8") from None
