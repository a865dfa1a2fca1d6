"""DMP migration: file the documents of an old-DMP export (IHE XDM media) into the spaces of their holders.

Each document entry is matched to a person by its INS, checked (metadata, bytes against the declared hash and size,
declared mimeType against the content, a CDA's own INS against the metadata, then the full format checks of
``interop.formats`` inside ``add_document``), and stored through ``record.actions.add_document`` with
source "migration" and its XDS uniqueId. Rules (docs/decisions/0009-dmp-migration.md):

* Idempotent and resumable: the uniqueId per person is the natural key (a unique constraint backs it). A document
  already there is skipped before its bytes are even read; each document is its own transaction, so a crash loses
  at most the document in flight, and re-running the same archive completes it without duplicates.
* Spaces not yet active (NOTIFIED, CREATED) receive their documents now: nobody can read a space that is not active
  (``sharing.policy``), so they appear at activation, as the law says for pre-2021 DMP content. If the person then
  opposes, the opposition deletes the person and everything attached (decision 0004), the documents included.
* Opposed NIRs (an ``Opposition`` proof exists) get nothing: their entries are refused as "opposed" without reading
  the bytes. Unknown INS, invalid INS (bad control key), test INS where they are not accepted, closed spaces: refused.
* The report names each entry by subset, uniqueId and type code, with an outcome and a reason code: never a title,
  a name or any content.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from carnet.identity.actions.enrolment import is_opposed
from carnet.identity.enums import SpaceStatus
from carnet.identity.models import Person
from carnet.interop import cda, terminology
from carnet.interop.errors import MESSAGES as FORMAT_REFUSALS
from carnet.interop.formats import SNIFF_BYTES, UnsupportedFormat, sniff
from carnet.interop.ins import BAD_KEY, MALFORMED, accepts_test_ins, check_ins
from carnet.interop.xdm import (
    DocumentEntry,
    ExtractedDocument,
    XdmArchive,
    XdmArchiveError,
    XdmEntryError,
    open_archive,
)

from . import actions
from .enums import AuthorKind, DocumentSource
from .errors import RecordError
from .models import Document

logger = logging.getLogger(__name__)

IMPORTED = "imported"
PENDING = "imported_pending_activation"  # stored; the holder sees it once the space is activated
ALREADY_PRESENT = "already_present"
REFUSED = "refused"

OPEN_FOR_MIGRATION = {SpaceStatus.NOTIFIED, SpaceStatus.CREATED, SpaceStatus.ACTIVE}
# Declared mimeType -> the kinds our content check may find for it.
MIME_KINDS = {
    "application/pdf": {"pdf"}, "text/xml": {"cda"}, "application/xml": {"cda"}, "application/hl7-v3+xml": {"cda"},
    "application/hl7-cda+xml": {"cda"}, "image/jpeg": {"jpeg"}, "image/png": {"png"}, "text/plain": {"text"},
    "application/dicom": {"dicom"}, "application/zip": {"dicom-zip"},
}
CONFIDENTIALITY_DMP = "1.2.250.1.213.1.1.4.13"

REASONS = {  # French, for the report and the command (no content, no names)
    "opposed": "opposition à la création de l'espace : rien n'est importé",
    "unknown_ins": "aucun espace pour cet INS",
    "ins_missing": "pas d'INS (patientId sans OID INS)",
    "ins_invalid": "INS invalide (clé de contrôle ou format)",
    "ins_nia": "INS de type NIA : non géré par la migration",
    "test_ins": "INS de test refusé ici (CARNET_ACCEPT_TEST_INS)",
    "space_closed": "espace clôturé ou supprimé",
    "unknown_type": "type de document hors de la liste des types (JDV_J07)",
    "missing_file": "fichier du document absent de l'archive",
    "bad_uri": "URI du document dangereuse (chemin absolu, « .. » ou schéma)",
    "size_mismatch": "taille différente de celle des métadonnées",
    "hash_mismatch": "empreinte (hash) différente de celle des métadonnées",
    "too_large": "document trop volumineux",
    "zip_bomb": "entrée de l'archive anormalement compressée",
    "zip_invalid": "entrée de l'archive endommagée",
    "mime_mismatch": "contenu différent du type MIME déclaré",
    "patient_mismatch": "l'INS du document CDA n'est pas celui des métadonnées",
}


@dataclass(frozen=True)
class EntryOutcome:
    subset: str
    entry_id: str
    unique_id: str
    type_code: str
    outcome: str
    reason: str = ""

    @property
    def reason_text(self) -> str:
        if self.reason.startswith("format:"):
            return "format refusé : " + self.reason.split(":", 1)[1]
        if self.reason.startswith("metadata:"):
            return "métadonnée manquante ou invalide : " + self.reason.split(":", 1)[1]
        if self.reason.startswith("record:"):
            return "refusé à l'enregistrement : " + self.reason.split(":", 1)[1]
        return REASONS.get(self.reason, self.reason)


@dataclass
class DmpImportReport:
    archive: str
    outcomes: list[EntryOutcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def refused(self) -> list[EntryOutcome]:
        return [o for o in self.outcomes if o.outcome == REFUSED]

    def summary(self) -> str:
        return (f"{len(self.outcomes)} document(s) dans l'archive : {self.count(IMPORTED)} importé(s), "
                f"{self.count(PENDING)} importé(s) en attente d'activation de l'espace, "
                f"{self.count(ALREADY_PRESENT)} déjà présent(s), {self.count(REFUSED)} refusé(s)")

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["subset", "entry_id", "unique_id", "type_code", "outcome", "reason", "reason_text"])
        for o in self.outcomes:
            writer.writerow([o.subset, o.entry_id, o.unique_id, o.type_code, o.outcome, o.reason, o.reason_text])
        return out.getvalue()


class DmpArchiveError(Exception):
    """The archive cannot be read at all: nothing was imported."""

    def __init__(self, error: XdmArchiveError):
        self.code = error.code
        self.message = error.message
        super().__init__(error.code)


class _Refused(Exception):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass
class _Run:
    archive: XdmArchive
    persons: dict[str, tuple[Person | None, str]] = field(default_factory=dict)  # nir -> (person, refusal)
    filed: dict[int, tuple[Person, int]] = field(default_factory=dict)  # person pk -> (person, documents filed)


def import_dmp(path: str | Path, *, on_outcome: Callable[[EntryOutcome], None] | None = None) -> DmpImportReport:
    """Import every document entry of an XDM archive (see the module docstring). Raises DmpArchiveError for an
    unreadable archive; any other exception is a crash, after which re-running the same archive is safe."""
    report = DmpImportReport(str(path))
    try:
        with open_archive(path, max_document_bytes=settings.CARNET_MAX_DOCUMENT_BYTES) as archive:
            run = _Run(archive)
            for entry in _in_replacement_order(archive.entries):
                outcome = _import_entry(run, entry)
                report.outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
            _notify(run)
    except XdmArchiveError as error:
        raise DmpArchiveError(error) from None
    logger.info("DMP import: %s", report.summary())
    return report


def _in_replacement_order(entries: list[DocumentEntry]) -> list[DocumentEntry]:
    """A replaced document before the one that replaces it (stable otherwise), so the RPLC link can be made."""
    by_id = {(e.subset, e.entry_id): e for e in entries}

    def depth(entry: DocumentEntry) -> int:
        seen, current, level = set(), entry, 0
        while current.replaces_entry_id and (current.subset, current.replaces_entry_id) in by_id:
            if current.entry_id in seen:
                break
            seen.add(current.entry_id)
            current = by_id[(current.subset, current.replaces_entry_id)]
            level += 1
        return level

    return sorted(entries, key=depth)


def _import_entry(run: _Run, entry: DocumentEntry) -> EntryOutcome:
    type_code = entry.type.code if entry.type else ""

    def outcome(result: str, reason: str = "") -> EntryOutcome:
        return EntryOutcome(entry.subset, entry.entry_id, entry.unique_id, type_code, result, reason)

    try:
        person = _person_for(run, entry)  # first: an opposed person's entries are refused as such, unread
        if entry.problem:
            raise _Refused(entry.problem)
        if Document.objects.of(person).filter(unique_id=entry.unique_id).exists():
            return outcome(ALREADY_PRESENT)
        if entry.type is None or terminology.document_type(entry.type.code, _type_scheme(entry)) is None:
            raise _Refused("unknown_type")
        with run.archive.extract(entry) as extracted:
            kind = _check_content(entry, extracted.path)
            stored = _store(person, entry, extracted, kind)
            if not stored.invisible_to_holder:  # a result held for an announcement consultation is not announced
                run.filed[person.pk] = (person, run.filed.get(person.pk, (person, 0))[1] + 1)
    except _Refused as refusal:
        return outcome(REFUSED, refusal.reason)
    except XdmEntryError as error:
        return outcome(REFUSED, error.code)
    except RecordError as error:  # add_document's own checks: the format ones keep their code
        prefix = "format" if error.code in FORMAT_REFUSALS else "record"
        return outcome(REFUSED, f"{prefix}:{error.code or 'invalid'}")
    except IntegrityError:  # the same uniqueId stored meanwhile (a concurrent run): it is there
        return outcome(ALREADY_PRESENT)
    return outcome(IMPORTED if person.status == SpaceStatus.ACTIVE else PENDING)


def _notify(run: _Run) -> None:
    """One notice per person for the whole run (not one per document): that documents arrived, never what."""
    for person, count in run.filed.values():
        actions.notify_documents_added(person, count)


def _type_scheme(entry: DocumentEntry) -> str | None:
    """The coding scheme to check the type against, when the entry names one."""
    return entry.type.scheme if entry.type and entry.type.scheme else None


def _person_for(run: _Run, entry: DocumentEntry) -> Person:
    check = check_ins(entry.patient_oid, entry.patient_number)
    if check.problem in (BAD_KEY, MALFORMED):
        raise _Refused("ins_invalid")
    if check.problem:
        raise _Refused("ins_missing")
    if check.nia:
        raise _Refused("ins_nia")
    if check.test and not accepts_test_ins():
        raise _Refused("test_ins")
    nir = check.nir or ""
    if nir not in run.persons:
        run.persons[nir] = _find_person(nir)
    person, refusal = run.persons[nir]
    if person is None:
        raise _Refused(refusal)
    return person


def _find_person(nir: str) -> tuple[Person | None, str]:
    if is_opposed(nir):
        return None, "opposed"
    person = Person.objects.filter(nir=nir).first()
    if person is None:
        return None, "unknown_ins"
    if person.status not in OPEN_FOR_MIGRATION:
        return None, "space_closed"
    return person, ""


def _check_content(entry: DocumentEntry, path: str) -> str:
    """Before anything is stored: the kind the bytes announce matches the declared mimeType, and a CDA's own INS is
    the metadata's (identity vigilance: never file a document under someone else's INS). The full format checks
    (``interop.formats``: PDF active content, XML bombs, attachments...) run in ``add_document``, whose refusal is
    reported as ``format:<code>``."""
    with open(path, "rb") as fh:
        kind = sniff(fh.read(SNIFF_BYTES))
    if entry.mime_type and kind not in MIME_KINDS.get(entry.mime_type, set()):
        raise _Refused("mime_mismatch")
    if kind == "cda":
        try:
            header = cda.read_header(path)
        except UnsupportedFormat as refusal:
            raise _Refused(f"format:{refusal.code}") from None
        ins = header.ins
        if ins is not None and (ins.root, (ins.extension or "").upper()) != (
                entry.patient_oid, (entry.patient_number or "").upper()):
            raise _Refused("patient_mismatch")
    return kind


def _author(entry: DocumentEntry, kind: str) -> actions.Author | None:
    """From the metadata's authorPerson (RPPS when "8" + RPPS), else its institution; a CDA without author
    metadata keeps its header's first author (add_document reads it)."""
    for author in entry.authors:
        if author.name or author.rpps:
            return actions.Author(AuthorKind.PROFESSIONAL, author.name or author.institution or "", author.rpps or "")
    for author in entry.authors:
        if author.institution:
            return actions.Author(AuthorKind.ORGANISATION, author.institution)
    return None if kind == "cda" else actions.Author(AuthorKind.ORGANISATION, "")


def _act_date(entry: DocumentEntry) -> dt.datetime | None:
    value = entry.act_time
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        return timezone.make_aware(dt.datetime.combine(value, dt.time(12)))
    return value


def _store(person: Person, entry: DocumentEntry, extracted: ExtractedDocument, kind: str) -> Document:
    codes = {(c.scheme, c.code) for c in entry.confidentiality}
    replaced = None
    if entry.replaces_unique_id:
        replaced = Document.objects.of(person).filter(unique_id=entry.replaces_unique_id).first()
    assert entry.type is not None  # checked by the caller
    return actions.add_document(
        None, person, content=extracted, filename=extracted.name, title=entry.title or "",
        type_code=entry.type.code, act_date=_act_date(entry), source=DocumentSource.MIGRATION,
        author=_author(entry, kind),
        masked=True if (CONFIDENTIALITY_DMP, "MASQUE_PS") in codes else None,
        hidden_from_representatives=(CONFIDENTIALITY_DMP, "INVISIBLE_REPRESENTANTS_LEGAUX") in codes,
        invisible_to_holder=(CONFIDENTIALITY_DMP, "INVISIBLE_PATIENT") in codes,
        replaces=replaced, unique_id=entry.unique_id, notify=False,
    )
