"""The delegation certificate (attestation / justificatif d'accès): a PDF filed in the holder's documents,
readable, passing the service's own PDF checks, naming both people and what the caregiver may and may not do."""

import io

import pytest
from pypdf import PdfReader

from carnet.caregivers import actions
from carnet.caregivers.certificate import build_certificate_pdf
from carnet.interop.formats import inspect_bytes
from carnet.record.enums import DocumentSource
from carnet.record.models import Document
from carnet.vault import services as vault

pytestmark = pytest.mark.django_db


def text_of(document: Document) -> str:
    reader = PdfReader(io.BytesIO(vault.read_bytes(document.blob)))
    return " ".join((page.extract_text() or "") for page in reader.pages).replace("\n", " ")


def test_the_certificate_filed_at_acceptance_names_both_people_dates_and_rights(holder, caregiver, delegation):
    document = delegation.certificate
    assert document.person == holder and document.type_code == "DOCPAT09" and document.category == "DOC_ADM"
    assert document.source == DocumentSource.HOLDER and document.format == "pdf"
    assert caregiver.full_name in document.title
    text = text_of(document)
    for expected in (holder.full_name, caregiver.full_name, "Attestation d'accès d'un aidant", "Accès accordé le",
                     "consulter les documents", "L'aidant ne peut pas", "gérer les accès des professionnels",
                     "supprimer des documents", str(delegation.uuid)):
        assert expected in text, expected
    assert holder.nir not in text and caregiver.nir not in text  # identity traits, not the NIR


def test_the_certificate_passes_the_pdf_checks_of_any_upload(delegation):
    pdf = vault.read_bytes(delegation.certificate.blob)
    assert inspect_bytes(pdf).kind == "pdf"
    assert b"/JavaScript" not in pdf and b"/OpenAction" not in pdf


def test_the_updated_certificate_at_the_end_says_who_ended_it_and_when(holder, caregiver, delegation):
    ended = actions.end_delegation(holder, delegation.uuid)
    text = text_of(ended.certificate)
    assert "Attestation de fin d'accès d'un aidant" in text
    assert "Accès terminé le" in text and f"à la demande de {holder.full_name}" in text
    assert Document.objects.filter(person=holder, type_code="DOCPAT09").count() == 2


def test_the_certificate_is_built_before_anything_is_stored(delegation):
    pdf = build_certificate_pdf(delegation)
    assert pdf.startswith(b"%PDF-")
