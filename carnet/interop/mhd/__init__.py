"""IHE MHD as profiled by the ANS (PDSm): reading a Provide Document Bundle (ITI-65) or a Simplified Publish
DocumentReference (ITI-105) into plain facts, checked against the profile, before anything is stored.

Pure code (no database): the FHIR face resolves the patient and the authors, asks the policy and stores. Every
refusal is an `MhdError` naming the element (`expression`) and the rule broken, in French, without health
content (codes, element paths and identifiers of resources in the bundle only).

Rules taken from the PDSm profiles (ansforge/IG-fhir-partage-de-documents-de-sante, input/fsh/profiles):
masterIdentifier, status `current`, type (JDV_J07), category (TRE_A03 class), subject (an INS), date, at least
one author, securityLabel (JDV_J08: one confidentiality level, visibility statuses), attachment contentType,
title, size and SHA-1 hash (ITI-65), format (JDV_J10), context.facilityType (JDV_J02), context.practiceSetting
(JDV_J04), context.period.start. The bytes must match the declared size and hash.

A package by concern: `model` (the facts, constants, `MhdError`), `readers` (JSON readers, value sets),
`references` (patient and authors), `documents` (a DocumentReference and its bytes), `bundle` (ITI-65 and
ITI-105). Everything is importable from `carnet.interop.mhd`, as before the split.
"""

from .bundle import parse_simplified, parse_transaction
from .documents import check_bytes, document_info, security_codes
from .model import (
    CONFIDENTIALITY_LEVELS,
    DATE,
    INS_SYSTEMS,
    IS_ARCHIVED,
    LOINC_URI,
    MASKING_CODES,
    MAX_ID,
    MHD_LIST_TYPES,
    MOS,
    RPPS_SYSTEMS,
    SOURCE_ID,
    SYSTEM_URLS,
    V3_CONFIDENTIALITY,
    AuthorInfo,
    DocumentInfo,
    MhdError,
    PatientRef,
    Submission,
    SubmissionInfo,
)
from .readers import _date, _list, _obj, _str, list_unique_id, master_identifier_value, parse_instant, system_oid
from .references import Resolver, author_info, patient_ref

__all__ = [
    "CONFIDENTIALITY_LEVELS", "DATE", "INS_SYSTEMS", "IS_ARCHIVED", "LOINC_URI", "MASKING_CODES", "MAX_ID",
    "MHD_LIST_TYPES", "MOS", "RPPS_SYSTEMS", "SOURCE_ID", "SYSTEM_URLS", "V3_CONFIDENTIALITY", "AuthorInfo",
    "DocumentInfo", "MhdError", "PatientRef", "Resolver", "Submission", "SubmissionInfo", "_date", "_list", "_obj",
    "_str", "author_info", "check_bytes", "document_info", "list_unique_id", "master_identifier_value", "parse_instant",
    "parse_simplified", "parse_transaction", "patient_ref", "security_codes", "system_oid",
]
