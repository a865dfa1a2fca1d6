"""CI-SIS code tables as data: document types (JDV_J07), classes (ASS_X16/TRE_A03), confidentiality (J08),
facility types (J02), practice settings (J04), format codes (J10, ASS_A11/A12) and the patient-facing categories.

The tables live in ``data/*.json`` (sources and commits recorded inside, see ``data/README.md``); this module only
reads them, so updating a value set is a data change, not a code change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from carnet.interop.cda import CdaHeader

DATA = Path(__file__).resolve().parent / "data"
LOINC = "2.16.840.1.113883.6.1"
TYPE_DOC_COMPLEMENTAIRE = "1.2.250.1.213.1.1.4.12"  # TRE_A05_TypeDocComplementaire (DOCPAT*, EXPPAT_*, ...)
CLASS_SYSTEM = "1.2.250.1.213.1.1.4.1"  # TRE_A03_ClasseDocument


@dataclass(frozen=True)
class Code:
    """A coded value as CDA and XDS carry it: code, code system OID and display label."""

    code: str
    system: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class DocumentType:
    """A document type of JDV_J07 (XDS typeCode): LOINC code or TRE_A05 complementary code."""

    code: str
    system: str
    label: str

    @property
    def document_class(self) -> Code | None:
        return class_for_type(self.code)

    @property
    def category(self) -> PatientCategory:
        return category_for_type(self.code)


class PatientCategory(models.TextChoices):
    """How the holder's document list is grouped (the categories of a patient-facing health space)."""

    SYNTHESE = "SYNTHESE", _("Ma santé en résumé")
    ORD_SOIN = "ORD_SOIN", _("Ordonnances et soins")
    RADIO_SC = "RADIO_SC", _("Radio/écho/scanner/IRM")
    BIOLOGIE = "BIOLOGIE", _("Biologie")
    CPT_REND = "CPT_REND", _("Comptes rendus")
    DEPISTAG = "DEPISTAG", _("Prévention et dépistages")
    CERT_MED = "CERT_MED", _("Certificats")
    DOC_ADM = "DOC_ADM", _("Documents administratifs")
    DIR_ANT = "DIR_ANT", _("Directives anticipées")
    QUEST_SANTE = "QUEST_SANTE", _("Questionnaires")
    AUTR_DOC = "AUTR_DOC", _("Autres")


# Class (TRE_A03) -> category. Every class of TRE_A03 has a row, so a type with a known class always lands
# somewhere deliberate.
CLASS_CATEGORY: dict[str, PatientCategory] = {
    "10": PatientCategory.CPT_REND,  # Compte rendu
    "11": PatientCategory.SYNTHESE,  # Synthèse
    "31": PatientCategory.RADIO_SC,  # Imagerie médicale
    "42": PatientCategory.ORD_SOIN,  # Prescription
    "43": PatientCategory.ORD_SOIN,  # Dispensation
    "44": PatientCategory.ORD_SOIN,  # Plan de soins, protocole de soins
    "45": PatientCategory.ORD_SOIN,  # Traitement administré
    "52": PatientCategory.CERT_MED,  # Certificat, déclaration
    "60": PatientCategory.DOC_ADM,  # Données de remboursement
    "90": PatientCategory.AUTR_DOC,  # Autres documents déposés par le patient
    "95": PatientCategory.DOC_ADM,  # Document de gestion
    "99": PatientCategory.AUTR_DOC,  # Document technique
}

# Types whose class is too coarse for a patient: the class says "Compte rendu" for a lab report or "Certificat"
# for a rapid test, but a holder looks for them under Biologie. The patient-deposited types (TRE_A05 DOCPAT*,
# EXPPAT_*) each name the category they were picked under, so they are all listed explicitly.
TYPE_CATEGORY_OVERRIDES: dict[str, PatientCategory] = {
    "11502-2": PatientCategory.BIOLOGIE,  # CR d'examens biologiques (class 10)
    "96173-0": PatientCategory.BIOLOGIE,  # Test rapide d'orientation diagnostique (class 52)
    "51969-4": PatientCategory.BIOLOGIE,  # CR de génétique moléculaire (class 10)
    "75492-9": PatientCategory.DEPISTAG,  # CR d'acte diagnostique à visée préventive ou de dépistage
    "75482-0": PatientCategory.DEPISTAG,  # CR d'acte thérapeutique à visée préventive
    "83869-8": PatientCategory.DEPISTAG,  # Plan personnalisé de prévention (class 44)
    "68817-6": PatientCategory.DEPISTAG,  # Bilan de santé et de prévention de l'enfant (class 11)
    "59283-2": PatientCategory.DEPISTAG,  # CR d'examen de l'enfant (examens obligatoires)
    "11369-6": PatientCategory.DEPISTAG,  # Historique des vaccinations (class 52)
    "87273-9": PatientCategory.DEPISTAG,  # Note de vaccination (class 52)
    "74465-6": PatientCategory.QUEST_SANTE,  # Questionnaire patient (class 90)
    "DOCPAT01": PatientCategory.SYNTHESE,  # Synthèse déposée par le patient
    "DOCPAT02": PatientCategory.ORD_SOIN,  # Traitement ou document de soins déposé par le patient
    "DOCPAT03": PatientCategory.CPT_REND,  # CR déposé par le patient
    "DOCPAT04": PatientCategory.RADIO_SC,  # Imagerie déposée par le patient
    "DOCPAT05": PatientCategory.BIOLOGIE,  # CR de biologie déposé par le patient (class 10)
    "DOCPAT06": PatientCategory.DEPISTAG,  # CR de prévention déposé par le patient (class 10)
    "DOCPAT07": PatientCategory.CERT_MED,  # Certificat déposé par le patient
    "DOCPAT08": PatientCategory.SYNTHESE,  # Profil médical (synthesis generated from the medical profile)
    "DOCPAT09": PatientCategory.DOC_ADM,  # Document administratif déposé par le patient
    "EXPPAT_1": PatientCategory.DIR_ANT,  # Volontés et droits du patient (class 90)
    "EXPPAT_2": PatientCategory.AUTR_DOC,  # Autre document du patient
    "EXPPAT_3": PatientCategory.DIR_ANT,  # Directives anticipées (class 90)
}

# What a holder may pick when adding a document. DOCPAT08 is left out on purpose: the medical-profile synthesis
# is produced by the service from the profile, never uploaded.
PATIENT_DEPOSIT_CODES = ("DOCPAT01", "DOCPAT02", "DOCPAT03", "DOCPAT04", "DOCPAT05", "DOCPAT06", "DOCPAT07",
                         "DOCPAT09", "EXPPAT_1", "EXPPAT_2", "EXPPAT_3", "74465-6")

# inspect_file() kinds -> formatCode (ASS_A12 media type map for the unstructured ones). PNG and DICOM have no
# code in JDV_J10; format_code_for() returns None for them rather than inventing one.
KIND_MEDIA_TYPE = {"pdf": "application/pdf", "text": "text/plain", "jpeg": "image/jpeg"}
NOT_REFERENCED_CDA = "urn:asipSante:modelesHorsProfils:2011"


@cache
def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _codes(value_set: str) -> tuple[Code, ...]:
    return tuple(Code(c["code"], c["system"], c["label"]) for c in _load("value_sets.json")[value_set]["concepts"])


@cache
def _document_types() -> dict[str, DocumentType]:
    return {c.code: DocumentType(c.code, c.system or "", c.label or "") for c in _codes("J07")}


DOCUMENT_TYPES: tuple[DocumentType, ...] = tuple(_document_types().values())
confidentiality_codes: tuple[Code, ...] = _codes("J08")
facility_types: tuple[Code, ...] = _codes("J02")
practice_settings: tuple[Code, ...] = _codes("J04")


def document_type(code: str, system: str | None = None) -> DocumentType | None:
    """The J07 type for a code, or None when unknown (or known under another code system)."""
    found = _document_types().get((code or "").strip())
    if found is None or (system and system != found.system):
        return None
    return found


def class_for_type(code: str) -> Code | None:
    """The XDS class of a type: the DMP table ASS_X16 first, then the CI-SIS table ASS_X04 for the types the DMP
    table does not list (FICHE-CONTACTS, 60280-5, ...). None for types neither table maps (101881-1, E1762)."""
    tables = _load("type_class.json")
    class_code = tables["dmp"]["map"].get(code) or tables["cisis"]["map"].get(code)
    if class_code is None:
        return None
    return Code(class_code, CLASS_SYSTEM, tables["classes"]["concepts"].get(class_code))


def category_for_type(code: str) -> PatientCategory:
    """Where the holder finds a document of this type: explicit override, else via its class, else Autres."""
    code = (code or "").strip()
    if code in TYPE_CATEGORY_OVERRIDES:
        return TYPE_CATEGORY_OVERRIDES[code]
    document_class = class_for_type(code)
    if document_class is None:
        return PatientCategory.AUTR_DOC
    return CLASS_CATEGORY.get(document_class.code, PatientCategory.AUTR_DOC)


def patient_deposit_types() -> tuple[DocumentType, ...]:
    """The types offered to a holder adding a document, in display order."""
    return tuple(_document_types()[code] for code in PATIENT_DEPOSIT_CODES)


def confidentiality(code: str) -> Code | None:
    return next((c for c in confidentiality_codes if c.code == code), None)


@cache
def _format_codes() -> dict[str, Code]:
    tables = _load("format_codes.json")
    known = {c["code"]: Code(c["code"], c["system"], c["label"]) for c in tables["j10"]["concepts"]}
    for code, extra in tables["by_template"]["targets_outside_j10"].items():
        known.setdefault(code, Code(code, extra["system"], extra["label"]))
    return known


def format_code(code: str) -> Code | None:
    """A formatCode (J10, or an ASS_A11 target not yet in J10) with its code system OID and label."""
    return _format_codes().get(code)


def format_code_for(kind: str, cda_header: CdaHeader | None = None) -> Code | None:
    """The XDS formatCode for a stored document.

    ``kind`` is an ``Inspection.kind``. For a CDA the header decides: the media type of a non-XML body (ASS_A12),
    else the most specific templateId known to ASS_A11, else "document non référencé IHE ou CI-SIS".
    PNG, DICOM and DICOM zips have no JDV_J10 code: None, for the caller to decide (e.g. wrap in a CDA)."""
    tables = _load("format_codes.json")
    if kind == "cda":
        if cda_header is None:
            return None
        if cda_header.body_kind == "non-xml":
            by_media_type: dict[str, str] = tables["by_media_type"]["map"]
            code = by_media_type.get((cda_header.non_xml_media_type or "").lower())
            return format_code(code) if code else None
        by_template = tables["by_template"]["map"]
        for template in reversed(cda_header.template_ids):  # the document-specific template comes last
            if template in by_template:
                return format_code(by_template[template])
        return format_code(NOT_REFERENCED_CDA)
    kind_media_type = KIND_MEDIA_TYPE.get(kind)
    if kind_media_type is None:
        return None
    return format_code(tables["by_media_type"]["map"][kind_media_type])
