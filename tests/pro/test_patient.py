"""The patient's page and documents in the pro portal, for the three actors (authorised professional, unrelated
professional, "authorised elsewhere but not here") and the blocked, masked, habilitation and inactive cases.
Every read is an access event, channel "portal"; denials say why in plain French."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from carnet.identity.enums import SpaceStatus
from carnet.notifications.models import Notification
from carnet.record.models import Document
from carnet.sharing.models import AccessEvent, Block, CareRole
from tests.pro.conftest import authorise, make_pro, pro_sign_in
from tests.pro.helpers import add_doc, found, text
from tests.record.conftest import make_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def docs(patient):
    return {
        "consult": add_doc(patient, title="Consultation du 3 mars"),
        "masked": add_doc(patient, title="Consultation masquée", masked=True),
        "residence": add_doc(patient, "ATTEST-RESID", title="Justificatif de domicile"),
        "image": add_doc(patient, title="Photo de la lésion", png=True),
    }


@pytest.fixture
def authorised_doctor(client, doctor, patient):
    authorise(patient, doctor)
    pro_sign_in(client, doctor)
    return doctor


def events(person, **filters):
    return list(AccessEvent.objects.filter(person=person, **filters).order_by("sequence"))


def test_an_authorised_doctor_sees_what_the_policy_allows(client, authorised_doctor, patient, docs):
    response = client.get(found(client, patient))
    page = text(response)
    assert response.status_code == 200
    assert "Consultation du 3 mars" in page and "Photo de la lésion" in page
    assert "Consultation masquée" not in page  # masked: not listed at all
    assert "Justificatif de domicile" not in page  # denied by the matrix: no title...
    assert "Attestation de résidence : 1 document" in page  # ...its type and the reason
    [event] = events(patient, action="record.read")
    assert event.allowed and event.professional == authorised_doctor and event.channel == "portal"


def test_reading_a_document_is_an_access_event(client, authorised_doctor, patient, docs):
    url = found(client, patient)
    response = client.get(f"{url}documents/{docs['consult'].uuid}/")
    assert response.status_code == 200
    assert "Consultation du 3 mars" in text(response)
    [event] = events(patient, action="document.read")
    assert event.allowed and event.subject == f"document:{docs['consult'].uuid}" and event.channel == "portal"


def test_content_has_the_holders_csp_and_no_store_headers(client, authorised_doctor, patient, docs):
    url = found(client, patient)
    image = client.get(f"{url}documents/{docs['image'].uuid}/contenu/")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image["Cache-Control"] == "private, no-store"
    assert "default-src 'none'" in image["Content-Security-Policy"] and "sandbox" in image["Content-Security-Policy"]
    assert image["X-Frame-Options"] == "SAMEORIGIN"
    pdf = client.get(f"{url}documents/{docs['consult'].uuid}/contenu/")
    assert pdf["Content-Type"] == "application/pdf" and "sandbox" not in pdf["Content-Security-Policy"]
    download = client.get(f"{url}documents/{docs['consult'].uuid}/telecharger/")
    assert download["Content-Disposition"].startswith("attachment")
    assert len(events(patient, action="document.read", allowed=True)) == 3


def test_a_masked_document_does_not_exist_for_the_professional(client, authorised_doctor, patient, docs):
    url = found(client, patient)
    assert client.get(f"{url}documents/{docs['masked'].uuid}/").status_code == 404
    assert client.get(f"{url}documents/{docs['masked'].uuid}/contenu/").status_code == 404
    assert events(patient, action="document.read", allowed=False, reason="masked")  # still traced


def test_the_medecin_traitant_reads_masked_documents(client, authorised_doctor, patient, docs):
    CareRole.objects.create(person=patient, professional=authorised_doctor, kind="medecin_traitant")
    url = found(client, patient)
    assert "Consultation masquée" in text(client.get(url))
    assert client.get(f"{url}documents/{docs['masked'].uuid}/").status_code == 200


def test_a_type_the_matrix_denies_is_refused_with_the_reason(client, authorised_doctor, patient, docs):
    response = client.get(f"{found(client, patient)}documents/{docs['residence'].uuid}/")
    assert response.status_code == 403
    assert "Votre profession ne permet pas de consulter ce type de document." in text(response)
    assert "Justificatif de domicile" not in text(response)


def test_an_unrelated_professional_is_told_why_and_offered_to_declare_consent(client, doctor, patient, docs):
    pro_sign_in(client, doctor)
    url = found(client, patient)
    response = client.get(url)
    page = text(response)
    assert response.status_code == 403
    assert "Le titulaire ne vous a pas autorisé à consulter son espace." in page
    assert "Le patient m'a donné son accord" in page
    assert "Consultation du 3 mars" not in page
    assert client.get(f"{url}documents/{docs['consult'].uuid}/").status_code == 403
    assert [e.reason for e in events(patient, allowed=False)] == ["no_authorisation", "no_authorisation"]


def test_authorised_elsewhere_but_not_here(client, authorised_doctor, family, docs):
    other = family.person(status=SpaceStatus.ACTIVE)
    add_doc(other, title="Document d'un autre patient")
    response = client.get(found(client, other))
    assert response.status_code == 403 and "Document d'un autre patient" not in text(response)


def test_a_blocked_professional_is_told_and_offered_nothing(client, authorised_doctor, patient, docs):
    Block.objects.create(person=patient, professional=authorised_doctor, blocked_by=patient)
    response = client.get(found(client, patient))
    page = text(response)
    assert response.status_code == 403
    assert "Le titulaire de cet espace vous a bloqué." in page
    assert "Le patient m'a donné son accord" not in page and "Consultation du 3 mars" not in page


def test_an_inactive_professional_is_told_why(client, authorised_doctor, patient, docs):
    authorised_doctor.active = False
    authorised_doctor.save()
    response = client.get(found(client, patient))
    assert response.status_code == 403
    assert "Votre inscription au répertoire des professionnels n'est pas active." in text(response)


def test_declaring_consent_opens_the_space(csrf_client, doctor, patient, docs):
    pro_sign_in(csrf_client, doctor)
    url = found(csrf_client, patient)
    token = csrf_client.get(url).context["csrf_token"]
    response = csrf_client.post(f"{url}accord/", {"csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302 and response["Location"] == url
    page = csrf_client.get(url)
    assert page.status_code == 200 and "Consultation du 3 mars" in text(page)
    assert Notification.objects.filter(person=patient, code="authorisation_declared").exists()


def test_consent_cannot_be_declared_without_csrf(csrf_client, doctor, patient):
    pro_sign_in(csrf_client, doctor)
    assert csrf_client.post(f"{found(csrf_client, patient)}accord/").status_code == 403
    assert not patient.authorisations.exists()


def test_a_blocked_professional_cannot_declare_consent(client, doctor, patient):
    Block.objects.create(person=patient, professional=doctor, blocked_by=patient)
    pro_sign_in(client, doctor)
    response = client.post(f"{found(client, patient)}accord/")
    assert response.status_code == 403 and "vous a bloqué" in text(response)
    assert not patient.authorisations.exists()


def test_uploading_needs_no_authorisation_to_read(client, doctor, patient):
    pro_sign_in(client, doctor)
    url = found(client, patient)
    assert client.get(f"{url}deposer/").status_code == 200
    upload = make_pdf("Lettre de liaison")
    response = client.post(f"{url}deposer/", {
        "file": SimpleUploadedFile("lettre.pdf", upload, content_type="application/pdf"),
        "title": "Lettre de liaison", "type_code": "11488-4", "act_date": "2026-03-01"})
    assert response.status_code == 302 and response["Location"] == url
    document = Document.objects.get(person=patient, title="Lettre de liaison")
    assert document.source == "professional" and document.author_identifier == doctor.national_id
    assert document.author_label == doctor.full_name
    [event] = events(patient, action="document.add")
    assert event.professional == doctor and event.channel == "portal"
    assert Notification.objects.filter(person=patient, code="document_added").exists()
    page = text(client.get(url))  # still not authorised: but the author reads their own document
    assert "Documents dont vous êtes l'auteur" in page and "Lettre de liaison" in page
    assert client.get(f"{url}documents/{document.uuid}/").status_code == 200


def test_a_bad_file_is_refused_and_nothing_is_written(client, doctor, patient):
    pro_sign_in(client, doctor)
    url = found(client, patient)
    response = client.post(f"{url}deposer/", {
        "file": SimpleUploadedFile("virus.exe", b"MZ\x90\x00not a document", content_type="application/pdf"),
        "type_code": "11488-4"})
    assert response.status_code == 400
    assert not Document.objects.filter(person=patient).exists()
    assert not events(patient, action="document.add")


def test_a_blocked_professional_cannot_upload(client, doctor, patient):
    Block.objects.create(person=patient, professional=doctor, blocked_by=patient)
    pro_sign_in(client, doctor)
    url = found(client, patient)
    response = client.get(f"{url}deposer/")
    assert response.status_code == 403 and "vous a bloqué" in text(response)
    assert events(patient, action="record.write", allowed=False, reason="blocked")


def test_an_unknown_handle_is_404(client, doctor):
    pro_sign_in(client, doctor)
    assert client.get("/pro/patients/nope/").status_code == 404


def test_a_nurse_reads_only_her_types(client, patient):
    nurse = make_pro("60", given_names="Sarah", family_name="VINCENT")
    authorise(patient, nurse)
    add_doc(patient, "11502-2", title="Bilan biologique")
    add_doc(patient, "11488-4", title="Compte rendu")
    pro_sign_in(client, nurse)
    page = text(client.get(found(client, patient)))
    assert "Bilan biologique" in page and "Compte rendu" not in page
