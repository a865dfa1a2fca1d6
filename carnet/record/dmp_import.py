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
* Standard XDS metadata is kept from any archive: class, format, practice setting, facility type, event codes,
  comments, the service stop time, and XDS Folders (with their documents). A Carnet export (decision 0012) also
  carries ``urn:carnet:*`` slots, read only when present: the document's source (instead of "migration"), the
  author kind, file name, deposit time (its creationTime), version, archived flag, the submission set it was filed
  in, the holder's read and pin marks, and which folders are the holder's own. Masking is then taken as written
  (not from the holder's default), and a missing serviceStartTime stays a missing act date.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from carnet.identity.actions.enrolment import is_opposed
from carnet.identity.enums import SpaceStatus
from carnet.identity.models import Person
from carnet.interop import cda, terminology, xdm
from carnet.interop.errors import MESSAGES as FORMAT_REFUSALS
from carnet.interop.formats import SNIFF_BYTES, UnsupportedFormat, sniff
from carnet.interop.ins import BAD_KEY, MALFORMED, MISSING, accepts_test_ins, check_ins
from carnet.interop.xdm import (
    DocumentEntry,
    ExtractedDocument,
    FolderEntry,
    XdmArchive,
    XdmArchiveError,
    XdmEntryError,
    open_archive,
    parse_dtm,
)
from carnet.vault import services as vault

from . import actions
from .enums import AuthorKind, DocumentSource, DocumentStatus
from .errors import RecordError
from .models import Document, DocumentMark, Folder, SubmissionSet, XdsFolder

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
    folders: dict[tuple[str, str], Folder | XdsFolder] = field(default_factory=dict)  # (subset, uniqueId) -> stored


def import_dmp(path: str | Path, *, on_outcome: Callable[[EntryOutcome], None] | None = None) -> DmpImportReport:
    """Import every document entry of an XDM archive (see the module docstring). Raises DmpArchiveError for an
    unreadable archive; any other exception is a crash, after which re-running the same archive is safe."""
    report = DmpImportReport(str(path))
    try:
        with open_archive(path, max_document_bytes=settings.CARNET_MAX_DOCUMENT_BYTES) as archive:
            run = _Run(archive)
            for folder in archive.folders:
                _import_folder(run, _with_patient(folder, archive.entries))
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
            stored = _store(run, person, entry, extracted, kind)
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


def _with_patient(folder: FolderEntry, entries: list[DocumentEntry]) -> FolderEntry:
    """A folder without its own patientId belongs to the patient of its first document."""
    if folder.patient_number:
        return folder
    member = next((e for e in entries if e.subset == folder.subset and folder.unique_id in e.folders), None)
    if member is None:
        return folder
    return dataclasses.replace(folder, patient_number=member.patient_number, patient_oid=member.patient_oid)


def _import_folder(run: _Run, entry: FolderEntry) -> None:
    """An XDS Folder of the archive, found by its uniqueId (or, for the holder's own, by its name) or created, before
    its documents; a folder whose patient is refused is left out (its documents are refused too)."""
    try:
        person = _person_for(run, entry)
    except _Refused:
        return
    created = _aware_time(parse_dtm(entry.carnet.get(xdm.SLOT_CREATED))) or timezone.now()
    if entry.carnet.get(xdm.SLOT_HOLDER_FOLDER) == "true":
        model: type[Folder] | type[XdsFolder] = Folder
        key = {"name": " ".join((entry.title or "").split())[:50] or entry.unique_id[-50:]}
        defaults: dict = {"created_at": created}
    else:
        model, key = XdsFolder, {"unique_id": entry.unique_id}
        version = entry.carnet.get(xdm.SLOT_VERSION, "")
        defaults = {
            "title": (entry.title or "")[:255], "created_at": created,
            "updated_at": _aware_time(entry.last_update_time) or created,
            "codes": [{"system": c.scheme or "", "code": c.code, "display": c.display or ""} for c in entry.codes],
            "author_identifier": entry.carnet.get(xdm.SLOT_AUTHOR, "")[:64],
            "version": int(version) if version.isdigit() else 1}
    try:
        with transaction.atomic():
            stored, _made = model.objects.get_or_create(person=person, **key, defaults=defaults)
    except IntegrityError:  # made meanwhile by a concurrent run
        stored = model.objects.get(person=person, **key)
    run.folders[(entry.subset, entry.unique_id)] = stored


def _aware_time(value: dt.datetime | dt.date | None) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value, dt.time(12)))


def _notify(run: _Run) -> None:
    """One notice per person for the whole run (not one per document): that documents arrived, never what."""
    for person, count in run.filed.values():
        actions.notify_documents_added(person, count)


def _type_scheme(entry: DocumentEntry) -> str | None:
    """The coding scheme to check the type against, when the entry names one."""
    return entry.type.scheme if entry.type and entry.type.scheme else None


def _person_for(run: _Run, entry: DocumentEntry | FolderEntry) -> Person:
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
        if ins is not None and not _same_ins(ins.root, ins.extension, entry):
            raise _Refused("patient_mismatch")
    return kind


def _same_ins(root: str | None, extension: str | None, entry: DocumentEntry) -> bool:
    """A CDA's own INS names the metadata's person: the same NIR, under the same OID or another INS (not NIA) OID
    accepted here. The export writes the production OID, while a CDA filed in a test space carries the test one."""
    if (extension or "").strip().upper() != (entry.patient_number or "").upper():
        return False
    if root == entry.patient_oid:
        return True
    check = check_ins(root, extension)
    return check.problem != MISSING and not check.nia and (not check.test or accepts_test_ins())


def _author(entry: DocumentEntry, kind: str) -> actions.Author | None:
    """From the metadata's authorPerson (RPPS when "8" + RPPS), else its institution; a CDA without author
    metadata keeps its header's first author (add_document reads it). A Carnet export names the author's kind."""
    slots = entry.carnet
    author_kind = slots.get(xdm.SLOT_AUTHOR_KIND)
    if author_kind in AuthorKind.values:
        first = entry.authors[0] if entry.authors else xdm.XdmAuthor()
        label = first.institution if author_kind == AuthorKind.ORGANISATION else first.name
        return actions.Author(author_kind, slots.get(xdm.SLOT_AUTHOR_LABEL, label or first.institution or first.name
                                                     or ""), slots.get(xdm.SLOT_AUTHOR_ID, first.rpps or ""))
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


def _submission_set(person: Person, entry: DocumentEntry) -> SubmissionSet | None:
    """The submission set a Carnet export says the document was filed in (found by uniqueId, or made again)."""
    slots = {name[len(xdm.SLOT_SUBMISSION):]: value for name, value in entry.carnet.items()
             if name.startswith(xdm.SLOT_SUBMISSION)}
    if not slots.get("uniqueId"):
        return None
    found, _made = SubmissionSet.objects.get_or_create(person=person, unique_id=slots["uniqueId"][:128], defaults={
        "source_id": slots.get("sourceId", "")[:128], "title": slots.get("title", "")[:255],
        "author_identifier": slots.get("author", "")[:64],
        "submitted_at": _aware_time(parse_dtm(slots.get("submissionTime"))) or timezone.now()})
    return found


def _reference_id(value: str) -> dict[str, str]:
    """A referenceIdList CXi back to a FHIR identifier (an ISO authority is an OID)."""
    parts = value.split("^")
    authority = parts[3].split("&") if len(parts) > 3 else []
    system = authority[1] if len(authority) > 1 else ""
    if system and len(authority) > 2 and authority[2] == "ISO":
        system = f"urn:oid:{system}"
    return {"system": system, "value": parts[0]}


def _xds_details(entry: DocumentEntry) -> dict | None:
    """``details["xds"]``: comments and the service stop time from any archive; from a Carnet export, also what the
    sender declared (its ``xds`` slot names which): authors, organisations, labels, languages, related ids, the
    source patient's INS OID."""
    out: dict = {}
    declared = set(entry.carnet.get(xdm.SLOT_XDS, "").split())
    if "authors" in declared:
        out["authors"] = [{"given": a.given or "", "family": a.family or "", "rpps": a.rpps or "", "role": a.role or ""}
                          for a in entry.authors if a.name or a.rpps]
    if "related" in declared:
        out["related"] = [_reference_id(v) for v in entry.reference_ids]
    if "security_labels" in declared:
        out["security_labels"] = [c.code for c in entry.confidentiality]
    if "languages" in declared:
        out["languages"] = [entry.language] if entry.language else []
    if "organisations" in declared:
        out["organisations"] = [a.institution for a in entry.authors if a.institution]
    if "source_patient" in declared and entry.source_patient_id:
        out["source_patient"] = {"ins_oid": xdm.parse_cx(entry.source_patient_id)[1] or ""}
    if entry.comments:
        out["comment"] = entry.comments[:1000]
    if entry.service_stop_time:
        out["period_end"] = (_aware_time(entry.service_stop_time) or timezone.now()).isoformat()
    return out or None


def _store(run: _Run, person: Person, entry: DocumentEntry, extracted: ExtractedDocument, kind: str) -> Document:
    """One document, its folders, submission set and marks in one transaction: all of it, or nothing."""
    codes = {(c.scheme, c.code) for c in entry.confidentiality}
    replaced = None
    if entry.replaces_unique_id:
        replaced = Document.objects.of(person).filter(unique_id=entry.replaces_unique_id).first()
    assert entry.type is not None  # checked by the caller
    slots = entry.carnet
    source = slots.get(xdm.SLOT_SOURCE)
    ours = source in DocumentSource.values  # a Carnet export: its slots say what XDS cannot
    masked = (CONFIDENTIALITY_DMP, "MASQUE_PS") in codes
    folders = [run.folders[(entry.subset, u)] for u in entry.folders if (entry.subset, u) in run.folders]
    with vault.atomic():
        document = actions.add_document(
            None, person, content=extracted, filename=slots.get(xdm.SLOT_FILE_NAME, "") if ours else extracted.name,
            title=entry.title or "", type_code=entry.type.code,
            act_date=_aware_time(entry.service_start_time) if ours else _act_date(entry),
            source=source if source and ours else DocumentSource.MIGRATION, author=_author(entry, kind),
            masked=masked if ours else (True if masked else None),
            hidden_from_representatives=(CONFIDENTIALITY_DMP, "INVISIBLE_REPRESENTANTS_LEGAUX") in codes,
            invisible_to_holder=(CONFIDENTIALITY_DMP, "INVISIBLE_PATIENT") in codes,
            replaces=replaced, unique_id=entry.unique_id, notify=False,
            class_code=entry.document_class.code[:32] if entry.document_class else "",
            format_code=entry.format.code[:128] if entry.format else "",
            practice_setting_code=entry.practice_setting.code if entry.practice_setting else "",
            facility_type_code=entry.facility_type.code if entry.facility_type else "",
            event_codes=[{"system": c.scheme or "", "code": c.code, "display": c.display or ""}
                         for c in entry.event_codes],
            folder=next((f for f in folders if isinstance(f, Folder)), None),
            submission_set=_submission_set(person, entry) if ours else None, xds=_xds_details(entry),
            archived=slots.get(xdm.SLOT_ARCHIVED) == "true", within=True,
        )
        xds_folders = [f for f in folders if isinstance(f, XdsFolder)]
        for folder in xds_folders:
            folder.documents.add(document)
        if ours:
            _restore(person, entry, document)
    return document


def _restore(person: Person, entry: DocumentEntry, document: Document) -> None:
    """What a Carnet export carries beyond add_document's arguments: deposit time, version, the holder as author,
    whose mask it is, the holder's read and pin marks."""
    slots = entry.carnet
    changes: dict = {}
    created = _aware_time(entry.creation_time)
    if created is not None:
        changes["created_at"] = created
    if entry.version and entry.version.isdigit():
        changes["version"] = int(entry.version)
    # The mask and whose it is, as exported: the importing holder's default for new documents does not apply.
    masked = (CONFIDENTIALITY_DMP, "MASQUE_PS") in {(c.scheme, c.code) for c in entry.confidentiality}
    masked_by_holder = masked and slots.get(xdm.SLOT_MASKED_BY_HOLDER) == "true"
    if (masked, masked_by_holder) != (document.masked_to_professionals, document.masked_by_holder):
        changes["masked_to_professionals"], changes["masked_by_holder"] = masked, masked_by_holder
    if entry.deprecated and document.status == DocumentStatus.CURRENT:  # superseded without a replacement (PDSm)
        changes["status"] = DocumentStatus.SUPERSEDED
    author = entry.authors[0] if entry.authors else None
    if author is not None and author.person_id == person.nir and check_ins(author.person_id_oid, author.person_id).nir:
        changes["author_person"] = person  # the holder as author, named by their INS
    if changes:
        Document.objects.filter(pk=document.pk).update(**changes)
    read_at = _aware_time(parse_dtm(slots.get(xdm.SLOT_READ_TIME)))
    pinned = slots.get(xdm.SLOT_PINNED) == "true"
    if read_at or pinned:
        DocumentMark.objects.update_or_create(person=person, document=document, reader=person,
                                              defaults={"read_at": read_at, "pinned": pinned})
