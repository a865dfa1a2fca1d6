"""Every write on documents and folders: one function per use case, atomic, policy first, traced.

A document's blob, its row and its access event are written in one `vault.atomic()` block, so an
upload is stored whole or not at all. Only documents the holder's side deposited may be edited or
deleted by them; anything from a professional, an app or the insurer can only be masked.
"""

import dataclasses
import datetime as dt
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carnet.common.paths import cached_reverse
from carnet.common.rows import Rider
from carnet.interop import cda, dicom, terminology
from carnet.interop.formats import UnsupportedFormat, inspect_bytes, inspect_file
from carnet.notifications import actions as notifications
from carnet.notifications.enums import Kind
from carnet.sharing.events import authorise, chained, record, require
from carnet.sharing.policy import Action, Decision, Role
from carnet.vault import services as vault

from .enums import AuthorKind, DocumentFormat, DocumentSource, DocumentStatus
from .errors import RecordError
from .models import Document, DocumentMark, Folder, RecordSettings, SubmissionSet
from .visibility import visible_documents

SYSTEM = Decision(True, "system", Role.SYSTEM)


@dataclass(frozen=True)
class Author:
    """Who wrote a document when it is not the acting person (a professional, an app, the insurer)."""

    kind: str
    label: str = ""
    identifier: str = ""


def check(actor, action: Action, person, *, subject: str = "") -> Decision:
    """Ask the policy; a denial is recorded (and raised) at once, outside any write transaction."""
    if actor is None:
        return SYSTEM
    return require(actor, action, person, subject=subject)


def trace(person, actor, decision: Decision, action: str, document: Document | None = None) -> None:
    record(person, actor=actor, role=decision.role, action=action,
           subject=_subject(document.uuid) if document else "")


def _subject(document_uuid) -> str:
    return f"document:{document_uuid}"


@contextmanager
def _local_source(content) -> Iterator[str | bytes]:
    """The content as a path on disk (Django's temporary upload file, or a copy streamed to one) when it
    is large, or as bytes when it is small and already in memory (saves a write and a read)."""
    if hasattr(content, "temporary_file_path"):
        yield content.temporary_file_path()
        return
    if isinstance(content, bytes | bytearray):
        yield bytes(content)
        return
    if hasattr(content, "seek"):
        content.seek(0)
    size = getattr(content, "size", None)
    if size is not None and size <= settings.FILE_UPLOAD_MAX_MEMORY_SIZE:
        yield content.read()
        return
    handle = tempfile.NamedTemporaryFile(prefix="carnet-upload-", delete=False)  # noqa: SIM115
    try:
        with handle:
            chunks = content.chunks() if hasattr(content, "chunks") else iter(lambda: content.read(1 << 20), b"")
            for chunk in chunks:
                handle.write(chunk)
        yield handle.name
    finally:
        os.unlink(handle.name)


@contextmanager
def _as_path(source: str | bytes) -> Iterator[str]:
    if isinstance(source, str):
        yield source
        return
    with tempfile.NamedTemporaryFile(prefix="carnet-upload-") as handle:
        handle.write(source)
        handle.flush()
        yield handle.name


_LEAVES = (str, int, float)
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, asked once per class


def _jsonable(value) -> Any:
    """A dataclass tree as JSON-ready values (dates as ISO strings, empty values dropped)."""
    if value is None or isinstance(value, _LEAVES):  # most of a CDA header: returned as they are
        return value
    names = _FIELD_NAMES.get(type(value))
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:  # field by field: asdict deep-copies
        return {name: _jsonable(v) for name in names if (v := getattr(value, name)) is not None and not _empty(v)}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if v not in (None, (), [], "")}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return value


def _empty(value) -> bool:
    return isinstance(value, tuple | list | str) and not value


def _aware(value: dt.datetime | dt.date | None) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(12))
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _inspect(source: str | bytes) -> tuple[Any, dict, Any, bytes | None]:
    """Format check by content, then what the content itself says (CDA header, DICOM study)."""
    size = os.path.getsize(source) if isinstance(source, str) else len(source)
    if size > settings.CARNET_MAX_DOCUMENT_BYTES:
        raise RecordError(_("Ce fichier est trop volumineux."), field="file", code="too_large")
    try:
        inspection = inspect_file(source) if isinstance(source, str) else inspect_bytes(source)
    except UnsupportedFormat as exc:
        raise RecordError(exc.message, field="file", code=exc.code) from None
    details: dict = {}
    header, preview = None, None
    if inspection.kind == DocumentFormat.CDA:
        try:
            header = cda.read_header(source, inspection.tree)  # the format check's parse, when it kept one
        except (UnsupportedFormat, ValueError) as exc:
            raise RecordError(_("Ce document CDA est illisible : %(reason)s") % {"reason": getattr(exc, "message", "")},
                              field="file", code="bad_cda") from None
        details["cda"] = _jsonable(header)
    elif inspection.kind in (DocumentFormat.DICOM, DocumentFormat.DICOM_ZIP):
        with _as_path(source) as path:
            study = dicom.read_study(path)
        preview = study.preview_png
        details["dicom"] = _jsonable(dataclasses.replace(study, preview_png=None))
    return inspection, details, header, preview


def add_document(
    actor, person, *, content, filename: str = "", title: str = "", type_code: str = "",
    act_date: dt.datetime | None = None, folder: Folder | None = None, source: str = DocumentSource.HOLDER,
    author: Author | None = None, masked: bool | None = None, hidden_from_representatives: bool = False,
    invisible_to_holder: bool = False, replaces: Document | None = None, unique_id: str = "",
    notify: bool = True, decision: Decision | None = None, class_code: str = "", format_code: str = "",
    practice_setting_code: str = "", facility_type_code: str = "", event_codes: list[dict] | None = None,
    submission_set: SubmissionSet | None = None, xds: dict | None = None, archived: bool = False,
    within: bool = False, notice: Rider | None = None,
) -> Document:
    """File a document in a person's space. A CDA's own header fills what the caller left empty.

    `notify=False` when the caller sends one notice for a whole batch (an ITI-65 bundle, a DMP import run:
    `notify_documents_added`); `decision` when the caller already asked the policy outside its transaction
    (a denial must be recorded outside it). The XDS keywords are what clinical software declares (IHE MHD):
    a declared class or format code wins over the one derived from the type or the content.

    `within=True` when the caller already holds a `vault.atomic()` block that fails whole (an ITI-65 bundle):
    no savepoint of its own, and no look-up of `unique_id` first; a reused one is the unique constraint's
    IntegrityError, which rolls the caller's block back (two round trips less per document). `vault.store`
    refuses to run outside a `vault.atomic()` block, so a caller cannot forget it. A new (unsaved) `submission_set`
    is inserted with the document, in its statement (`vault.store_with_row`'s parent); so is the holder's `notice`
    bumped (`documents_notice`, with `notify=False`: the caller hands it to `notify_documents_added` afterwards)."""
    if decision is None:
        decision = check(actor, Action.WRITE_RECORD, person)
    if unique_id and not within:
        existing = Document.objects.of(person).filter(unique_id=unique_id).first()
        if existing is not None:
            return existing  # re-sent: idempotent
    with _local_source(content) as data:
        inspection, details, header, preview = _inspect(data)
        if header is not None:
            type_code = type_code or (header.type.code if header.type else "")
            title = title or header.title or ""
            act_date = act_date or _aware(header.effective_time)
            if author is None and header.authors:
                first = header.authors[0]
                label = first.name or (first.organisation.name if first.organisation else "") or first.device or ""
                author = Author(AuthorKind.PROFESSIONAL, label, first.rpps or "")
        doc_type = terminology.document_type(type_code)
        if doc_type is None:
            raise RecordError(_("Choisissez un type de document de la liste."), field="type_code", code="bad_type")
        title = (title or str(doc_type.label)).strip()[:255]
        if folder is not None and folder.person_id != person.pk:
            raise RecordError(_("Ce dossier n'existe pas."), field="folder")
        if replaces is not None and replaces.person_id != person.pk:
            raise RecordError(_("Le document remplacé n'existe pas."), field="replaces")
        if author is None:
            kind = AuthorKind.HOLDER if actor is None or actor.pk == person.pk else AuthorKind.REPRESENTATIVE
            author = Author(kind, actor.full_name if actor else "")
        masking = _masking(person, masked, source, replaces)
        with (nullcontext() if within else vault.atomic()), (
                open(data, "rb") if isinstance(data, str) else nullcontext(data)) as stream:
            preview_blob = vault.store(person, preview) if preview else None
            # The blob row, the document row (40 columns, on every upload) and the access event that traces it in
            # one plain statement; the event's chain head is read (the person locked) before it.
            document_uuid = uuid.uuid4()
            event = chained(person, actor=actor, role=decision.role, action="document.add",
                            subject=_subject(document_uuid))
            document = vault.store_with_row(person, stream, lambda blob: Document(
                uuid=document_uuid, person=person, blob=blob, preview_blob=preview_blob,
                type_code=doc_type.code, type_system=doc_type.system,
                class_code=class_code or _class_code(doc_type.code),
                category=terminology.category_for_type(doc_type.code), title=title, act_date=act_date,
                source=source, author_kind=author.kind, author_label=author.label[:200],
                author_identifier=author.identifier[:64],
                author_person=actor if source == DocumentSource.HOLDER else None,
                format=inspection.kind, mime_type=inspection.mime_type,
                format_code=format_code or _format_code(inspection.kind, header),
                filename=os.path.basename(filename)[:200], size=blob.size, sha256=blob.sha256,
                details={**details, "xds": xds} if xds else details, replaces=replaces, unique_id=unique_id,
                masked_to_professionals=masking[0], masked_by_holder=masking[1],
                hidden_from_representatives=hidden_from_representatives, invisible_to_holder=invisible_to_holder,
                invisible_to_holder_until=(timezone.localdate() + dt.timedelta(
                    days=settings.CARNET_ANNOUNCEMENT_RELEASE_DAYS)) if invisible_to_holder else None,
                folder=folder, practice_setting_code=practice_setting_code[:64],
                facility_type_code=facility_type_code[:64], event_codes=event_codes or [], archived=archived,
                submission_set=submission_set,
            ), parent=(submission_set, "submission_set") if submission_set and submission_set.pk is None else None,
                also=event, rider=notice)
            if replaces is not None:
                Document.objects.filter(pk=replaces.pk).update(status=DocumentStatus.SUPERSEDED)
                document.version = replaces.version + 1
                document.save(update_fields=["version"])
            if notify and (source != DocumentSource.HOLDER or (actor is not None and actor.pk != person.pk
                                                               and hasattr(person, "account"))):
                notify_documents_added(person)
    return document


def notify_documents_added(person, count: int = 1, ran: Rider | None = None) -> None:
    """Tell the holder that documents arrived, never what they are. A burst (a lab sending results one bundle
    at a time, an import) is one notice and one email: while the last one is unread and recent, later documents
    only bump it (`notifications.notify_coalesced`, one UPDATE; `ran`: that UPDATE already rode in a document's
    statement, `documents_notice`)."""
    notifications.notify_coalesced(person, kind=Kind.DOCUMENTS, count=count, url=cached_reverse("portal:documents"),
                                   ran=ran, **_notice_texts())


def documents_notice(person, count: int) -> Rider:
    """The bump of `notify_documents_added` for `count` documents, to ride in the first one's statement
    (`add_document(..., notice=...)`, an ITI-65 bundle: one round trip less), then handed back to it."""
    return notifications.coalesce_rider(person, count=count, **_notice_texts())


def _notice_texts() -> dict[str, str]:
    return {"code": "document_added", "title": _("Un nouveau document est disponible dans votre espace."),
            "more_title": _("De nouveaux documents sont disponibles dans votre espace.")}


def _class_code(type_code: str) -> str:
    found = terminology.class_for_type(type_code)
    return found.code if found else ""


def _format_code(kind: str, header) -> str:
    found = terminology.format_code_for(kind, header)
    return found.code if found else ""


def _masking(person, masked: bool | None, source: str, replaces: Document | None) -> tuple[bool, bool]:
    """(masked to professionals, and is that mask the holder's?) for a new document: the holder's side decides for
    what it deposits (`masked`, else their default); anyone else's document arrives masked if the sender asked
    (the author's mask) or the holder's default says so (the holder's mask). A new version keeps the holder's mask
    on the one it replaces."""
    default = getattr(person, "new_documents_masked", None)  # read with the person by ITI-65 (fhir/publish.py)
    if default is None and (masked is None or source != DocumentSource.HOLDER):
        default = default_masking(person)
    by_holder = bool(default if masked is None else masked) if source == DocumentSource.HOLDER else bool(default)
    if replaces is not None and replaces.masked_by_holder:
        by_holder = True
    return bool(masked) or by_holder, by_holder


def default_masking(person) -> bool:
    """The holder's choice of whether new documents arrive masked to professionals (plain SQL: read on every
    upload, and the ORM took 3 times as long to build the query as the database to answer it)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute('SELECT 1 FROM "record_recordsettings" WHERE "person_id" = %s AND "new_documents_masked" '
                       'LIMIT 1', [person.pk])
        return cursor.fetchone() is not None


def settings_of(person) -> RecordSettings:
    return RecordSettings.objects.filter(person=person).first() or RecordSettings(person=person)


@transaction.atomic
def set_confidentiality_defaults(actor, person, *, new_documents_masked: bool, care_history_masked: bool,
                                 apply_to_existing: bool = False) -> int:
    """Choose how new documents arrive and whether the care history is masked; optionally mask or unmask
    every current document at once. Returns how many documents changed."""
    decision = check(actor, Action.MANAGE_SHARING, person)  # confidentiality is sharing: never a caregiver's
    RecordSettings.objects.update_or_create(person=person, defaults={
        "new_documents_masked": new_documents_masked, "care_history_masked": care_history_masked})
    changed = 0
    if apply_to_existing:  # the holder's mask on all, or lifted from all (an author's own included)
        changed = Document.objects.of(person).exclude(status=DocumentStatus.DELETED).exclude(
            masked_to_professionals=new_documents_masked, masked_by_holder=new_documents_masked).update(
            masked_to_professionals=new_documents_masked, masked_by_holder=new_documents_masked)
    record(person, actor=actor, role=decision.role, action="settings.confidentiality")
    return changed


def open_document(actor, person, document_uuid) -> tuple[Document, Decision]:
    """A document the actor may read, or RecordError 'not found' (same answer when it is hidden)."""
    decision = authorise(actor, Action.READ_RECORD, person, subject=f"document:{document_uuid}")
    document = visible_documents(person, decision.role, include_history=True).filter(uuid=document_uuid).first()
    if document is None:
        raise RecordError(_("Ce document n'existe pas ou n'est plus disponible."), code="not_found")
    return document, decision


def mark(actor, person, document: Document, *, read: bool | None = None, pinned: bool | None = None) -> DocumentMark:
    check(actor, Action.READ_RECORD, person)
    mark_row, _created = DocumentMark.objects.get_or_create(person=person, document=document, reader=actor)
    if read is not None:
        mark_row.read_at = timezone.now() if read else None
    if pinned is not None:
        mark_row.pinned = pinned
    mark_row.save()
    return mark_row


def _own(document: Document) -> None:
    if not document.holder_owned:
        raise RecordError(
            _("Ce document a été déposé par un professionnel ou un service : vous pouvez le masquer, "
              "mais pas le modifier ni le supprimer."), code="not_owner")


@transaction.atomic
def update_document(actor, person, document: Document, *, title: str, type_code: str,
                    act_date: dt.datetime | None) -> Document:
    """Edit the metadata of a document the holder's side deposited."""
    decision = check(actor, Action.WRITE_RECORD, person)
    _own(document)
    doc_type = terminology.document_type(type_code)
    if doc_type is None:
        raise RecordError(_("Choisissez un type de document de la liste."), field="type_code", code="bad_type")
    if not title.strip():
        raise RecordError(_("Donnez un titre au document."), field="title")
    document.title, document.act_date = title.strip()[:255], act_date
    document.type_code, document.type_system = doc_type.code, doc_type.system
    document.class_code = _class_code(doc_type.code)
    document.category = terminology.category_for_type(doc_type.code)
    document.version += 1
    document.save()
    trace(person, actor, decision, "document.edit", document)
    return document


@transaction.atomic
def set_confidentiality(actor, person, document: Document, *, masked: bool | None = None,
                        hidden_from_representatives: bool | None = None) -> Document:
    """Mask a document to professionals or hide it from representatives (any document, any source)."""
    decision = check(actor, Action.MANAGE_SHARING, person)  # confidentiality is sharing: never a caregiver's
    if hidden_from_representatives is not None and decision.role != Role.HOLDER and actor is not None:
        raise RecordError(_("Seul le titulaire de l'espace peut faire cela."), code="holder_only")
    if masked is not None:  # the holder's mask; lifting it lifts an author's MASQUE_PS too (the holder manages)
        document.masked_to_professionals = document.masked_by_holder = masked
    if hidden_from_representatives is not None:
        document.hidden_from_representatives = hidden_from_representatives
    document.version += 1
    document.save()
    trace(person, actor, decision, "document.mask" if document.masked_to_professionals else "document.unmask", document)
    return document


def release_to_holder(actor, person, document: Document) -> Document:
    """Its author (a professional) shows the holder a result held for an announcement consultation
    (INVISIBLE_PATIENT) before the automatic delay: the document becomes visible to the holder and their
    representatives at once. Recorded; the holder is told that a document is available, never what it is.
    The daily job and the automatic visibility after CARNET_ANNOUNCEMENT_RELEASE_DAYS are unchanged for the
    documents nobody releases."""
    if document is None or document.person_id != person.pk:
        raise RecordError(_("Ce document n'existe pas ou n'est plus disponible."), code="not_found")
    decision = require(actor, Action.RELEASE_TO_HOLDER, document)
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        today = timezone.localdate()
        if not locked.invisible_to_holder or (locked.invisible_to_holder_until is not None
                                              and locked.invisible_to_holder_until <= today):
            raise RecordError(_("Ce document est déjà visible par le patient."), code="not_held")
        locked.invisible_to_holder = False
        locked.save(update_fields=["invisible_to_holder", "updated_at"])
        trace(person, actor, decision, "document.release", locked)
        notifications.notify(
            person, kind=Kind.DOCUMENTS, code="document_released",
            title=_("Un nouveau document est disponible dans votre espace."), url=reverse("portal:documents"))
    document.refresh_from_db()
    return document


def delete_document(actor, person, document: Document) -> None:
    """Delete a holder-deposited document: its content is erased, a line stays in the history."""
    decision = check(actor, Action.DELETE_RECORD, person)  # the holder's side; never a caregiver
    _own(document)
    blob = document.blob
    with transaction.atomic():
        Document.objects.filter(pk=document.pk).update(
            status=DocumentStatus.DELETED, deleted_at=timezone.now(), blob=None, preview_blob=None, title="",
            filename="", details={}, folder=None,
        )
        trace(person, actor, decision, "document.delete", document)
        for stored in (blob, document.preview_blob):
            if stored is not None and not Document.objects.filter(person=person, blob=stored).exists():
                stored.delete()
                transaction.on_commit(partial(_forget_file, stored.storage_name))
    document.refresh_from_db()


def _forget_file(name: str) -> None:
    vault.storage().delete(name)


# Folders ------------------------------------------------------------------------------------------

def _folder_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 50:
        raise RecordError(_("Le nom d'un dossier compte de 1 à 50 caractères."), field="name")
    return name


@transaction.atomic
def create_folder(actor, person, name: str) -> Folder:
    check(actor, Action.WRITE_RECORD, person)
    name = _folder_name(name)
    if Folder.objects.filter(person=person, name=name).exists():
        raise RecordError(_("Un dossier porte déjà ce nom."), field="name", code="duplicate")
    return Folder.objects.create(person=person, name=name)


@transaction.atomic
def rename_folder(actor, person, folder: Folder, name: str) -> Folder:
    check(actor, Action.WRITE_RECORD, person)
    name = _folder_name(name)
    if Folder.objects.filter(person=person, name=name).exclude(pk=folder.pk).exists():
        raise RecordError(_("Un dossier porte déjà ce nom."), field="name", code="duplicate")
    folder.name = name
    folder.save(update_fields=["name"])
    return folder


@transaction.atomic
def delete_folder(actor, person, folder: Folder) -> None:
    """The folder goes; its documents stay, outside any folder."""
    check(actor, Action.WRITE_RECORD, person)
    Document.objects.of(person).filter(folder=folder).update(folder=None)
    folder.delete()


@transaction.atomic
def move_documents(actor, person, documents: list[Document], folder: Folder | None) -> int:
    check(actor, Action.WRITE_RECORD, person)
    if folder is not None and folder.person_id != person.pk:
        raise RecordError(_("Ce dossier n'existe pas."), field="folder")
    ids = [d.pk for d in documents if d.person_id == person.pk]
    return Document.objects.of(person).filter(pk__in=ids).update(folder=folder)


def new_unique_id() -> str:
    """An XDS uniqueId for documents Carnet creates itself (OID-based UUID form)."""
    return f"2.25.{uuid.uuid4().int}"
