"""The facts an MHD submission is read into (plain data, checked), the profile's constants and `MhdError`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import terminology
from ..ins import INS_OIDS

if TYPE_CHECKING:
    from ..mhd_folders import FolderInfo

INS_SYSTEMS = {f"urn:oid:{oid}" for oid in INS_OIDS}
RPPS_SYSTEMS = {"urn:oid:1.2.250.1.71.4.2.1", "https://rpps.esante.gouv.fr"}
MHD_LIST_TYPES = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"
IS_ARCHIVED = "http://esante.gouv.fr/cisis/fhir/StructureDefinition/PDSm_isArchived"
SOURCE_ID = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId"
LOINC_URI = "http://loinc.org"
V3_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
MOS = "https://mos.esante.gouv.fr/NOS/{0}/FHIR/{1}"
# Code system OIDs and the URLs the ANS terminology server (MOS/NOS) gives them in FHIR.
SYSTEM_URLS: dict[str, set[str]] = {
    terminology.LOINC: {LOINC_URI},
    terminology.CLASS_SYSTEM: {MOS.format("TRE_A03-ClasseDocument", "TRE-A03-ClasseDocument")},
    terminology.TYPE_DOC_COMPLEMENTAIRE: {MOS.format("TRE_A05-TypeDocComplementaire", "TRE-A05-TypeDocComplementaire")},
    "1.2.250.1.213.1.1.4.13": {MOS.format("TRE_A07-StatusVisibiliteDocument", "TRE-A07-StatusVisibiliteDocument")},
    "2.16.840.1.113883.5.25": {V3_CONFIDENTIALITY},
    "1.2.250.1.71.4.2.4": {MOS.format("TRE_R02-SecteurActivite", "TRE-R02-SecteurActivite")},
    "1.2.250.1.213.1.1.4.9": {MOS.format("TRE_A01-CadreExercice", "TRE-A01-CadreExercice")},
    "1.2.250.1.213.1.1.4.6": {MOS.format("TRE_A00-ProducteurDocNonPS", "TRE-A00-ProducteurDocNonPS")},
    "1.2.250.1.213.1.1.4.2.282": {MOS.format("TRE_A06-FormatCodeComplementaire", "TRE-A06-FormatCodeComplementaire")},
    "1.3.6.1.4.1.19376.1.2.3": {MOS.format("TRE_A11-IheFormatCode", "TRE-A11-IheFormatCode")},
    "1.2.840.10008.2.6.1": {MOS.format("TRE_A09-DICOMuidRegistry", "TRE-A09-DICOMuidRegistry")},
}
MASKING_CODES = ("MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX")
CONFIDENTIALITY_LEVELS = ("N", "R", "V")
DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$")
MAX_ID = 128


class MhdError(Exception):
    """A refusal: HTTP status, FHIR issue type, where (`expression`) and why (French, no health content)."""

    def __init__(self, diagnostics: str, *, expression: str = "", code: str = "invalid", status: int = 422,
                 reason: str = ""):
        self.status, self.code, self.diagnostics = status, code, str(diagnostics)
        self.expression, self.reason = expression, reason
        super().__init__(self.diagnostics)


@dataclass(frozen=True)
class AuthorInfo:
    """A declared author: a person with an RPPS (from a Practitioner or PractitionerRole), or an organisation
    or device known only by name."""

    kind: str  # "practitioner" | "organisation" | "device" | "patient"
    given: str = ""
    family: str = ""
    rpps: str = ""
    role: str = ""
    name: str = ""

    @property
    def label(self) -> str:
        return " ".join(p for p in (self.given, self.family) if p) or self.name

    def as_json(self) -> dict[str, str]:
        return {"given": self.given, "family": self.family, "rpps": self.rpps, "role": self.role}


@dataclass
class PatientRef:
    """Who a resource is about: an INS (OID, number), or one of our Patient ids (`Patient/<uuid>`)."""

    ins_oid: str = ""
    ins_value: str = ""
    local_id: str = ""

    def key(self) -> tuple[str, str, str]:
        return (self.ins_oid, self.ins_value.upper(), self.local_id)


@dataclass
class DocumentInfo:
    """One DocumentReference and its bytes, checked."""

    full_url: str
    unique_id: str
    type_code: str
    type_system: str
    class_code: str
    patient: PatientRef
    date: str
    authors: list[AuthorInfo]
    security_codes: list[str]
    content_type: str
    title: str
    content: bytes
    format_code: str
    facility_type: str
    practice_setting: str
    act_start: dt.datetime | None
    act_end: dt.datetime | None = None
    description: str = ""
    event_codes: list[dict[str, str]] = field(default_factory=list)
    related: list[dict[str, str]] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    replaces: str = ""  # "DocumentReference/<uuid>" or an identifier value (the replaced masterIdentifier)
    archived: bool = False
    binary_full_url: str = ""
    source_patient: dict[str, Any] = field(default_factory=dict)

    @property
    def masked(self) -> bool:
        return "MASQUE_PS" in self.security_codes

    @property
    def invisible_to_holder(self) -> bool:
        return "INVISIBLE_PATIENT" in self.security_codes

    @property
    def hidden_from_representatives(self) -> bool:
        return "INVISIBLE_REPRESENTANTS_LEGAUX" in self.security_codes

    def xds_details(self) -> dict[str, Any]:
        """The XDS facts with no column of their own, for `Document.details["xds"]`."""
        out: dict[str, Any] = {"authors": [a.as_json() for a in self.authors if a.kind == "practitioner"],
                               "related": self.related, "security_labels": self.security_codes,
                               "languages": self.languages}
        organisations = [a.name for a in self.authors if a.kind != "practitioner" and a.name]
        if organisations:
            out["organisations"] = organisations
        if self.description:
            out["comment"] = self.description[:1000]
        if self.act_end:
            out["period_end"] = self.act_end.isoformat()
        if self.source_patient:
            out["source_patient"] = self.source_patient
        return out


@dataclass
class SubmissionInfo:
    """A SubmissionSet List: its uniqueId, source, author and the List as received (for ITI-66)."""

    full_url: str
    unique_id: str
    source_id: str
    title: str
    date: str
    patient: PatientRef
    author_rpps: str
    metadata: dict[str, Any]


@dataclass
class Submission:
    """A whole ITI-65 transaction, in request order (`order`: (resource type, index in its list))."""

    submission_set: SubmissionInfo
    documents: list[DocumentInfo]
    order: list[tuple[str, int]]
    patient: PatientRef
    folders: list[FolderInfo] = field(default_factory=list)  # XDS Folders (mhd_folders), in request order
