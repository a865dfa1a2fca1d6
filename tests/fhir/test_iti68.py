"""IHE MHD ITI-68 Retrieve Document: the bytes exactly as filed, with the media type they were filed with, at the
`attachment.url` the DocumentReference gives; FHIR JSON (a Binary) only when asked for; each professional's
retrieval one access event on the document, a refusal too.

Samples: /work/shared/samples/cda/ci-sis-3.0/AVC-AUNV_2022.01.xml and ci-sis-2.41/CR-BIO_2021.01_Electrophorese.xml
(published CI-SIS examples, structured CDA bodies), filed as received.
"""

import base64
import hashlib
import itertools
from pathlib import Path

import pytest

from carnet.record import actions
from carnet.record.actions import Author
from carnet.record.enums import AuthorKind, DocumentSource
from carnet.sharing.models import AccessEvent, Professional
from carnet.sharing.policy import Action
from carnet.sharing.tokens import issue_professional_token

from .conftest import FhirClient, fhir_json

pytestmark = pytest.mark.django_db
SAMPLES = Path("/work/shared/samples/cda")
CDAS = [SAMPLES / "ci-sis-3.0" / "AVC-AUNV_2022.01.xml", SAMPLES / "ci-sis-2.41" / "CR-BIO_2021.01_Electrophorese.xml"]
_rpps = itertools.count(40000000001)


def pro() -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name="Bernard", given_names="Luc",
                                       profession_code="10")


def client_of(professional: Professional) -> FhirClient:
    _row, token = issue_professional_token(professional)
    return FhirClient(token)


@pytest.fixture(params=CDAS, ids=lambda p: p.name)
def filed(request, family):
    """A real CI-SIS CDA filed in an active space by the professional who wrote it."""
    person = family.holder().person
    author = pro()
    content = request.param.read_bytes()
    document = actions.add_document(None, person, content=content, filename=request.param.name,
                                    source=DocumentSource.PROFESSIONAL,
                                    author=Author(AuthorKind.PROFESSIONAL, "Dr Bernard", author.rpps))
    return person, author, document, content


def test_the_attachment_url_gives_back_the_exact_bytes_and_media_type(filed):
    person, author, document, content = filed
    client = client_of(author)
    reference = fhir_json(client.get(f"/fhir/DocumentReference/{document.uuid}"))
    attachment = reference["content"][0]["attachment"]
    assert attachment["contentType"] == "text/xml"

    response = client.get(f"/fhir/{attachment['url']}", headers={"Accept": "text/xml"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    body = b"".join(response.streaming_content)
    assert body == content
    assert int(response["Content-Length"]) == attachment["size"] == len(content)
    sha256 = next(e["valueString"] for e in attachment["extension"] if e["url"].endswith("attachment-sha256"))
    assert hashlib.sha256(body).hexdigest() == sha256
    reads = AccessEvent.objects.filter(person=person, professional=author, action=Action.READ_DOCUMENT)
    assert [(e.allowed, e.reason, e.subject) for e in reads] == [(True, "author", f"document:{document.uuid}")] * 2


def test_any_type_gets_the_bytes_fhir_json_gets_a_binary_and_fhir_xml_is_refused(filed):
    _person, author, document, content = filed
    client = client_of(author)
    raw = client.get(f"/fhir/Binary/{document.uuid}", headers={"Accept": "*/*"})
    assert b"".join(raw.streaming_content) == content
    binary = fhir_json(client.get(f"/fhir/Binary/{document.uuid}"))  # Accept: application/fhir+json
    assert (binary["contentType"], base64.b64decode(binary["data"])) == ("text/xml", content)
    assert client.get(f"/fhir/Binary/{document.uuid}", headers={"Accept": "application/fhir+xml"}).status_code == 406
    by_format = client.get(f"/fhir/Binary/{document.uuid}", {"_format": "text/xml"}, headers={"Accept": "*/*"})
    assert b"".join(by_format.streaming_content) == content


def test_a_professional_without_authorisation_gets_a_403_recorded_and_no_bytes(filed):
    person, _author, document, _content = filed
    stranger = pro()
    response = client_of(stranger).get(f"/fhir/Binary/{document.uuid}", headers={"Accept": "text/xml"})
    assert response.status_code == 403
    assert fhir_json(response)["issue"][0]["details"]["coding"][0]["code"] == "no_authorisation"
    [event] = AccessEvent.objects.filter(person=person, professional=stranger)
    assert (event.action, event.allowed, event.subject) == (Action.READ_DOCUMENT, False, f"document:{document.uuid}")
