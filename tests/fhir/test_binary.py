"""Binary read: raw bytes by default, a base64 Binary resource for FHIR JSON, never tampered content."""

import base64
from pathlib import Path

import pytest
from django.core.files.storage import storages

from .conftest import add_pdf, fhir_json, make_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder(family):
    return family.holder()


def test_binary_raw_bytes_are_the_uploaded_bytes(holder, client_for):
    content = make_pdf("Ordonnance")
    from carnet.record import actions

    document = actions.add_document(holder.person, holder.person, content=content, filename="o.pdf",
                                    type_code="DOCPAT02")

    response = client_for(holder).get(f"/fhir/Binary/{document.uuid}", headers={"Accept": "*/*"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == content


def test_binary_as_fhir_json_is_base64_of_the_bytes(holder, client_for):
    content = make_pdf("Certificat")
    from carnet.record import actions

    document = actions.add_document(holder.person, holder.person, content=content, filename="c.pdf",
                                    type_code="DOCPAT07")
    client = client_for(holder)

    resource = fhir_json(client.get(f"/fhir/Binary/{document.uuid}"))
    by_format = fhir_json(client.get(f"/fhir/Binary/{document.uuid}", {"_format": "json"}, headers={"Accept": "*/*"}))

    assert resource["resourceType"] == "Binary"
    assert resource["contentType"] == "application/pdf"
    assert base64.b64decode(resource["data"]) == content
    assert resource["securityContext"] == {"reference": f"DocumentReference/{document.uuid}"}
    assert by_format["data"] == resource["data"]


def test_binary_in_xml_is_refused(holder, client_for):
    document = add_pdf(holder.person, holder.person)
    response = client_for(holder).get(f"/fhir/Binary/{document.uuid}", headers={"Accept": "application/fhir+xml"})
    assert response.status_code == 406
    fhir_json(response)


def test_a_tampered_blob_is_a_500_operation_outcome_and_no_bytes(holder, client_for):
    document = add_pdf(holder.person, holder.person, text="secret")
    path = Path(storages["vault"].path(document.blob.storage_name))
    data = bytearray(path.read_bytes())
    data[60] ^= 1
    path.write_bytes(bytes(data))
    client = client_for(holder)

    for accept in ("*/*", "application/fhir+json"):
        response = client.get(f"/fhir/Binary/{document.uuid}", headers={"Accept": accept})
        assert response.status_code == 500
        outcome = fhir_json(response)
        assert outcome["issue"][0]["code"] == "exception"
        assert b"%PDF" not in response.content


def test_binary_search_is_not_offered(holder, client_for):
    response = client_for(holder).get("/fhir/Binary")
    assert response.status_code == 400
    assert fhir_json(response)["issue"][0]["code"] == "not-supported"
