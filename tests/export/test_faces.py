"""The export's faces: the portal page "Extraire mes données" (CSRF-enforced posts, password again) and the
patient API (`/api/exports`). Documents: the ci-sis-2.41 examples of conftest.py."""

import io
import zipfile

import pytest

from carnet.export.enums import ExportStatus
from carnet.export.models import Export
from carnet.sharing.models import AccessEvent
from tests.api.conftest import sign_in as api_sign_in
from tests.conftest import PASSWORD
from tests.portal.helpers import csrf_token, sign_in

pytestmark = pytest.mark.django_db
PAGE = "/compte/export/"


def test_portal_request_then_download(space, csrf_client, django_capture_on_commit_callbacks):
    account, person, _documents = space
    sign_in(csrf_client, account)
    assert "Extraire mes données" in csrf_client.get("/compte/").content.decode()  # linked from the account page
    token = csrf_token(csrf_client, PAGE)
    with django_capture_on_commit_callbacks(execute=True):
        response = csrf_client.post(PAGE, {"password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    export = Export.objects.get(person=person)
    assert export.status == ExportStatus.READY
    page = csrf_client.get(PAGE).content.decode()
    link = f"/compte/export/{export.uuid}/"
    assert link in page and "Prêt" in page
    response = csrf_client.get(link)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "IHE_XDM/SUBSET01/METADATA.XML" in archive.namelist()


def test_portal_wrong_password_is_refused(space, csrf_client):
    account, person, _documents = space
    sign_in(csrf_client, account)
    token = csrf_token(csrf_client, PAGE)
    response = csrf_client.post(PAGE, {"password": "mauvais", "csrfmiddlewaretoken": token})
    assert response.status_code == 400
    assert "Mot de passe incorrect." in response.content.decode()
    assert not Export.objects.exists()


def test_portal_download_of_someone_elses_export_is_404_and_recorded(space, family, csrf_client,
                                                                      django_capture_on_commit_callbacks):
    account, person, _documents = space
    from tests.export.conftest import ready_export

    export = ready_export(account, django_capture_on_commit_callbacks)
    stranger = family.holder()
    sign_in(csrf_client, stranger)
    assert csrf_client.get(f"/compte/export/{export.uuid}/").status_code == 404
    assert AccessEvent.objects.filter(person=person, actor=stranger.person, allowed=False,
                                      subject="export:download").count() == 1
    assert str(export.uuid) not in csrf_client.get(PAGE).content.decode()  # not listed either


def test_api_request_follow_and_download(space, django_capture_on_commit_callbacks):
    account, person, _documents = space
    api = api_sign_in(account)
    assert api.post("/api/exports", {"password": "faux"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/exports", {"password": PASSWORD})
    assert response.status_code == 202, response.content
    export_id = response.json()["id"]
    listed = api.get("/api/exports").json()
    assert [e["id"] for e in listed] == [export_id]
    found = api.get(f"/api/exports/{export_id}").json()
    assert found["status"] == "ready" and found["downloadable"] and found["document_count"] == 4
    response = api.get(f"/api/exports/{export_id}/file")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "FHIR/ESPACE01.json" in archive.namelist()


def test_api_someone_elses_export_is_404(space, family, django_capture_on_commit_callbacks):
    account, person, _documents = space
    from tests.export.conftest import ready_export

    export = ready_export(account, django_capture_on_commit_callbacks)
    other = api_sign_in(family.holder())
    assert other.get(f"/api/exports/{export.uuid}").status_code == 404
    assert other.get(f"/api/exports/{export.uuid}/file").status_code == 404


def test_expired_export_is_410_on_both_faces(space, csrf_client, django_capture_on_commit_callbacks):
    account, person, _documents = space
    from tests.export.conftest import ready_export

    export = ready_export(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        Export.objects.filter(pk=export.pk).update(expires_at=export.ready_at)
        from carnet.export.actions import purge_expired

        purge_expired(export.ready_at.date())
    sign_in(csrf_client, account)
    assert csrf_client.get(f"/compte/export/{export.uuid}/").status_code == 410
    assert "Expiré" in csrf_client.get(PAGE).content.decode()
    assert api_sign_in(account).get(f"/api/exports/{export.uuid}/file").status_code == 410
