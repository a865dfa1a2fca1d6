"""The habilitation matrix (*matrice d'habilitation*): which professions may read which document types.

The rules are the annex of the arrêté du 26 octobre 2023; Carnet keeps them as data, not code:
``data/habilitation_matrix.csv`` (one line per profession x document type: Y, N or ?) and
``data/habilitation_sources.json`` (the professions and every source a cell cites). The operator replaces either
file through ``CARNET_HABILITATION_FILE`` / ``CARNET_HABILITATION_SOURCES_FILE`` (setting or environment
variable) and restarts; the files are loaded once, validated at start (``SharingConfig.ready``), and a broken
file stops the start with the line at fault.

An unknown cell (``?``), a pair missing from the file and a profession missing from the file are all denied:
the matrix only ever narrows access (docs/decisions/0007-habilitation-matrix.md). These are pure functions of the
files; the policy function asks ``may_read`` and adds everything else (authorisation, blocks, masking...).
"""

from __future__ import annotations

import csv
import json
import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from carnet.interop.terminology import DOCUMENT_TYPES, DocumentType, document_type

logger = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_MATRIX_FILE = DATA / "habilitation_matrix.csv"
SOURCES_FILE_NAME = "habilitation_sources.json"
COLUMNS = ("profession", "type_code", "type_label", "access", "source", "note")
REQUIRED_COLUMNS = ("profession", "type_code", "access", "source")
ALLOWED, DENIED, UNKNOWN = "Y", "N", "?"
ACCESS_VALUES = (ALLOWED, DENIED, UNKNOWN)
PROFESSION_STATUSES = ("rule", "partial", "none", "unidentified")
MAX_REPORTED_ERRORS = 20


class HabilitationFileError(ImproperlyConfigured):
    """The operator's matrix (or its sources file) is malformed: every problem found, each with its line."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        shown = problems[:MAX_REPORTED_ERRORS]
        more = len(problems) - len(shown)
        text = "\n".join(f"  {p}" for p in shown) + (f"\n  ... and {more} more" if more > 0 else "")
        super().__init__(f"Invalid habilitation matrix {path}:\n{text}")


class Cell(NamedTuple):
    """One cell: the access value (Y, N or ?) and the source key(s) it rests on ('a', 'e+f', '' for none)."""

    access: str
    source: str


@dataclass(frozen=True)
class Profession:
    """A row of the annex: a TRE_G15 profession, or a social/medico-social role with a local code."""

    code: str
    label: str
    annex_row: int
    tre_g15: str | None
    status: str  # rule | partial | none | unidentified (how much of the row is verified)
    note: str = ""

    @property
    def identified(self) -> bool:
        return self.status != "unidentified"


@dataclass(frozen=True)
class Source:
    key: str
    short: str
    title: str
    url: str
    published: str
    consulted: str
    says: str


@dataclass(frozen=True)
class Matrix:
    path: Path
    sources_path: Path
    professions: dict[str, Profession]
    sources: dict[str, Source]
    cells: dict[tuple[str, str], Cell]
    notes: dict[tuple[str, str], str]

    def cell(self, profession_code: str, type_code: str) -> Cell:
        return self.cells.get((profession_code, type_code), Cell(UNKNOWN, ""))

    def may_read(self, profession_code: str, type_code: str) -> bool:
        return self.cell(profession_code, type_code).access == ALLOWED


# ----------------------------------------------------------------------------------------------------------------
# Loading and validation


def configured_paths() -> tuple[Path, Path]:
    """The matrix file and its sources file: settings first, then the environment, then the shipped files."""
    matrix_file = getattr(settings, "CARNET_HABILITATION_FILE", "") or os.environ.get("CARNET_HABILITATION_FILE", "")
    path = Path(matrix_file) if matrix_file else DEFAULT_MATRIX_FILE
    sources_file = (getattr(settings, "CARNET_HABILITATION_SOURCES_FILE", "")
                    or os.environ.get("CARNET_HABILITATION_SOURCES_FILE", ""))
    return path, Path(sources_file) if sources_file else path.with_name(SOURCES_FILE_NAME)


def load(path: Path, sources_path: Path | None = None) -> Matrix:
    """Read and validate a matrix file (and its sources file, by default the sibling habilitation_sources.json).

    Raises HabilitationFileError listing every problem with its line number."""
    path = Path(path)
    sources_path = Path(sources_path) if sources_path else path.with_name(SOURCES_FILE_NAME)
    professions, sources = _load_sources(sources_path)
    cells, notes = _load_cells(path, professions, sources)
    missing_types = [t.code for t in DOCUMENT_TYPES if not any((p, t.code) in cells for p in professions)]
    if missing_types:
        logger.warning("Habilitation matrix %s has no line for %d JDV_J07 type(s), denied to every profession: %s",
                       path, len(missing_types), ", ".join(missing_types))
    return Matrix(path, sources_path, professions, sources, cells, notes)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # spreadsheets often add a byte-order mark
    except FileNotFoundError:
        raise HabilitationFileError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HabilitationFileError(path, [f"cannot be read as UTF-8 text: {exc}"]) from None


def _load_sources(path: Path) -> tuple[dict[str, Profession], dict[str, Source]]:
    try:
        data: Any = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise HabilitationFileError(path, [f"line {exc.lineno}: invalid JSON: {exc.msg}"]) from None
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("professions"), list) \
            or not isinstance(data.get("sources"), dict):
        raise HabilitationFileError(path, ['expected an object with a "professions" list and a "sources" object'])
    sources: dict[str, Source] = {}
    for key, entry in data["sources"].items():
        if not isinstance(entry, dict) or not str(entry.get("title", "")).strip():
            problems.append(f'source "{key}": needs at least a "title"')
            continue
        if "+" in key or not key.strip():
            problems.append(f'source "{key}": a key cannot be empty or contain "+"')
            continue
        sources[key] = Source(key, str(entry.get("short") or entry["title"]), str(entry["title"]),
                              str(entry.get("url") or ""), str(entry.get("published") or ""),
                              str(entry.get("consulted") or ""), str(entry.get("says") or ""))
    professions: dict[str, Profession] = {}
    for index, entry in enumerate(data["professions"], start=1):
        where = f"profession #{index}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected an object")
            continue
        code, label = str(entry.get("code") or "").strip(), str(entry.get("label") or "").strip()
        if not code or not label:
            problems.append(f'{where}: needs a "code" and a "label"')
            continue
        if code in professions:
            problems.append(f'{where}: duplicate profession code "{code}"')
            continue
        status = entry.get("status", "none")
        if status not in PROFESSION_STATUSES:
            problems.append(f'{where} ("{code}"): status must be one of {", ".join(PROFESSION_STATUSES)}')
            continue
        unknown = [k for k in entry.get("confirmed_by", []) if k not in sources]
        if unknown:
            problems.append(f'{where} ("{code}"): unknown source key(s) {", ".join(unknown)}')
        professions[code] = Profession(code, label, int(entry.get("annex_row") or index), entry.get("tre_g15"),
                                       status, str(entry.get("note") or ""))
    if problems:
        raise HabilitationFileError(path, problems)
    return professions, sources


def _load_cells(path: Path, professions: dict[str, Profession], sources: dict[str, Source]
                ) -> tuple[dict[tuple[str, str], Cell], dict[tuple[str, str], str]]:
    # Comment lines become blank lines, so the csv reader's line numbers stay those of the file.
    lines = ["" if line.lstrip().startswith("#") else line for line in _read_text(path).splitlines()]
    reader = csv.reader(lines)
    problems: list[str] = []
    header: list[str] | None = None
    cells: dict[tuple[str, str], Cell] = {}
    notes: dict[tuple[str, str], str] = {}
    first_seen: dict[tuple[str, str], int] = {}
    for row in reader:
        if not any(field.strip() for field in row):
            continue
        line = reader.line_num
        if header is None:
            header = [field.strip() for field in row]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            unknown = [c for c in header if c not in COLUMNS]
            if missing or unknown or len(set(header)) != len(header):
                raise HabilitationFileError(path, [
                    f"line {line}: header must be {','.join(COLUMNS)} (missing: {', '.join(missing) or '-'}; "
                    f"unknown: {', '.join(unknown) or '-'})"])
            continue
        if len(row) != len(header):
            problems.append(f"line {line}: {len(row)} fields, expected {len(header)}")
            continue
        fields = {name: value.strip() for name, value in zip(header, row, strict=True)}
        profession, type_code = fields["profession"], fields["type_code"]
        access, source = fields["access"].upper(), fields["source"]
        line_problems = []
        if profession not in professions:
            line_problems.append(f'unknown profession code "{profession}" (not in {SOURCES_FILE_NAME})')
        if document_type(type_code) is None:
            line_problems.append(f'unknown document type code "{type_code}" (not in JDV_J07)')
        if access not in ACCESS_VALUES:
            line_problems.append(f'bad access value "{fields["access"]}" (expected Y, N or ?)')
        keys = [k.strip() for k in source.split("+")] if source else []
        unknown_keys = [k for k in keys if k not in sources]
        if unknown_keys:
            line_problems.append(f'unknown source key(s) {", ".join(unknown_keys)} (not in {SOURCES_FILE_NAME})')
        if access in (ALLOWED, DENIED) and not keys:
            line_problems.append(f"a {access} cell needs a source key (write ? when no source states it)")
        key = (profession, type_code)
        if key in first_seen:
            line_problems.append(f"duplicate cell {profession} x {type_code} (first on line {first_seen[key]})")
        if line_problems:
            problems.extend(f"line {line}: {p}" for p in line_problems)
            continue
        first_seen[key] = line
        cells[key] = Cell(access, "+".join(keys))
        if fields.get("note"):
            notes[key] = fields["note"]
    if header is None:
        problems.append("no header line and no cell")
    if problems:
        raise HabilitationFileError(path, problems)
    return cells, notes


@cache
def matrix() -> Matrix:
    """The configured matrix, loaded and validated once per process."""
    return load(*configured_paths())


def reload() -> Matrix:
    """Forget the loaded matrix and read the configured files again (tests, or after an operator's change)."""
    matrix.cache_clear()
    return matrix()


# ----------------------------------------------------------------------------------------------------------------
# Questions


def may_read(profession_code: str, type_code: str) -> bool:
    """Does the matrix let this profession read this document type? Only a Y cell says yes: N, ? (unknown), a
    missing cell and an unknown profession all say no."""
    return matrix().may_read(profession_code, type_code)


def cell(profession_code: str, type_code: str) -> Cell:
    """The cell as the file states it: (Y|N|?, source keys). ('?', '') for a pair the file does not have."""
    return matrix().cell(profession_code, type_code)


def readable_types(profession_code: str) -> list[DocumentType]:
    """The JDV_J07 types this profession may read, in JDV_J07 order."""
    m = matrix()
    return [t for t in DOCUMENT_TYPES if m.may_read(profession_code, t.code)]


def professions() -> list[tuple[str, str]]:
    """(code, label) of every profession of the matrix, in the order of the annex."""
    return [(p.code, p.label) for p in sorted(matrix().professions.values(), key=lambda p: p.annex_row)]


def profession(code: str) -> Profession | None:
    return matrix().professions.get(code)


def sources() -> dict[str, Source]:
    return matrix().sources
