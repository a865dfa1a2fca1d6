"""Documents: the list with filters and search, a viewer per format, upload, download, edit, mask,
delete, folders and read marks. Every page acts on the profile shown (own or represented) and goes
through the record actions, which ask the policy and trace what others do.
"""

import datetime as dt
from io import BytesIO

from csp.constants import NONE, SELF
from csp.decorators import csp_update
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from carnet.interop import cda, terminology
from carnet.record import actions, cda_identity
from carnet.record.errors import RecordError
from carnet.record.models import Document, DocumentMark, Folder
from carnet.record.queries import DocumentFilters, search_documents, types_present
from carnet.sharing.events import authorise
from carnet.sharing.policy import Action, PolicyDenied, Role, decide
from carnet.vault import services as vault

from ..forms_documents import (
    DocumentEditForm,
    DocumentFilterForm,
    DocumentUploadForm,
    FolderForm,
    MoveForm,
)
from ..profiles import current_profile
from .family import deny, me_or_404

PAGE_SIZE = 20
EXTENSIONS = {"application/pdf": "pdf", "text/xml": "xml", "image/jpeg": "jpg", "image/png": "png",
              "application/dicom": "dcm", "application/zip": "zip", "text/plain": "txt"}


def _actors(request):
    return me_or_404(request), current_profile(request)


def _document_or_404(me, profile, uuid):
    try:
        document, decision = actions.open_document(me, profile, uuid)
    except RecordError:
        raise Http404 from None
    return document, decision


def _folders(profile):
    return list(Folder.objects.filter(person=profile))


def _folder(profile, value):
    return Folder.objects.filter(person=profile, uuid=value).first() if value else None


# Words typed in the search boxes are health content: they travel in a POST body and live in the session,
# never in a URL (access logs, browser history). Coded filters may also come from a link (?folder=<uuid>).
FREE_TEXT_FILTERS = ("q", "author")
CODED_FILTERS = ("category", "type", "source", "date_from", "date_to", "folder", "sort", "pinned")


def _filters_key(profile) -> str:
    return f"document_filters:{profile.uuid}"


@require_http_methods(["GET", "POST"])
def documents(request):
    me, profile = _actors(request)
    try:
        decision = authorise(me, Action.READ_RECORD, profile)
    except PolicyDenied as exc:
        return deny(request, exc)
    folders = _folders(profile)
    types = types_present(profile, decision.role)
    key = _filters_key(profile)
    if request.method == "POST":
        if "clear" in request.POST:
            request.session.pop(key, None)
            return redirect("portal:documents")
        form = DocumentFilterForm(request.POST, types=types, folders=folders)
        if form.is_valid():
            request.session[key] = {name: request.POST.get(name, "") for name in FREE_TEXT_FILTERS + CODED_FILTERS
                                    if request.POST.get(name)}
            return redirect("portal:documents")
    else:
        data = dict(request.session.get(key, {}))
        data.update({name: request.GET[name] for name in CODED_FILTERS if request.GET.get(name)})
        form = DocumentFilterForm(data or None, types=types, folders=folders)
    valid = form.is_bound and form.is_valid()
    filters = DocumentFilters(**form.cleaned_data) if valid else DocumentFilters()
    page = Paginator(search_documents(profile, decision.role, filters, reader=me).select_related("folder"),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    marks = {m.document_id: m for m in DocumentMark.objects.filter(person=profile, reader=me,
                                                                   document__in=page.object_list)}
    for document in page.object_list:
        mark_row = marks.get(document.pk)
        document.unread = mark_row is None or mark_row.read_at is None
        document.pinned = bool(mark_row and mark_row.pinned)
        document.category_label = terminology.PatientCategory(document.category).label
    return render(request, "portal/documents/list.html", {
        "title": _("Documents"), "form": form, "page_obj": page, "folders": folders, "profile": profile,
        "filtered": valid and any(v for k, v in form.cleaned_data.items() if k != "sort"),
    }, status=400 if form.is_bound and form.errors else 200)


@require_http_methods(["GET", "POST"])
def upload(request):
    me, profile = _actors(request)
    try:
        actions.check(me, Action.WRITE_RECORD, profile)  # a denial is recorded; the upload itself is traced
    except PolicyDenied as exc:
        return deny(request, exc)
    folders = _folders(profile)
    form = DocumentUploadForm(request.POST or None, request.FILES or None, folders=folders)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        act_date = (timezone.make_aware(dt.datetime.combine(data["act_date"], dt.time(12)))
                    if data["act_date"] else None)
        try:
            document = cda_identity.add_checked_document(  # a CDA's INS checked as through FHIR
                me, profile, content=data["file"], filename=data["file"].name, title=data["title"],
                type_code=data["type_code"], act_date=act_date, folder=_folder(profile, data["folder"]),
                masked=data["masked"],
            )
        except PolicyDenied as exc:
            return deny(request, exc)
        except RecordError as exc:
            form.add_domain_error(exc, {"type_code": "type_code", "file": "file"})
        else:
            messages.success(request, _("Le document a été ajouté."))
            return redirect("portal:document", document=document.uuid)
    return render(request, "portal/documents/upload.html", {"title": _("Ajouter un document"), "form": form},
                  status=400 if form.errors else 200)


@require_safe
@csp_update({"frame-src": [SELF]})  # type: ignore[arg-type]  # django-csp types views as request-only
def document(request, document):
    me, profile = _actors(request)
    doc, decision = _document_or_404(me, profile, document)
    if decision.role in (Role.HOLDER, Role.REPRESENTATIVE, Role.CAREGIVER):
        actions.mark(me, profile, doc, read=True)
    try:
        viewer = viewer_context(doc)
    except vault.TamperedBlob:
        return _integrity_error(request)
    rendered, text = viewer["rendered"], viewer["text"]
    known = terminology.document_type(doc.type_code)
    mark = DocumentMark.objects.filter(person=profile, document=doc, reader=me).first()
    return render(request, "portal/documents/detail.html", {
        "title": doc.title or _("Document supprimé"), "doc": doc, "rendered": rendered, "text": text,
        "type_label": known.label if known else doc.type_code,
        "category_label": terminology.PatientCategory(doc.category).label,
        "versions": Document.objects.of(profile).filter(versions=doc) if doc.replaces_id else [],
        "newer": Document.objects.of(profile).filter(replaces=doc).first(),
        "is_holder": decision.role == Role.HOLDER, "pinned": bool(mark and mark.pinned),
        # Which buttons to offer (a caregiver neither masks nor deletes): the policy's answers, nothing recorded.
        "may_mask": decide(me, Action.MANAGE_SHARING, profile).allowed,
        "may_delete": decide(me, Action.DELETE_RECORD, profile).allowed,
        "move_form": MoveForm(folders=_folders(profile), initial={"folder": doc.folder.uuid if doc.folder else ""}),
    })


def viewer_context(doc) -> dict:
    """What the viewer partial (portal/documents/_viewer.html) shows inline: a CDA rendered safely, or a text
    file's text. Raises vault.TamperedBlob on a corrupted blob. Shared with the pro portal's viewer."""
    rendered = None
    if doc.format == "cda" and doc.blob_id:
        try:
            rendered = cda.render(vault.read_bytes(doc.blob))
        except vault.TamperedBlob:
            raise
        except Exception:  # noqa: BLE001 - an unreadable body still shows its metadata and download
            rendered = None
    text = None
    if doc.format == "text" and doc.blob_id:
        text = vault.read_bytes(doc.blob).decode("utf-8", errors="replace")
    return {"rendered": rendered, "text": text}


def _integrity_error(request):
    return render(request, "portal/documents/integrity.html", {"title": _("Document illisible")}, status=500)


def _serve(request, document, *, inline: bool, which: str = "content"):
    me, profile = _actors(request)
    doc, _decision = _document_or_404(me, profile, document)
    return serve_document_file(request, doc, inline=inline, which=which)


def serve_document_file(request, doc, *, inline: bool, which: str = "content"):
    """The bytes of a document the caller was allowed to read (its content, DICOM preview or a CDA's embedded
    piece), never cached, shown inline under a locked-down CSP. Shared with the pro portal's viewer."""
    if which == "embedded" and doc.format != "cda":
        raise Http404  # only a CDA carries embedded pieces
    blob = doc.preview_blob if which == "preview" else doc.blob
    if blob is None:
        raise Http404
    try:
        handle = vault.verified_copy(blob)
    except vault.TamperedBlob:
        return _integrity_error(request)
    mime = "image/png" if which == "preview" else doc.mime_type
    if which == "embedded":
        try:
            rendered = cda.render(handle.read())
        finally:
            handle.close()
        attachment = rendered.embedded
        if attachment is None:
            index = request.GET.get("piece", "")
            if not index.isdigit() or int(index) >= len(rendered.attachments):
                raise Http404
            attachment = rendered.attachments[int(index)]
        handle, mime = BytesIO(attachment.data), attachment.media_type
    name = get_valid_filename(doc.title or "document")[:80] or "document"
    filename = f"{name}.{EXTENSIONS.get(mime, 'bin')}"
    response = FileResponse(handle, content_type=mime, as_attachment=not inline, filename=filename)
    response["Cache-Control"] = "private, no-store"
    if inline:
        # Shown by the browser itself (PDF viewer, image), never as a page of ours: no scripts, framed only
        # by our viewer. Browsers refuse to run their PDF viewer in a sandboxed document, so PDFs (checked
        # for JavaScript and actions at upload) get no `sandbox`; images and text do.
        response._csp_config = {  # type: ignore[attr-defined]
            "default-src": [NONE], "img-src": [SELF], "style-src": ["'unsafe-inline'"], "frame-ancestors": [SELF],
            **({} if mime == "application/pdf" else {"sandbox": True}),
        }
    return response


@require_safe
def download(request, document):
    return _serve(request, document, inline=False)


@require_safe
@xframe_options_sameorigin
def content(request, document):
    me, profile = _actors(request)
    doc, _decision = _document_or_404(me, profile, document)
    if doc.mime_type not in ("application/pdf", "image/jpeg", "image/png", "text/plain"):
        return _serve(request, document, inline=False)  # XML, DICOM, zip: download only
    return _serve(request, document, inline=True)


@require_safe
@xframe_options_sameorigin
def preview(request, document):
    return _serve(request, document, inline=True, which="preview")


@require_safe
@xframe_options_sameorigin
def embedded(request, document):
    return _serve(request, document, inline=True, which="embedded")


@require_http_methods(["GET", "POST"])
def edit(request, document):
    me, profile = _actors(request)
    doc, _decision = _document_or_404(me, profile, document)
    if not doc.holder_owned:
        messages.error(request, _("Ce document a été déposé par un professionnel ou un service : vous pouvez le "
                                  "masquer, mais pas le modifier."))
        return redirect("portal:document", document=doc.uuid)
    initial = {"title": doc.title, "type_code": doc.type_code,
               "act_date": timezone.localtime(doc.act_date).date() if doc.act_date else None}
    form = DocumentEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        act_date = (timezone.make_aware(dt.datetime.combine(data["act_date"], dt.time(12)))
                    if data["act_date"] else None)
        try:
            actions.update_document(me, profile, doc, title=data["title"], type_code=data["type_code"],
                                    act_date=act_date)
        except RecordError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Le document a été modifié."))
            return redirect("portal:document", document=doc.uuid)
    return render(request, "portal/documents/edit.html", {"title": _("Modifier le document"), "form": form,
                                                          "doc": doc}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def delete(request, document):
    me, profile = _actors(request)
    doc, _decision = _document_or_404(me, profile, document)
    if not doc.holder_owned or doc.status == "deleted":
        messages.error(request, _("Ce document a été déposé par un professionnel ou un service : vous pouvez le "
                                  "masquer, mais pas le supprimer."))
        return redirect("portal:document", document=doc.uuid)
    if request.method == "POST":
        try:
            actions.delete_document(me, profile, doc)
        except PolicyDenied as exc:  # a caregiver may not delete (recorded by the action)
            return deny(request, exc)
        except RecordError as exc:
            messages.error(request, exc.message)
            return redirect("portal:document", document=doc.uuid)
        messages.success(request, _("Le document a été supprimé. La suppression reste visible dans l'historique."))
        return redirect("portal:documents")
    return render(request, "portal/documents/delete.html", {"title": _("Supprimer le document"), "doc": doc})


@require_POST
def confidentiality(request, document):
    me, profile = _actors(request)
    doc, _decision = _document_or_404(me, profile, document)
    change = request.POST.get("change")
    try:
        if change in ("mask", "unmask"):
            actions.set_confidentiality(me, profile, doc, masked=change == "mask")
            messages.success(request, _("Le document est masqué aux professionnels de santé.") if change == "mask"
                             else _("Le document est de nouveau visible des professionnels que vous autorisez."))
        elif change in ("hide_representatives", "show_representatives"):
            actions.set_confidentiality(me, profile, doc,
                                        hidden_from_representatives=change == "hide_representatives")
            messages.success(request, _("Votre choix a été enregistré."))
        else:
            raise Http404
    except PolicyDenied as exc:  # confidentiality is the holder's side only (recorded by the action)
        return deny(request, exc)
    except RecordError as exc:
        messages.error(request, exc.message)
    return redirect("portal:document", document=doc.uuid)


@require_POST
def mark(request, document):
    me, profile = _actors(request)
    doc, _decision = _document_or_404(me, profile, document)
    change = request.POST.get("change")
    if change == "unread":
        actions.mark(me, profile, doc, read=False)
        return redirect("portal:documents")
    if change in ("pin", "unpin"):
        actions.mark(me, profile, doc, pinned=change == "pin")
    return redirect("portal:document", document=doc.uuid)


@require_POST
def move(request, document):
    me, profile = _actors(request)
    doc, _decision = _document_or_404(me, profile, document)
    form = MoveForm(request.POST, folders=_folders(profile))
    if form.is_valid():
        try:
            actions.move_documents(me, profile, [doc], _folder(profile, form.cleaned_data["folder"]))
        except RecordError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Le document a été rangé."))
    return redirect("portal:document", document=doc.uuid)


@require_http_methods(["GET", "POST"])
def folders(request):
    me, profile = _actors(request)
    try:
        authorise(me, Action.READ_RECORD, profile)
    except PolicyDenied as exc:
        return deny(request, exc)
    form = FolderForm(request.POST or None, auto_id="new-folder-%s")
    if request.method == "POST":
        action, target = request.POST.get("action", "create"), _folder(profile, request.POST.get("folder"))
        try:
            if action == "create" and form.is_valid():
                actions.create_folder(me, profile, form.cleaned_data["name"])
                messages.success(request, _("Le dossier a été créé."))
                return redirect("portal:folders")
            if action == "rename" and target is not None:
                actions.rename_folder(me, profile, target, request.POST.get("name", ""))
                messages.success(request, _("Le dossier a été renommé."))
                return redirect("portal:folders")
            if action == "delete" and target is not None:
                actions.delete_folder(me, profile, target)
                messages.success(request, _("Le dossier a été supprimé ; ses documents sont conservés."))
                return redirect("portal:folders")
        except RecordError as exc:
            if action == "create":
                form.add_domain_error(exc)
            else:
                messages.error(request, exc.message)
                return redirect("portal:folders")
    rows = _folders(profile)
    for row in rows:
        row.rename_form = FolderForm(initial={"name": row.name}, auto_id=f"rename-{row.uuid}-%s")
        row.count = row.documents.filter(status="current").count()
    return render(request, "portal/documents/folders.html", {"title": _("Mes dossiers"), "form": form,
                                                             "folders": rows}, status=400 if form.errors else 200)
