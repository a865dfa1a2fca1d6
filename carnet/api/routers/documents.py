"""Documents of a space (mine, or a represented person's with `?person=<uuid>`): list with filters,
upload, metadata, content, edit, confidentiality, delete, marks and folders. The record actions ask
the policy and trace; this module only shapes requests and answers."""

import datetime as dt
from typing import cast
from uuid import UUID

from django.db.models import F
from django.http import FileResponse, HttpRequest
from django.utils.text import get_valid_filename
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from carnet.identity.models import Person
from carnet.interop import terminology
from carnet.record import actions
from carnet.record.errors import RecordError
from carnet.record.models import Document, Folder
from carnet.record.queries import DocumentFilters, search_documents
from carnet.sharing.events import authorise
from carnet.sharing.policy import Action
from carnet.vault import services as vault

from ..access import me, not_found, person_or_404
from ..schemas import Error

router = Router()
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error}
PAGE_SIZE = 50


class DocumentOut(Schema):
    id: UUID
    title: str
    type_code: str
    type_label: str
    class_code: str
    category: str
    category_label: str
    act_date: dt.datetime | None
    created_at: dt.datetime
    source: str
    author_kind: str
    author_label: str
    format: str
    mime_type: str
    size: int
    sha256: str
    status: str
    version: int
    replaces: UUID | None
    folder: UUID | None
    masked_to_professionals: bool
    hidden_from_representatives: bool
    holder_owned: bool


class DocumentPage(Schema):
    count: int
    page: int
    pages: int
    results: list[DocumentOut]


class DocumentFilterIn(Schema):
    """Coded filters only: words to search for go in the body of POST /documents/search."""

    person: UUID | None = None
    category: str = ""
    type: str = ""
    source: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    folder: str = ""
    sort: str = "recent"
    pinned: bool = False
    page: int = 1


class DocumentSearchIn(DocumentFilterIn):
    q: str = Field("", max_length=100, description="Mots du titre")
    author: str = Field("", max_length=100, description="Nom de l'auteur")


class DocumentEditIn(Schema):
    title: str
    type_code: str
    act_date: dt.datetime | None = None


class ConfidentialityIn(Schema):
    masked: bool | None = None
    hidden_from_representatives: bool | None = None


class MarkIn(Schema):
    read: bool | None = None
    pinned: bool | None = None


class FolderIn(Schema):
    name: str


class FolderOut(Schema):
    id: UUID
    name: str


class MoveIn(Schema):
    documents: list[UUID]
    folder: UUID | None = None


class DocumentTypeOut(Schema):
    code: str
    label: str
    category: str


def _space(request: HttpRequest, person: UUID | None) -> tuple[Person, Person]:
    actor = me(request)
    return actor, (actor if person is None or person == actor.uuid else person_or_404(person))


def document_out(doc: Document) -> dict:
    known = terminology.document_type(doc.type_code)
    return {
        "id": doc.uuid, "title": doc.title, "type_code": doc.type_code,
        "type_label": str(known.label) if known else doc.type_code, "class_code": doc.class_code,
        "category": doc.category, "category_label": str(terminology.PatientCategory(doc.category).label),
        "act_date": doc.act_date, "created_at": doc.created_at, "source": doc.source,
        "author_kind": doc.author_kind, "author_label": doc.author_label, "format": doc.format,
        "mime_type": doc.mime_type, "size": doc.size, "sha256": doc.sha256, "status": doc.status,
        "version": doc.version,
        "replaces": getattr(doc, "replaces_uuid", None)
        or (cast(Document, doc.replaces).uuid if doc.replaces_id else None),
        "folder": getattr(doc, "folder_uuid", None) or (cast(Folder, doc.folder).uuid if doc.folder_id else None),
        "masked_to_professionals": doc.masked_to_professionals,
        "hidden_from_representatives": doc.hidden_from_representatives, "holder_owned": doc.holder_owned,
    }


def _open(actor: Person, target: Person, document_id: UUID) -> Document:
    try:
        return actions.open_document(actor, target, document_id)[0]
    except RecordError:
        raise not_found() from None


def _folder(target: Person, folder_id: UUID | None) -> Folder | None:
    if folder_id is None:
        return None
    folder = Folder.objects.filter(person=target, uuid=folder_id).first()
    if folder is None:
        raise not_found()
    return folder


@router.get("/document-types", response={200: list[DocumentTypeOut], 401: Error})
def document_types(request: HttpRequest):
    """The types a holder may choose when adding a document, with their patient-facing category."""
    return [{"code": t.code, "label": str(t.label), "category": terminology.category_for_type(t.code)}
            for t in terminology.patient_deposit_types()]


def _page(request: HttpRequest, filters: DocumentSearchIn) -> dict:
    actor, target = _space(request, filters.person)
    decision = authorise(actor, Action.READ_RECORD, target)
    query = DocumentFilters(q=filters.q, category=filters.category, type=filters.type, source=filters.source,
                            author=filters.author, date_from=filters.date_from, date_to=filters.date_to,
                            folder=filters.folder, sort=filters.sort, pinned=filters.pinned)
    documents = search_documents(target, decision.role, query, reader=actor).annotate(
        folder_uuid=F("folder__uuid"), replaces_uuid=F("replaces__uuid"))
    count = documents.count()
    pages = max(1, -(-count // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    rows = documents[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return {"count": count, "page": page, "pages": pages, "results": [document_out(d) for d in rows]}


@router.get("/documents", response={200: DocumentPage, **ERRORS})
def list_documents(request: HttpRequest, filters: Query[DocumentFilterIn]):
    """A page of the space's documents, newest first unless sorted otherwise; coded filters only."""
    return _page(request, DocumentSearchIn(**filters.dict()))


@router.post("/documents/search", response={200: DocumentPage, **ERRORS})
def search(request: HttpRequest, filters: DocumentSearchIn):
    """The same list, searched by words of the title or the author: the words travel in the body, never in
    a URL (they are health content; URLs end up in logs)."""
    return _page(request, filters)


@router.post("/documents/move", response={200: dict, **ERRORS})
def move(request: HttpRequest, payload: MoveIn, person: UUID | None = None):
    actor, target = _space(request, person)
    authorise(actor, Action.READ_RECORD, target)
    documents = [_open(actor, target, doc_id) for doc_id in payload.documents[:100]]
    moved = actions.move_documents(actor, target, documents, _folder(target, payload.folder))
    return {"moved": moved}


@router.post("/documents", response={201: DocumentOut, **ERRORS, 413: Error})
def add_document(
    request: HttpRequest, file: File[UploadedFile], person: Form[UUID | None] = None, title: Form[str] = "",
    type_code: Form[str] = "", act_date: Form[dt.datetime | None] = None, folder: Form[UUID | None] = None,
    masked: Form[bool | None] = None,
):
    """Upload a document (multipart). The content decides the format; a CDA fills its own metadata."""
    actor, target = _space(request, person)
    doc = actions.add_document(actor, target, content=file, filename=file.name or "", title=title[:255],
                               type_code=type_code, act_date=act_date, folder=_folder(target, folder), masked=masked)
    return Status(201, document_out(doc))


@router.get("/documents/{document_id}", response={200: DocumentOut, **ERRORS})
def get_document(request: HttpRequest, document_id: UUID, person: UUID | None = None):
    actor, target = _space(request, person)
    return document_out(_open(actor, target, document_id))


@router.get("/documents/{document_id}/content", response={200: None, **ERRORS}, openapi_extra={
    "responses": {"200": {"description": "The document's bytes, exactly as stored, with its content type."}}})
def get_content(request: HttpRequest, document_id: UUID, person: UUID | None = None):
    actor, target = _space(request, person)
    doc = _open(actor, target, document_id)
    if doc.blob is None:
        raise not_found()
    handle = vault.verified_copy(doc.blob)
    response = FileResponse(handle, content_type=doc.mime_type, as_attachment=True,
                            filename=get_valid_filename(doc.title or "document")[:80] or "document")
    response["Cache-Control"] = "private, no-store"
    return response


@router.patch("/documents/{document_id}", response={200: DocumentOut, **ERRORS})
def edit_document(request: HttpRequest, document_id: UUID, payload: DocumentEditIn, person: UUID | None = None):
    actor, target = _space(request, person)
    doc = _open(actor, target, document_id)
    return document_out(actions.update_document(actor, target, doc, title=payload.title[:255],
                                                type_code=payload.type_code, act_date=payload.act_date))


@router.post("/documents/{document_id}/confidentiality", response={200: DocumentOut, **ERRORS})
def confidentiality(request: HttpRequest, document_id: UUID, payload: ConfidentialityIn, person: UUID | None = None):
    actor, target = _space(request, person)
    doc = _open(actor, target, document_id)
    return document_out(actions.set_confidentiality(
        actor, target, doc, masked=payload.masked, hidden_from_representatives=payload.hidden_from_representatives))


@router.delete("/documents/{document_id}", response={204: None, **ERRORS})
def delete_document(request: HttpRequest, document_id: UUID, person: UUID | None = None):
    actor, target = _space(request, person)
    actions.delete_document(actor, target, _open(actor, target, document_id))
    return Status(204, None)


@router.post("/documents/{document_id}/marks", response={204: None, **ERRORS})
def mark(request: HttpRequest, document_id: UUID, payload: MarkIn, person: UUID | None = None):
    actor, target = _space(request, person)
    actions.mark(actor, target, _open(actor, target, document_id), read=payload.read, pinned=payload.pinned)
    return Status(204, None)


@router.get("/folders", response={200: list[FolderOut], **ERRORS})
def list_folders(request: HttpRequest, person: UUID | None = None):
    actor, target = _space(request, person)
    authorise(actor, Action.READ_RECORD, target)
    return [{"id": f.uuid, "name": f.name} for f in Folder.objects.filter(person=target)]


@router.post("/folders", response={201: FolderOut, **ERRORS})
def create_folder(request: HttpRequest, payload: FolderIn, person: UUID | None = None):
    actor, target = _space(request, person)
    folder = actions.create_folder(actor, target, payload.name)
    return Status(201, {"id": folder.uuid, "name": folder.name})


@router.patch("/folders/{folder_id}", response={200: FolderOut, **ERRORS})
def rename_folder(request: HttpRequest, folder_id: UUID, payload: FolderIn, person: UUID | None = None):
    actor, target = _space(request, person)
    authorise(actor, Action.WRITE_RECORD, target)
    folder = actions.rename_folder(actor, target, cast(Folder, _folder(target, folder_id)), payload.name)
    return {"id": folder.uuid, "name": folder.name}


@router.delete("/folders/{folder_id}", response={204: None, **ERRORS})
def delete_folder(request: HttpRequest, folder_id: UUID, person: UUID | None = None):
    actor, target = _space(request, person)
    authorise(actor, Action.WRITE_RECORD, target)
    actions.delete_folder(actor, target, cast(Folder, _folder(target, folder_id)))
    return Status(204, None)


class ConfidentialityDefaultsIn(Schema):
    new_documents_masked: bool
    care_history_masked: bool
    apply_to_existing: bool = False


class ConfidentialityDefaultsOut(Schema):
    new_documents_masked: bool
    care_history_masked: bool
    changed: int = 0


@router.get("/confidentiality", response={200: ConfidentialityDefaultsOut, **ERRORS})
def get_confidentiality_defaults(request: HttpRequest, person: UUID | None = None):
    """Paramètres de confidentialité: how new documents arrive, whether the care history is masked."""
    actor, target = _space(request, person)
    authorise(actor, Action.READ_RECORD, target)
    current = actions.settings_of(target)
    return {"new_documents_masked": current.new_documents_masked, "care_history_masked": current.care_history_masked}


@router.put("/confidentiality", response={200: ConfidentialityDefaultsOut, **ERRORS})
def set_confidentiality_defaults(request: HttpRequest, payload: ConfidentialityDefaultsIn, person: UUID | None = None):
    actor, target = _space(request, person)
    changed = actions.set_confidentiality_defaults(
        actor, target, new_documents_masked=payload.new_documents_masked,
        care_history_masked=payload.care_history_masked, apply_to_existing=payload.apply_to_existing)
    return {"new_documents_masked": payload.new_documents_masked,
            "care_history_masked": payload.care_history_masked, "changed": changed}
