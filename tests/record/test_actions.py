"""Record actions: upload by content, CDA and DICOM metadata, ownership, confidentiality, deletion,
folders, idempotence and atomicity. Samples used: ci-sis-3.0/IMG-DA-IMG_2024.01_Radiographie_ChevilleGenou.xml
(structured CDA), ci-sis-3.0/BIO-CR-BIO_2024.01_CR-2nde-intention-PDF.xml (PDF-embedded CDA), pydicom's CT_small.dcm."""

from pathlib import Path

import pytest
from django.core import mail
from django.core.files.storage import storages
from pydicom.data import get_testdata_file

from carnet.record import actions
from carnet.record.actions import Author
from carnet.record.enums import AuthorKind, DocumentSource, DocumentStatus
from carnet.record.errors import RecordError
from carnet.record.models import Document
from carnet.record.queries import DocumentFilters, search_documents
from carnet.record.visibility import visible_documents
from carnet.sharing.events import verify_chain
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import PolicyDenied, Role
from carnet.vault import services as vault
from carnet.vault.models import Blob

from .conftest import CDA_30, make_pdf, make_png

pytestmark = pytest.mark.django_db


def vault_files() -> list[Path]:
    root = Path(storages["vault"].location)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def add(actor, person, content=None, **kwargs):
    kwargs.setdefault("type_code", "DOCPAT03")
    return actions.add_document(actor, person, content=content if content is not None else make_pdf(), **kwargs)


def test_holder_uploads_a_pdf_encrypted_with_its_event(holder):
    me = holder.person
    content = make_pdf()
    doc = add(me, me, content, filename="ordonnance.pdf", title="Ordonnance du Dr Martin")
    assert (doc.format, doc.mime_type, doc.source, doc.author_kind) == ("pdf", "application/pdf", "holder", "holder")
    assert doc.size == len(content) and doc.category and doc.status == DocumentStatus.CURRENT
    assert vault.read_bytes(doc.blob) == content
    raw = vault_files()[0].read_bytes()
    assert b"%PDF" not in raw
    event = AccessEvent.objects.get(person=me)
    assert (event.action, event.actor_role, event.subject) == ("document.add", Role.HOLDER, f"document:{doc.uuid}")
    assert verify_chain(me)
    assert mail.outbox == []  # nobody else added it: no notification


@pytest.mark.parametrize("content, code", [
    (b"MZ\x90\x00\x03" + b"\x00" * 200, "unknown_format"),
    (b"<html><script>alert(1)</script></html>", "unknown_format"),
])
def test_wrong_formats_are_refused_and_leave_nothing(holder, content, code):
    me = holder.person
    with pytest.raises(RecordError) as refused:
        add(me, me, content, filename="resultats.pdf")
    assert refused.value.field == "file" and refused.value.message
    assert not Document.objects.exists() and not Blob.objects.exists() and vault_files() == []
    assert not AccessEvent.objects.filter(person=me).exists()


def test_pdf_with_javascript_is_refused(holder):
    me = holder.person
    script = b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"
    hostile = make_pdf().replace(b"/Type /Catalog", script)
    with pytest.raises(RecordError):
        add(me, me, hostile)
    assert not Document.objects.exists() and vault_files() == []


def test_failure_after_the_blob_is_written_leaves_nothing(holder, monkeypatch):
    me = holder.person

    def crash(*args, **kwargs):
        raise RuntimeError("the row could not be built")

    monkeypatch.setattr(actions, "Document", crash)  # the file is written, the statement not yet sent
    with pytest.raises(RuntimeError):
        add(me, me)
    assert not Blob.objects.exists() and vault_files() == []
    assert not AccessEvent.objects.filter(person=me).exists()


def test_failure_after_the_rows_are_written_leaves_nothing(holder, monkeypatch):
    """Blob, document and access event went in one statement; a failure after it rolls all three back."""
    me = holder.person
    written = vault.store_with_row

    def written_then_crash(*args, **kwargs):
        written(*args, **kwargs)
        raise RuntimeError("the next statement failed")

    monkeypatch.setattr(vault, "store_with_row", written_then_crash)
    with pytest.raises(RuntimeError):
        add(me, me)
    assert not Document.objects.exists() and not Blob.objects.exists() and vault_files() == []
    assert not AccessEvent.objects.filter(person=me).exists()


def test_structured_cda_fills_its_metadata_and_renders(holder):
    me = holder.person
    content = (CDA_30 / "IMG-DA-IMG_2024.01_Radiographie_ChevilleGenou.xml").read_bytes()
    doc = actions.add_document(me, me, content=content, filename="cr.xml", type_code="")
    assert doc.format == "cda" and doc.mime_type == "text/xml"
    assert doc.type_code == "55115-0" and doc.category == "ORD_SOIN"  # an imaging request (DA-IMG)
    assert doc.title and doc.act_date is not None and doc.author_label
    assert doc.details["cda"]


def test_unrelated_person_is_refused_and_the_denial_is_traced(holder, family):
    stranger = family.holder().person
    with pytest.raises(PolicyDenied):
        add(stranger, holder.person)
    assert not Document.objects.exists()
    event = AccessEvent.objects.get(person=holder.person)
    assert not event.allowed and event.actor_id == stranger.pk


def test_parent_adds_to_child_space_traced_as_representative(represented_child):
    parent, child = represented_child
    doc = add(parent.person, child, title="Carnet de santé, page vaccins")
    assert doc.author_kind == AuthorKind.REPRESENTATIVE and doc.source == DocumentSource.HOLDER
    assert AccessEvent.objects.filter(person=child, actor=parent.person, action="document.add",
                                      actor_role=Role.REPRESENTATIVE).exists()


def test_professional_document_notifies_without_content_and_cannot_be_edited_or_deleted(
        holder, django_capture_on_commit_callbacks):
    me = holder.person
    with django_capture_on_commit_callbacks(execute=True):
        doc = add(None, me, source=DocumentSource.PROFESSIONAL, title="Résultats VIH",
                  author=Author(AuthorKind.PROFESSIONAL, "Dr Durand", "810001234567"))
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [holder.email]
    assert "VIH" not in mail.outbox[0].subject + mail.outbox[0].body and "Durand" not in mail.outbox[0].body
    with pytest.raises(RecordError) as refused:
        actions.update_document(me, me, doc, title="x", type_code="DOCPAT03", act_date=None)
    assert refused.value.code == "not_owner"
    with pytest.raises(RecordError):
        actions.delete_document(me, me, doc)
    masked = actions.set_confidentiality(me, me, doc, masked=True)
    assert masked.masked_to_professionals


def test_holder_edits_and_deletes_own_document_leaving_a_history_line(holder, django_capture_on_commit_callbacks):
    me = holder.person
    doc = add(me, me, title="Ancien titre")
    actions.update_document(me, me, doc, title="Nouveau titre", type_code="DOCPAT06", act_date=None)
    doc.refresh_from_db()
    assert doc.title == "Nouveau titre" and doc.type_code == "DOCPAT06" and doc.version == 2
    stored = doc.blob.storage_name
    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_document(me, me, doc)
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.DELETED and doc.blob is None and doc.title == ""
    assert not storages["vault"].exists(stored) and not Blob.objects.exists()
    assert AccessEvent.objects.filter(person=me, action="document.delete", subject=f"document:{doc.uuid}").exists()
    assert not visible_documents(me, Role.HOLDER).exists()


def test_deleting_one_of_two_identical_uploads_keeps_the_shared_blob(holder):
    me = holder.person
    content = make_pdf("same")
    first, second = add(me, me, content), add(me, me, content)
    assert first.blob_id == second.blob_id
    actions.delete_document(me, me, first)
    assert vault.read_bytes(Document.objects.get(pk=second.pk).blob) == content


def test_a_new_version_supersedes_the_old_one(holder):
    me = holder.person
    old = add(None, me, source=DocumentSource.PROFESSIONAL)
    new = add(None, me, make_pdf("v2"), source=DocumentSource.PROFESSIONAL, replaces=old)
    old.refresh_from_db()
    assert old.status == DocumentStatus.SUPERSEDED and new.version == 2
    assert list(visible_documents(me, Role.HOLDER)) == [new]


def test_same_unique_id_is_filed_once(holder):
    me = holder.person
    first = add(None, me, source=DocumentSource.PROFESSIONAL, unique_id="1.2.250.1.999.1")
    again = add(None, me, make_pdf("other bytes"), source=DocumentSource.PROFESSIONAL, unique_id="1.2.250.1.999.1")
    assert first.pk == again.pk and Document.objects.count() == 1


def test_confidentiality_flags_hide_documents_from_holder_and_representatives(represented_child):
    parent, child = represented_child
    pending = add(None, child, source=DocumentSource.PROFESSIONAL, invisible_to_holder=True)
    secret = add(None, child, source=DocumentSource.PROFESSIONAL, hidden_from_representatives=True)
    normal = add(None, child, source=DocumentSource.PROFESSIONAL)
    assert set(visible_documents(child, Role.HOLDER)) == {secret, normal}
    assert set(visible_documents(child, Role.REPRESENTATIVE)) == {normal}
    with pytest.raises(RecordError):
        actions.open_document(parent.person, child, secret.uuid)
    assert pending.pk


def test_only_the_holder_hides_a_document_from_representatives(represented_child):
    parent, child = represented_child
    doc = add(parent.person, child)
    with pytest.raises(RecordError):
        actions.set_confidentiality(parent.person, child, doc, hidden_from_representatives=True)


def test_images_text_and_dicom_are_accepted_with_dicom_facts_and_preview(holder):
    me = holder.person
    assert add(me, me, make_png()).format == "png"
    assert add(me, me, b"Tension 12/8 ce matin.\n").format == "text"
    study = add(me, me, Path(get_testdata_file("CT_small.dcm")).read_bytes(), type_code="DOCPAT03")
    assert study.format == "dicom" and study.details["dicom"]["modality"] == "CT"
    assert study.preview_blob is not None and vault.read_bytes(study.preview_blob).startswith(b"\x89PNG")


def test_folders_keep_documents_when_deleted(holder):
    me = holder.person
    folder = actions.create_folder(me, me, "Arrêts de travail")
    with pytest.raises(RecordError):
        actions.create_folder(me, me, "Arrêts de travail")
    with pytest.raises(RecordError):
        actions.create_folder(me, me, "x" * 51)
    doc = add(me, me)
    assert actions.move_documents(me, me, [doc], folder) == 1
    assert list(search_documents(me, Role.HOLDER, DocumentFilters(folder=str(folder.uuid)))) == [doc]
    actions.rename_folder(me, me, folder, "Travail")
    actions.delete_folder(me, me, folder)
    doc.refresh_from_db()
    assert doc.folder is None and doc.status == DocumentStatus.CURRENT


def test_filters_by_category_source_author_date_and_text(holder):
    import datetime as dt

    from django.utils import timezone

    me = holder.person
    mine = add(me, me, title="Bilan sanguin mars", type_code="DOCPAT05",
               act_date=timezone.make_aware(dt.datetime(2026, 3, 2, 12)))
    theirs = add(None, me, make_pdf("b"), source=DocumentSource.PROFESSIONAL, title="Compte rendu",
                 author=Author(AuthorKind.PROFESSIONAL, "Dr Lefèvre"), type_code="11490-0")

    def found(**filters):
        return list(search_documents(me, Role.HOLDER, DocumentFilters(**filters)))

    assert found(q="sanguin") == [mine]
    assert found(source="professional") == [theirs]
    assert found(author="lefèvre") == [theirs]
    assert found(category=theirs.category) == [theirs]
    assert found(type="DOCPAT05") == [mine]
    assert found(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31)) == [mine]
    assert found(sort="title") == [mine, theirs]


def test_a_large_zipped_dicom_study_is_filed_in_bounded_memory(holder, tmp_path):
    """60+ MB of images through the whole upload path (format check, study facts, preview, vault)."""
    import tracemalloc
    import zipfile

    import numpy as np
    from django.core.files.uploadedfile import TemporaryUploadedFile
    from pydicom import dcmread
    from pydicom.uid import generate_uid

    base = dcmread(get_testdata_file("CT_small.dcm"))
    archive = tmp_path / "etude.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        for index in range(8):
            base.SOPInstanceUID = generate_uid()
            base.Rows = base.Columns = 2048
            base.PixelData = np.random.default_rng(index).integers(0, 4000, (2048, 2048), dtype=np.uint16).tobytes()
            target = tmp_path / f"im{index}.dcm"
            base.save_as(target)
            zipped.write(target, f"ETUDE/IM{index:04d}")
            target.unlink()
    size = archive.stat().st_size
    assert size > 60 * 1024 * 1024
    upload = TemporaryUploadedFile("etude.zip", "application/zip", size, None)
    with archive.open("rb") as source:
        while chunk := source.read(1 << 20):
            upload.write(chunk)
    upload.seek(0)
    me = holder.person
    tracemalloc.start()
    doc = actions.add_document(me, me, content=upload, filename="etude.zip", type_code="DOCPAT04")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    upload.close()
    assert doc.format == "dicom-zip" and doc.size == size
    assert doc.details["dicom"]["image_count"] == 8
    assert peak < 40 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB upload"
