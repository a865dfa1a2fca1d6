"""Documents through the patient API: multipart upload, list with filters and paging, content,
edit, confidentiality, delete, marks, folders; represented profiles; errors as JSON."""

import pytest

from carnet.record import actions
from carnet.record.enums import DocumentSource
from carnet.record.models import Document
from carnet.sharing.models import AccessEvent
from carnet.vault.models import Blob
from tests.api.conftest import sign_in
from tests.record.conftest import make_pdf

pytestmark = pytest.mark.django_db


def upload(client, content, **fields):
    data = {"type_code": "DOCPAT05", **fields}
    from django.core.files.uploadedfile import SimpleUploadedFile

    data["file"] = SimpleUploadedFile("bilan.pdf", content)
    return client.client.post("/api/documents", data, headers=client._headers(None))


@pytest.fixture
def holder_client(family):
    account = family.holder()
    return sign_in(account), account.person


def test_upload_list_read_and_delete(holder_client):
    client, me = holder_client
    content = make_pdf()
    response = upload(client, content, title="Bilan lipidique")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["title"], body["format"], body["category"], body["holder_owned"]) == (
        "Bilan lipidique", "pdf", "BIOLOGIE", True)

    listing = client.get("/api/documents", {"category": "BIOLOGIE"}).json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == body["id"]
    assert client.get("/api/documents", {"category": "RADIO_SC"}).json()["count"] == 0

    raw = client.get(f"/api/documents/{body['id']}/content")
    assert raw.status_code == 200 and raw["Content-Type"] == "application/pdf"
    assert b"".join(raw.streaming_content) == content

    edited = client.client.patch(f"/api/documents/{body['id']}", {"title": "Bilan 2026", "type_code": "DOCPAT05"},
                                 content_type="application/json", headers=client._headers(None))
    assert edited.status_code == 200 and edited.json()["title"] == "Bilan 2026"
    masked = client.post(f"/api/documents/{body['id']}/confidentiality", {"masked": True})
    assert masked.json()["masked_to_professionals"] is True

    assert client.delete(f"/api/documents/{body['id']}").status_code == 204
    assert client.get(f"/api/documents/{body['id']}").status_code == 404
    assert not Blob.objects.exists()


def test_refused_file_is_a_json_400_and_nothing_is_stored(holder_client):
    client, _me = holder_client
    response = upload(client, b"\x7fELF\x02\x01\x01" + b"\x00" * 100)
    assert response.status_code == 400
    assert response.json()["field"] == "file" and response.json()["detail"]
    assert not Document.objects.exists() and not Blob.objects.exists()


def test_professional_documents_cannot_be_deleted_through_the_api(holder_client):
    client, me = holder_client
    doc = actions.add_document(None, me, content=make_pdf(), type_code="11488-4", source=DocumentSource.PROFESSIONAL)
    response = client.delete(f"/api/documents/{doc.uuid}")
    assert response.status_code == 400 and "masquer" in response.json()["detail"]


def test_paging_and_search(holder_client):
    client, me = holder_client
    for index in range(55):
        actions.add_document(me, me, content=make_pdf(f"document {index}"), type_code="DOCPAT03",
                             title=f"Document {index:02d}")
    first = client.get("/api/documents", {"sort": "title"}).json()
    assert (first["count"], first["pages"], len(first["results"])) == (55, 2, 50)
    assert first["results"][0]["title"] == "Document 00"
    second = client.get("/api/documents", {"sort": "title", "page": 2}).json()
    assert [d["title"] for d in second["results"]] == [f"Document {i}" for i in range(50, 55)]
    assert client.post("/api/documents/search", {"q": "Document 07"}).json()["count"] == 1
    second_page = client.post("/api/documents/search", {"q": "Document", "page": 2, "sort": "title"}).json()
    assert second_page["results"][0]["title"] == "Document 50"
    assert client.get("/api/documents", {"q": "Document 07"}).json()["count"] == 55  # words are not a GET filter


def test_represented_child_and_stranger(family, represented_child):
    parent, child = represented_child
    doc = actions.add_document(None, child, content=make_pdf(), type_code="DOCPAT03", source=DocumentSource.INSURER)
    client = sign_in(parent)
    listing = client.get("/api/documents", {"person": str(child.uuid)}).json()
    assert [d["id"] for d in listing["results"]] == [str(doc.uuid)]
    assert AccessEvent.objects.filter(person=child, actor=parent.person, allowed=True, channel="api").exists()

    stranger = sign_in(family.holder())
    assert stranger.get("/api/documents", {"person": str(child.uuid)}).status_code == 404
    assert stranger.get(f"/api/documents/{doc.uuid}", {"person": str(child.uuid)}).status_code == 404
    assert stranger.get(f"/api/documents/{doc.uuid}").status_code == 404  # not in their own space either
    assert AccessEvent.objects.filter(person=child, allowed=False).exists()


def test_folders_and_move(holder_client):
    client, me = holder_client
    folder = client.post("/api/folders", {"name": "Dentiste"})
    assert folder.status_code == 201
    duplicate = client.post("/api/folders", {"name": "Dentiste"})
    assert duplicate.status_code == 400 and duplicate.json()["field"] == "name"
    doc = actions.add_document(me, me, content=make_pdf(), type_code="DOCPAT03")
    moved = client.post("/api/documents/move", {"documents": [str(doc.uuid)], "folder": folder.json()["id"]})
    assert moved.json() == {"moved": 1}
    assert client.get("/api/documents", {"folder": folder.json()["id"]}).json()["count"] == 1
    assert client.post(f"/api/documents/{doc.uuid}/marks", {"read": True, "pinned": True}).status_code == 204


def test_document_types_a_holder_may_choose(holder_client):
    client, _me = holder_client
    types = client.get("/api/document-types").json()
    assert {"code": "DOCPAT05", "label": "CR de biologie déposé par le patient", "category": "BIOLOGIE"} in types


def test_an_upload_cut_off_mid_body_stores_nothing(holder_client):
    """The connection drops halfway through the file: the request is refused and nothing is kept."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    client, _me = holder_client
    body = encode_multipart(BOUNDARY, {"type_code": "DOCPAT03",
                                       "file": SimpleUploadedFile("scan.pdf", make_pdf("x" * 2000))})
    cut = body[: len(body) // 2]
    response = client.client.generic("POST", "/api/documents", cut, content_type=MULTIPART_CONTENT,
                                     headers=client._headers(None))
    assert 400 <= response.status_code < 500
    assert not Document.objects.exists() and not Blob.objects.exists()


def test_confidentiality_defaults_through_the_api(holder_client):
    client, me = holder_client
    actions.add_document(me, me, content=make_pdf(), type_code="DOCPAT03")
    assert client.get("/api/confidentiality").json() == {"new_documents_masked": False,
                                                         "care_history_masked": False, "changed": 0}
    answer = client.put("/api/confidentiality", {"new_documents_masked": True, "care_history_masked": False,
                                                 "apply_to_existing": True}).json()
    assert answer["changed"] == 1 and Document.objects.get(person=me).masked_to_professionals


def test_a_wrong_type_code_and_an_oversized_file_are_clear_errors_storing_nothing(holder_client, settings):
    client, _me = holder_client
    wrong = upload(client, make_pdf(), type_code="ZZZ-99")
    assert wrong.status_code == 400 and wrong.json()["field"] == "type_code"
    settings.CARNET_MAX_DOCUMENT_BYTES = 1000
    big = upload(client, make_pdf("x" * 3000))
    assert big.status_code == 413 and big.json()["detail"]
    assert not Document.objects.exists() and not Blob.objects.exists()
