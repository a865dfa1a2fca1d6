"""Mon histoire de santé imports (idempotent, all or nothing) and the PDF synthesis."""

import io

import pytest
from pypdf import PdfReader

from carnet.medical.actions import care, entries
from carnet.medical.enums import Section
from carnet.medical.errors import MedicalError
from carnet.medical.models import CareEpisode
from carnet.medical.synthesis import build_synthesis_pdf

pytestmark = pytest.mark.django_db

ROW = {"id": "L1", "date": "2025-03-14", "category": "medicine", "code_system": "CIP13", "code": "3400930000000",
       "label": "Amoxicilline", "quantity": 1}


def test_import_is_idempotent_and_sealed(holder):
    assert care.import_care_episodes(holder, [ROW]).created == 1
    result = care.import_care_episodes(holder, [ROW, {**ROW, "id": "L2"}])
    assert (result.created, result.already_there) == (1, 1)
    raw = bytes(CareEpisode.objects.first().details)
    assert b"Amoxicilline" not in raw


def test_one_bad_line_refuses_the_whole_import(holder):
    with pytest.raises(MedicalError, match="Ligne 2"):
        care.import_care_episodes(holder, [ROW, {**ROW, "id": "L2", "category": "astrology"}])
    assert not CareEpisode.objects.exists()


def test_synthesis_pdf_contains_the_chosen_sections_only(holder):
    entries.add_entry(holder, holder, Section.ALLERGIES, {"label": "Arachide"})
    entries.add_entry(holder, holder, Section.DISEASES, {"label": "Asthme"})
    pdf = build_synthesis_pdf(holder, [Section.ALLERGIES])
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Arachide" in text and "Asthme" not in text


def test_publish_synthesis_files_a_docpat08_document(holder):
    from carnet.medical.actions.synthesis import publish_synthesis

    entries.add_entry(holder, holder, Section.ALLERGIES, {"label": "Arachide"})
    document = publish_synthesis(holder, holder, [Section.ALLERGIES])
    assert document.type_code == "DOCPAT08" and document.person == holder
