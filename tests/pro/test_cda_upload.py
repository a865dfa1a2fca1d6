"""A CDA sent by itself through the pro portal's upload or the patient portal's upload is indexed from its header,
as through FHIR (issue 5, "CDA R2"): type, title, act date, author RPPS and the patient's INS, which must be the
person's (identity vigilance, as `fhir.publish` checks it for ITI-65), else the upload is refused and stores
nothing.

Samples used (ANS CI-SIS 3.0 examples, /work/shared/samples/cda/ci-sis-3.0/), expected values read from their XML:
- IMG-DA-IMG_2024.01_Radiographie_ChevilleGenou.xml — structured body (N3): code 55115-0 « Demande d'acte
  d'imagerie », title "Demande d'acte d'imagerie", effectiveTime 20210112111700+0100, first author RPPS
  801234567897 (Charles BOILEAU), patient INS 279035121518989 (test OID 1.2.250.1.213.1.4.10).
- BIO-CR-BIO_2024.01_CR-2nde-intention-PDF.xml — the report carried as an embedded PDF: code 11502-2, title
  "Compte rendu d'examens biologiques", effectiveTime 20240104160527+0100, first author RPPS 801234534765
  (Marcel CAMPARINI), the same patient INS.
The CI-SIS 3.0 set has no CDA with a nonXMLBody: the "PDF" examples embed the PDF in a structured body.
"""

import datetime as dt
import html
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from carnet.record.models import Document
from carnet.sharing.models import AccessEvent
from carnet.vault.models import Blob
from tests.portal.helpers import sign_in
from tests.pro.conftest import pro_sign_in
from tests.pro.helpers import found

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "cda" / "ci-sis-3.0"
PARIS_WINTER = dt.timezone(dt.timedelta(hours=1))
SAMPLE_INS = "279035121518989"
EXPECTED = {
    "IMG-DA-IMG_2024.01_Radiographie_ChevilleGenou.xml": {
        "type_code": "55115-0", "title": "Demande d'acte d'imagerie",
        "act_date": dt.datetime(2021, 1, 12, 11, 17, tzinfo=PARIS_WINTER),
        "author_identifier": "01234567897", "author_label": "Charles BOILEAU"},
    "BIO-CR-BIO_2024.01_CR-2nde-intention-PDF.xml": {
        "type_code": "11502-2", "title": "Compte rendu d'examens biologiques",
        "act_date": dt.datetime(2024, 1, 4, 16, 5, 27, tzinfo=PARIS_WINTER),
        "author_identifier": "01234534765", "author_label": "Marcel CAMPARINI"},
}
SAMPLE_NAMES = sorted(EXPECTED)


def sample(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (SAMPLES / name).read_bytes(), content_type="text/xml")


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def holder(family):
    """The person the samples are about: their INS is the samples' (a test INS, accepted in tests)."""
    return family.holder(age=46, nir=SAMPLE_INS, family_name="PAT-TROIS", given_names="DOMINIQUE")


@pytest.fixture
def other(family):
    """Someone else, whose INS the samples do not carry."""
    return family.holder(age=46)


def pro_upload(doctor, person, name):
    client = Client(enforce_csrf_checks=True)
    pro_sign_in(client, doctor)
    url = found(client, person)
    page = client.get(f"{url}deposer/")
    assert page.status_code == 200
    return client.post(f"{url}deposer/", {"file": sample(name), "title": "", "type_code": "",
                                          "csrfmiddlewaretoken": str(page.context["csrf_token"])})


def portal_upload(account, name):
    client = Client(enforce_csrf_checks=True)
    sign_in(client, account)
    page = client.get(reverse("portal:document_upload"))
    assert page.status_code == 200
    return client.post(reverse("portal:document_upload"), {
        "file": sample(name), "title": "", "type_code": "", "csrfmiddlewaretoken": str(page.context["csrf_token"])})


def assert_indexed_from_header(document: Document, name: str) -> None:
    expected = EXPECTED[name]
    assert document.format == "cda" and document.filename == name
    assert (document.type_code, document.title, document.act_date) == (
        expected["type_code"], expected["title"], expected["act_date"])
    assert (document.author_kind, document.author_identifier, document.author_label) == (
        "professional", expected["author_identifier"], expected["author_label"])
    ins = [i for i in document.details["cda"]["patient_ids"] if i["root"] == "1.2.250.1.213.1.4.10"]
    assert [i["extension"] for i in ins] == [SAMPLE_INS] == [document.person.nir]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_a_cda_filed_through_the_pro_portal_is_indexed_from_its_header(doctor, holder, name):
    response = pro_upload(doctor, holder.person, name)
    assert response.status_code == 302, text(response)[:2000]
    document = Document.objects.get(person=holder.person)
    assert_indexed_from_header(document, name)
    assert document.source == "professional"
    event = AccessEvent.objects.get(person=holder.person, action="document.add")
    assert event.professional == doctor and event.allowed  # the depositor is traced, the header's author indexed


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_a_cda_filed_through_the_patient_portal_is_indexed_from_its_header(holder, name):
    response = portal_upload(holder, name)
    assert response.status_code == 302, text(response)[:2000]
    document = Document.objects.get(person=holder.person)
    assert_indexed_from_header(document, name)
    assert document.source == "holder" and document.author_person == holder.person


def test_a_non_cda_file_keeps_the_filing_professional_as_author(doctor, holder):
    from tests.record.conftest import make_pdf

    client = Client(enforce_csrf_checks=True)
    pro_sign_in(client, doctor)
    url = found(client, holder.person)
    page = client.get(f"{url}deposer/")
    response = client.post(f"{url}deposer/", {
        "file": SimpleUploadedFile("lettre.pdf", make_pdf("Lettre"), content_type="application/pdf"),
        "title": "Lettre", "type_code": "11488-4", "csrfmiddlewaretoken": str(page.context["csrf_token"])})
    assert response.status_code == 302
    assert Document.objects.get(person=holder.person).author_identifier == doctor.national_id


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_a_cda_about_someone_else_is_refused_in_both_portals_and_stores_nothing(doctor, other, name):
    blobs = Blob.objects.count()
    response = pro_upload(doctor, other.person, name)
    assert response.status_code == 400
    assert "concerne un autre patient" in text(response)
    response = portal_upload(other, name)
    assert response.status_code == 400
    assert "concerne un autre patient" in text(response)
    assert not Document.objects.filter(person=other.person).exists()
    assert Blob.objects.count() == blobs
    assert not AccessEvent.objects.filter(person=other.person, action="document.add").exists()
