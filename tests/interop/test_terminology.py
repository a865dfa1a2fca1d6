"""Code tables: J07 types, the official type -> class maps (ASS_X16, then ASS_X04), patient categories and
format codes. The value-set JSON must match the SVS files it was generated from."""

import importlib.util
import json

import pytest

from carnet.interop import terminology
from carnet.interop.cda import read_header
from carnet.interop.terminology import (
    CLASS_CATEGORY,
    DOCUMENT_TYPES,
    PatientCategory,
    category_for_type,
    class_for_type,
    confidentiality_codes,
    document_type,
    format_code,
    format_code_for,
    patient_deposit_types,
)
from tests.interop.builders import CDA_30, SAMPLES, cda, non_xml, reportlab_pdf


def test_every_j07_type_is_known_with_its_system_and_label():
    assert len(DOCUMENT_TYPES) == 114
    consult = document_type("11488-4")
    assert (consult.code, consult.system, consult.label) == ("11488-4", "2.16.840.1.113883.6.1",
                                                             "CR ou fiche de consultation ou de visite")
    assert document_type("11488-4", "1.2.250.1.213.1.1.4.12") is None  # right code, wrong system
    assert document_type("NOPE") is None


@pytest.mark.parametrize("code, class_code, category", [
    ("11488-4", "10", PatientCategory.CPT_REND),  # CR de consultation
    ("11502-2", "10", PatientCategory.BIOLOGIE),  # CR d'examens biologiques: class says CR, holder says Biologie
    ("18748-4", "31", PatientCategory.RADIO_SC),  # CR d'imagerie médicale
    ("IMG-KOS", "31", PatientCategory.RADIO_SC),
    ("57833-6", "42", PatientCategory.ORD_SOIN),  # Prescription de produits de santé
    ("60591-5", "11", PatientCategory.SYNTHESE),  # Synthèse médicale
    ("89601-9", "52", PatientCategory.CERT_MED),  # Certificat médical
    ("96173-0", "52", PatientCategory.BIOLOGIE),  # TROD
    ("75492-9", "10", PatientCategory.DEPISTAG),  # dépistage
    ("REMB", "60", PatientCategory.DOC_ADM),
    ("74465-6", "90", PatientCategory.QUEST_SANTE),
    ("FICHE-CONTACTS", "95", PatientCategory.DOC_ADM),  # only in ASS_X04 (CI-SIS), not in the DMP table
    ("DOCPAT01", "11", PatientCategory.SYNTHESE),
    ("DOCPAT04", "31", PatientCategory.RADIO_SC),
    ("DOCPAT05", "10", PatientCategory.BIOLOGIE),
    ("DOCPAT06", "10", PatientCategory.DEPISTAG),
    ("DOCPAT07", "52", PatientCategory.CERT_MED),
    ("DOCPAT08", "11", PatientCategory.SYNTHESE),  # Profil médical Mon espace santé
    ("DOCPAT09", "95", PatientCategory.DOC_ADM),
    ("EXPPAT_1", "90", PatientCategory.DIR_ANT),
    ("EXPPAT_2", "90", PatientCategory.AUTR_DOC),
    ("EXPPAT_3", "90", PatientCategory.DIR_ANT),  # Directives anticipées
])
def test_type_to_class_to_category(code, class_code, category):
    assert class_for_type(code).code == class_code
    assert category_for_type(code) == category


def test_unknown_and_unmapped_types_go_to_autres():
    assert category_for_type("XYZ-123") == PatientCategory.AUTR_DOC
    assert category_for_type("") == PatientCategory.AUTR_DOC
    assert class_for_type("101881-1") is None and category_for_type("101881-1") == PatientCategory.AUTR_DOC


def test_every_j07_type_but_two_has_an_official_class_and_every_class_a_category():
    unmapped = {t.code for t in DOCUMENT_TYPES if class_for_type(t.code) is None}
    assert unmapped == {"101881-1", "E1762"}
    tables = json.loads((terminology.DATA / "type_class.json").read_text())
    assert set(tables["classes"]["concepts"]) == set(CLASS_CATEGORY)
    used = set(tables["dmp"]["map"].values()) | set(tables["cisis"]["map"].values())
    assert used <= set(CLASS_CATEGORY)
    assert class_for_type("11488-4").label == "Compte rendu"


def test_category_labels_are_the_french_ones():
    assert PatientCategory.SYNTHESE.label == "Ma santé en résumé"
    assert PatientCategory.RADIO_SC.label == "Radio/écho/scanner/IRM"
    assert len(PatientCategory.choices) == 11


def test_holders_pick_among_patient_types_but_not_the_generated_profile():
    codes = [t.code for t in patient_deposit_types()]
    assert "DOCPAT08" not in codes
    assert {"DOCPAT01", "DOCPAT07", "DOCPAT09", "EXPPAT_1", "EXPPAT_3"} <= set(codes)
    assert all(document_type(code) for code in codes)
    assert document_type("DOCPAT08").label == "Profil médical Mon espace santé"


def test_confidentiality_codes_come_from_j08():
    assert [c.code for c in confidentiality_codes][:3] == ["N", "R", "V"]
    assert terminology.confidentiality("MASQUE_PS").system == "1.2.250.1.213.1.1.4.13"


def test_format_codes_for_uploads():
    pdf = format_code_for("pdf")
    assert (pdf.code, pdf.system) == ("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3")
    assert format_code_for("jpeg").code == "urn:ihe:iti-fr:xds-sd:jpeg:2010"
    assert format_code_for("text").code == "urn:ihe:iti:xds-sd:text:2008"
    assert format_code_for("png") is None and format_code_for("dicom") is None and format_code_for("dicom-zip") is None
    assert format_code_for("cda") is None  # needs the header


def test_format_codes_for_cda_come_from_templates_or_body_media_type():
    assert format_code_for("cda", read_header(CDA_30 / "eP-MED-DM_2023.01_PosoStruct.xml")).code == \
        "urn:ihe:pharm:pre:2010"
    assert format_code_for("cda", read_header(cda(non_xml(reportlab_pdf())))).code == "urn:ihe:iti:xds-sd:pdf:2008"
    unknown = read_header(cda("<component><structuredBody/></component>"))
    assert format_code_for("cda", unknown).code == "urn:asipSante:modelesHorsProfils:2011"


def test_every_mapped_format_code_is_known():
    tables = json.loads((terminology.DATA / "format_codes.json").read_text())
    for code in [*tables["by_template"]["map"].values(), *tables["by_media_type"]["map"].values()]:
        assert format_code(code) is not None, code
    assert format_code("urn:ans:ci-sis:trod:2024").system == "1.2.250.1.213.1.1.4.2.282"


@pytest.mark.skipif(not (SAMPLES / "valuesets").is_dir(), reason="shared samples not mounted")
def test_value_sets_json_matches_the_svs_files_it_was_built_from():
    spec = importlib.util.spec_from_file_location("build_tables", terminology.DATA / "build_tables.py")
    build_tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_tables)
    stored = json.loads((terminology.DATA / "value_sets.json").read_text())
    for key, name in build_tables.VALUE_SETS.items():
        assert build_tables.read_svs(SAMPLES / "valuesets" / name) == stored[key], key
