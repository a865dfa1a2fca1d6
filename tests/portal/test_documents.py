"""Portal Documents pages: list and filters, upload (CSRF-enforced), viewer, download, edit, mask,
delete with confirmation, folders; a represented child's documents; strangers get 404."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from carnet.record import actions
from carnet.record.actions import Author
from carnet.record.enums import AuthorKind, DocumentSource, DocumentStatus
from carnet.record.models import Document, Folder
from carnet.sharing.models import AccessEvent
from carnet.vault.models import Blob
from tests.portal.helpers import csrf_token, post_form, sign_in
from tests.record.conftest import CDA_30, make_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(csrf_client, family):
    account = family.holder()
    sign_in(csrf_client, account)
    return csrf_client, account.person


def search(client, **filters):
    """Filters are posted (search words never go into a URL), kept in the session, and the list shown."""
    response = post_form(client, "/documents/", filters)
    assert response.status_code == 302 and response["Location"] == "/documents/" and "lunettes" not in response[
        "Location"]
    return client.get("/documents/")


def upload(client, content, **fields):
    token = csrf_token(client, "/documents/ajouter/")
    data = {"title": "", "type_code": "DOCPAT03", "act_date": "", "folder": "", **fields,
            "file": SimpleUploadedFile(fields.pop("filename", "scan.pdf"), content), "csrfmiddlewaretoken": token}
    return client.post("/documents/ajouter/", data)


def test_upload_then_find_open_download_and_delete(signed_in):
    client, me = signed_in
    content = make_pdf()
    response = upload(client, content, title="Ordonnance lunettes")
    assert response.status_code == 302, response.content
    doc = Document.objects.get(person=me)
    assert response["Location"] == f"/documents/{doc.uuid}/"

    listing = search(client, q="lunettes")
    assert b"Ordonnance lunettes" in listing.content and b"Non lu" in listing.content
    assert b"Ordonnance lunettes" not in search(client, q="radio").content
    post_form(client, "/documents/", {"clear": "1"})

    page = client.get(f"/documents/{doc.uuid}/")
    assert page.status_code == 200 and b"<iframe" in page.content
    assert b"Non lu" not in client.get("/documents/").content  # opened: now read

    inline = client.get(f"/documents/{doc.uuid}/contenu/")
    assert inline["Content-Type"] == "application/pdf" and b"".join(inline.streaming_content) == content
    csp = inline["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and inline["X-Frame-Options"] == "SAMEORIGIN"
    download = client.get(f"/documents/{doc.uuid}/fichier/")
    assert download["Content-Disposition"].startswith("attachment") and b"".join(download.streaming_content) == content

    confirm = client.get(f"/documents/{doc.uuid}/supprimer/")
    assert b"Supprimer d\xc3\xa9finitivement" in confirm.content
    response = post_form(client, f"/documents/{doc.uuid}/supprimer/", {})
    assert response.status_code == 302
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.DELETED and not Blob.objects.exists()
    assert b"lunettes" not in client.get("/documents/").content
    assert "Suppression d&#x27;un document" in client.get("/historique/").content.decode() or \
        AccessEvent.objects.filter(person=me, action="document.delete").exists()


def test_a_refused_file_shows_a_readable_error_and_stores_nothing(signed_in):
    client, me = signed_in
    response = upload(client, b"<html><body>not a document</body></html>", filename="analyse.pdf")
    assert response.status_code == 400
    assert "fr-error-text" in response.content.decode() or "fr-message--error" in response.content.decode()
    assert not Document.objects.exists() and not Blob.objects.exists()


def test_upload_without_csrf_token_is_refused(signed_in):
    client, _me = signed_in
    response = client.post("/documents/ajouter/", {"type_code": "DOCPAT03",
                                                    "file": SimpleUploadedFile("a.pdf", make_pdf())})
    assert response.status_code == 403 and not Document.objects.exists()


def test_professional_document_can_be_masked_but_not_edited_or_deleted(signed_in):
    client, me = signed_in
    doc = actions.add_document(None, me, content=make_pdf(), type_code="11488-4", source=DocumentSource.PROFESSIONAL,
                               author=Author(AuthorKind.PROFESSIONAL, "Dr Durand"))
    page = client.get(f"/documents/{doc.uuid}/").content.decode()
    assert "Modifier les informations" not in page and f"/documents/{doc.uuid}/supprimer/" not in page
    assert client.get(f"/documents/{doc.uuid}/modifier/").status_code == 302
    post_form(client, f"/documents/{doc.uuid}/", {"change": "mask"},
              action=f"/documents/{doc.uuid}/confidentialite/")
    doc.refresh_from_db()
    assert doc.masked_to_professionals
    assert client.get(f"/documents/{doc.uuid}/supprimer/").status_code == 302
    post_form(client, f"/documents/{doc.uuid}/", {}, action=f"/documents/{doc.uuid}/supprimer/")
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.CURRENT


def test_edit_own_document(signed_in):
    client, me = signed_in
    doc = actions.add_document(me, me, content=make_pdf(), type_code="DOCPAT03", title="Avant")
    response = post_form(client, f"/documents/{doc.uuid}/modifier/",
                         {"title": "Après", "type_code": "DOCPAT06", "act_date": "2026-01-15"})
    assert response.status_code == 302
    doc.refresh_from_db()
    assert (doc.title, doc.type_code, doc.act_date.date().isoformat()) == ("Après", "DOCPAT06", "2026-01-15")


def test_structured_cda_is_rendered_as_escaped_sections(signed_in):
    client, me = signed_in
    content = (CDA_30 / "IMG-DA-IMG_2024.01_Radiographie_ChevilleGenou.xml").read_bytes()
    doc = actions.add_document(me, me, content=content, filename="cr.xml")
    page = client.get(f"/documents/{doc.uuid}/").content.decode()
    assert "carnet-cda-section" in page and "<script" not in page.split("<main")[1].split("</main>")[0]
    raw = client.get(f"/documents/{doc.uuid}/contenu/")
    assert raw["Content-Disposition"].startswith("attachment")  # XML is never shown inline


def test_folders_create_move_and_delete(signed_in):
    client, me = signed_in
    post_form(client, "/documents/dossiers/", {"action": "create", "name": "Arrêts de travail"})
    folder = Folder.objects.get(person=me)
    doc = actions.add_document(me, me, content=make_pdf(), type_code="DOCPAT03")
    post_form(client, f"/documents/{doc.uuid}/", {"folder": str(folder.uuid)}, action=f"/documents/{doc.uuid}/ranger/")
    doc.refresh_from_db()
    assert doc.folder == folder
    assert b"Arr\xc3\xaats de travail" in client.get("/documents/", {"folder": str(folder.uuid)}).content
    post_form(client, "/documents/dossiers/", {"action": "delete", "folder": str(folder.uuid)})
    doc.refresh_from_db()
    assert doc.folder is None and not Folder.objects.exists()


def test_parent_sees_child_documents_and_stranger_gets_404(csrf_client, family, represented_child):
    parent, child = represented_child
    doc = actions.add_document(None, child, content=make_pdf(), type_code="DOCPAT03", source=DocumentSource.INSURER)
    hidden = actions.add_document(None, child, content=make_pdf("x"), type_code="DOCPAT03",
                                  source=DocumentSource.PROFESSIONAL, hidden_from_representatives=True)
    sign_in(csrf_client, parent)
    session = csrf_client.session
    session["acting_for"] = str(child.uuid)
    session.save()
    listing = csrf_client.get("/documents/").content.decode()
    assert f"/documents/{doc.uuid}/" in listing and f"/documents/{hidden.uuid}/" not in listing
    assert csrf_client.get(f"/documents/{hidden.uuid}/").status_code == 404
    assert AccessEvent.objects.filter(person=child, actor=parent.person, action="record.read",
                                      channel="portal").exists()

    stranger = family.holder()
    other = type(csrf_client)(enforce_csrf_checks=True)
    sign_in(other, stranger)
    assert other.get(f"/documents/{doc.uuid}/").status_code == 404
    assert other.get(f"/documents/{doc.uuid}/fichier/").status_code == 404


def test_tampered_document_is_never_served(signed_in, settings):
    from pathlib import Path

    from django.core.files.storage import storages

    client, me = signed_in
    doc = actions.add_document(me, me, content=make_pdf(), type_code="DOCPAT03")
    path = Path(storages["vault"].path(doc.blob.storage_name))
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    response = client.get(f"/documents/{doc.uuid}/fichier/")
    assert response.status_code == 500 and b"%PDF" not in response.content
    assert re.search(rb"Document illisible", response.content)


def test_cda_with_a_pdf_body_or_attachments_shows_them(signed_in):
    client, me = signed_in
    # a non-XML body (the whole document is an embedded PDF): no published sample has one, so built here
    from tests.interop.builders import cda, non_xml

    doc = actions.add_document(me, me, content=cda(non_xml(make_pdf("Compte rendu"))), filename="cr.xml")
    page = client.get(f"/documents/{doc.uuid}/").content.decode()
    assert f"/documents/{doc.uuid}/pdf/" in page
    embedded = client.get(f"/documents/{doc.uuid}/pdf/")
    assert embedded["Content-Type"] == "application/pdf" and b"".join(embedded.streaming_content).startswith(b"%PDF")
    # a structured body carrying a copy of the report as a PDF attachment
    structured = (CDA_30 / "BIO-CR-BIO_2024.01_CR-2nde-intention-PDF.xml").read_bytes()
    doc = actions.add_document(me, me, content=structured, filename="cr-bio.xml")
    assert doc.category == "BIOLOGIE"
    page = client.get(f"/documents/{doc.uuid}/").content.decode()
    assert "Hématologie" in page and f"/documents/{doc.uuid}/pdf/?piece=0" in page
    piece = client.get(f"/documents/{doc.uuid}/pdf/", {"piece": "0"})
    assert piece.status_code == 200
    assert client.get(f"/documents/{doc.uuid}/pdf/", {"piece": "9"}).status_code == 404


def test_dicom_study_shows_its_facts_and_preview(signed_in):
    from pathlib import Path

    from pydicom.data import get_testdata_file

    client, me = signed_in
    doc = actions.add_document(me, me, content=Path(get_testdata_file("CT_small.dcm")).read_bytes(),
                               type_code="DOCPAT04")
    page = client.get(f"/documents/{doc.uuid}/").content.decode()
    assert "CT" in page and f"/documents/{doc.uuid}/apercu/" in page
    preview = client.get(f"/documents/{doc.uuid}/apercu/")
    assert preview["Content-Type"] == "image/png" and b"".join(preview.streaming_content).startswith(b"\x89PNG")
    assert "sandbox" in preview["Content-Security-Policy"]


def test_self_presenting_cda_is_read_as_data_and_only_downloaded(signed_in):
    """ci-sis-3.0/CANCER-PPS_2022.01_Autopresentable.xml: an XSLT stylesheet carrying the CDA."""
    client, me = signed_in
    doc = actions.add_document(me, me, content=(CDA_30 / "CANCER-PPS_2022.01_Autopresentable.xml").read_bytes(),
                               filename="pps.xml")
    assert doc.format == "cda" and doc.details["cda"]["self_presenting"] is True
    page = client.get(f"/documents/{doc.uuid}/").content.decode()
    assert "carnet-cda-section" in page and "xsl:" not in page
    raw = client.get(f"/documents/{doc.uuid}/contenu/")
    assert raw["Content-Disposition"].startswith("attachment") and raw["X-Content-Type-Options"] == "nosniff"


def test_pinned_documents_filter(signed_in):
    client, me = signed_in
    pinned = actions.add_document(me, me, content=make_pdf("a"), type_code="DOCPAT03", title="Groupe sanguin")
    actions.add_document(me, me, content=make_pdf("b"), type_code="DOCPAT03", title="Radio du genou")
    post_form(client, f"/documents/{pinned.uuid}/", {"change": "pin"}, action=f"/documents/{pinned.uuid}/marque/")
    listing = client.get("/documents/", {"pinned": "on"}).content.decode()
    assert "Groupe sanguin" in listing and "Radio du genou" not in listing and "Épinglé" in listing


def test_search_words_never_appear_in_a_url(signed_in):
    client, me = signed_in
    actions.add_document(me, me, content=make_pdf(), type_code="DOCPAT03", title="Sérologie VIH")
    response = post_form(client, "/documents/", {"q": "VIH"})
    assert response.status_code == 302 and "VIH" not in response["Location"]
    page = client.get("/documents/").content.decode()
    assert "Sérologie VIH" in page
    assert client.get("/documents/", {"q": "autre chose"}).content.decode().count("Sérologie VIH") >= 1  # ignored
    assert not re.search(r'href="[^"]*VIH', page)


def test_confidentiality_defaults_mask_new_and_existing_documents(signed_in):
    client, me = signed_in
    before = actions.add_document(me, me, content=make_pdf("a"), type_code="DOCPAT03")
    response = post_form(client, "/confidentialite/", {"new_documents_masked": "on", "care_history_masked": "on",
                                                       "apply_to_existing": "on"})
    assert response.status_code == 302
    before.refresh_from_db()
    assert before.masked_to_professionals
    after = actions.add_document(None, me, content=make_pdf("b"), type_code="11488-4",
                                 source=DocumentSource.PROFESSIONAL)
    assert after.masked_to_professionals
    assert actions.settings_of(me).care_history_masked
    assert AccessEvent.objects.filter(person=me, action="settings.confidentiality").exists()
    page = client.get("/confidentialite/").content.decode()
    assert "2 documents sur 2 sont masqués" in page
    post_form(client, "/confidentialite/", {"apply_to_existing": "on"})
    before.refresh_from_db()
    assert not before.masked_to_professionals and not actions.settings_of(me).new_documents_masked
