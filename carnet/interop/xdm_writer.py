"""Writing IHE XDM media (ITI TF-2b §3.32): the other half of ``xdm.py``, for the holder's export.

Pure code, no database: the caller gives one ``XdmEntry`` per document (already-formatted XDS values) and the
document's bytes as chunks. Documents are streamed into the ZIP one at a time while their SHA-1 and size are
counted, then ``METADATA.XML`` is written element by element (``etree.xmlfile``), so memory holds one document
chunk and one ExtrinsicObject at a time, whatever the number of documents. The metadata follows ITI TF-3 §4.2.3
(slots, classifications, external identifiers) with the same ebRIM coding that ``xdm.py`` reads, so
``carnet import_dmp`` takes back what this writes. Folders (``XdmFolder``) are written before the entries, as
RegistryPackages classified as Folder, each entry followed by its HasMember links from its folders (§4.2.3.4).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from lxml import etree

from carnet.interop.xdm import (
    ASSOCIATION_RPLC,
    FOLDER_NODE,
    FOLDER_PATIENT,
    FOLDER_UNIQUE,
    ID_PATIENT,
    ID_UNIQUE,
    LCM,
    PS_NATIONAL_ID_OID,
    REFERENCE_ID_LIST,
    RIM,
    SCHEME_AUTHOR,
    SCHEME_CLASS,
    SCHEME_CONFIDENTIALITY,
    SCHEME_EVENT,
    SCHEME_FACILITY,
    SCHEME_FOLDER_CODES,
    SCHEME_FORMAT,
    SCHEME_PRACTICE,
    SCHEME_TYPE,
    STABLE_ENTRY,
)

SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
SS_UNIQUE = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
SS_SOURCE = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
SS_PATIENT = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
CLASSIFICATION_TYPE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification"
HL7_SPECIALS = str.maketrans({"^": " ", "&": " ", "~": " ", "\\": " ", "|": " "})


def dtm(value: dt.datetime | dt.date) -> str:
    """An XDS DTM in UTC (ITI TF-3 §4.2.3.1.5): seconds for a datetime, the day for a date."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
    return value.strftime("%Y%m%d")


def hl7_text(value: str) -> str:
    """A name as an HL7 v2 component: its separators cannot appear inside it (replaced by spaces)."""
    return " ".join(value.translate(HL7_SPECIALS).split())


def cx(number: str, oid: str) -> str:
    """A CX patient id: ``number^^^&OID&ISO``."""
    return f"{number}^^^&{oid}&ISO"


def xcn(*, family: str = "", given: str = "", rpps: str = "", ins: str = "", ins_oid: str = "") -> str:
    """An authorPerson XCN; a professional known by RPPS gets the national PS id ``8`` + RPPS, a patient who is the
    author their INS (``ins`` under ``ins_oid``)."""
    if rpps:
        identifier, authority, suffix = f"8{rpps}", f"&{PS_NATIONAL_ID_OID}&ISO", "^D^^^IDNPS"
    elif ins and ins_oid:
        identifier, authority, suffix = ins, f"&{ins_oid}&ISO", "^^^^INS"
    else:
        identifier, authority, suffix = "", "", ""
    return f"{identifier}^{hl7_text(family)}^{hl7_text(given)}^^^^^^{authority}{suffix}"


@dataclass(frozen=True)
class Code:
    code: str
    scheme: str
    display: str = ""


@dataclass(frozen=True)
class XdmEntry:
    """One document entry, as METADATA.XML states it. ``hash``/``size`` are filled by ``add_document``."""

    entry_id: str
    unique_id: str
    patient_id: str  # CX
    mime_type: str
    title: str
    creation_time: str  # DTM
    type: Code
    class_code: Code | None
    format: Code | None
    uri: str
    service_start_time: str | None = None
    confidentiality: tuple[Code, ...] = ()
    author_person: str | None = None  # XCN
    author_institution: str | None = None  # XON
    author_role: str | None = None
    practice_setting: Code | None = None
    facility_type: Code | None = None
    replaces: str | None = None  # entry id of the entry this one replaces (same subset)
    deprecated: bool = False
    hash: str = ""
    size: int = 0
    extra_slots: dict[str, str] = field(default_factory=dict)
    event_codes: tuple[Code, ...] = ()  # eventCodeList
    comments: str = ""  # rim:Description
    version: str = ""  # rim:VersionInfo versionName (the entry's logical version)
    folders: tuple[str, ...] = ()  # entry ids of the folders (same subset) this document is a member of
    other_authors: tuple[tuple[str | None, str | None, str | None], ...] = ()  # (XCN, XON, role) after the first
    language: str = "fr-FR"  # languageCode
    source_patient_id: str = ""  # sourcePatientId (CX), the patientId when empty
    reference_ids: tuple[str, ...] = ()  # referenceIdList (CXi)


@dataclass(frozen=True)
class XdmFolder:
    """An XDS Folder (ITI TF-3 §4.2.3.4): a RegistryPackage classified as Folder, its documents linked by HasMember
    associations (written with each document entry)."""

    entry_id: str
    unique_id: str
    patient_id: str  # CX
    title: str
    codes: tuple[Code, ...]  # codeList (required by XDS)
    last_update_time: str = ""  # DTM
    extra_slots: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Submission:
    """The SubmissionSet of one subset."""

    unique_id: str
    source_id: str
    patient_id: str  # CX
    submission_time: str  # DTM
    title: str = ""


def _e(tag: str, parent: etree._Element | None = None, **attributes: str) -> etree._Element:
    element = etree.Element(f"{{{RIM}}}{tag}", nsmap={"rim": RIM}) if parent is None else \
        etree.SubElement(parent, f"{{{RIM}}}{tag}")
    for key, value in attributes.items():
        element.set(key, value)
    return element


def _slot(parent: etree._Element, name: str, *values: str) -> None:
    value_list = _e("ValueList", _e("Slot", parent, name=name))
    for value in values:
        _e("Value", value_list).text = value


def _name(parent: etree._Element, value: str) -> None:
    _e("LocalizedString", _e("Name", parent), value=value)


def _classification(parent: etree._Element, scheme: str, object_id: str, code: Code, suffix: str) -> None:
    node = _e("Classification", parent, id=f"cl-{object_id}-{suffix}", classificationScheme=scheme,
              classifiedObject=object_id, nodeRepresentation=code.code, objectType=CLASSIFICATION_TYPE)
    _slot(node, "codingScheme", code.scheme)
    _name(node, code.display or code.code)


def _identifier(parent: etree._Element, object_id: str, scheme: str, value: str, label: str) -> None:
    identifier = _e("ExternalIdentifier", parent, id=f"ei-{object_id}-{label.rsplit('.', 1)[-1]}",
                    registryObject=object_id, identificationScheme=scheme, value=value)
    _name(identifier, label)


def extrinsic_object(entry: XdmEntry) -> etree._Element:
    """The ebRIM ExtrinsicObject of one document entry (ITI TF-3 §4.2.3.2, coded per §4.3)."""
    oid = entry.entry_id
    obj = _e("ExtrinsicObject", id=oid, mimeType=entry.mime_type, objectType=STABLE_ENTRY,
             status=DEPRECATED if entry.deprecated else APPROVED)
    _slot(obj, "creationTime", entry.creation_time)
    _slot(obj, "hash", entry.hash)
    _slot(obj, "languageCode", entry.language)
    if entry.service_start_time:
        _slot(obj, "serviceStartTime", entry.service_start_time)
    _slot(obj, "size", str(entry.size))
    _slot(obj, "sourcePatientId", entry.source_patient_id or entry.patient_id)
    _slot(obj, "URI", entry.uri)
    if entry.reference_ids:
        _slot(obj, REFERENCE_ID_LIST, *entry.reference_ids)
    for key, value in entry.extra_slots.items():
        _slot(obj, key, value)
    if entry.title:
        _name(obj, entry.title)
    if entry.comments:
        _e("LocalizedString", _e("Description", obj), value=entry.comments)
    if entry.version:
        _e("VersionInfo", obj, versionName=entry.version)
    for number, (person, institution, role) in enumerate(
            ((entry.author_person, entry.author_institution, entry.author_role), *entry.other_authors)):
        if not (person or institution):
            continue
        author = _e("Classification", obj, id=f"cl-{oid}-author{number or ''}", classificationScheme=SCHEME_AUTHOR,
                    classifiedObject=oid, nodeRepresentation="", objectType=CLASSIFICATION_TYPE)
        if person:
            _slot(author, "authorPerson", person)
        if institution:
            _slot(author, "authorInstitution", institution)
        if role:
            _slot(author, "authorRole", role)
    if entry.class_code:
        _classification(obj, SCHEME_CLASS, oid, entry.class_code, "class")
    for number, code in enumerate(entry.confidentiality):
        _classification(obj, SCHEME_CONFIDENTIALITY, oid, code, f"conf{number}")
    if entry.format:
        _classification(obj, SCHEME_FORMAT, oid, entry.format, "format")
    for number, code in enumerate(entry.event_codes):
        _classification(obj, SCHEME_EVENT, oid, code, f"event{number}")
    if entry.facility_type:
        _classification(obj, SCHEME_FACILITY, oid, entry.facility_type, "facility")
    if entry.practice_setting:
        _classification(obj, SCHEME_PRACTICE, oid, entry.practice_setting, "practice")
    _classification(obj, SCHEME_TYPE, oid, entry.type, "type")
    _identifier(obj, oid, ID_PATIENT, entry.patient_id, "XDSDocumentEntry.patientId")
    _identifier(obj, oid, ID_UNIQUE, entry.unique_id, "XDSDocumentEntry.uniqueId")
    return obj


def _submission_elements(submission: Submission, package_id: str) -> list[etree._Element]:
    package = _e("RegistryPackage", id=package_id)
    _slot(package, "submissionTime", submission.submission_time)
    if submission.title:
        _name(package, submission.title)
    for scheme, value, label in ((SS_UNIQUE, submission.unique_id, "XDSSubmissionSet.uniqueId"),
                                 (SS_SOURCE, submission.source_id, "XDSSubmissionSet.sourceId"),
                                 (SS_PATIENT, submission.patient_id, "XDSSubmissionSet.patientId")):
        _identifier(package, package_id, scheme, value, label)
    marker = _e("Classification", id=f"cl-{package_id}", classifiedObject=package_id,
                classificationNode=SUBMISSION_SET_NODE)
    return [package, marker]


def folder_elements(folder: XdmFolder, package_id: str) -> list[etree._Element]:
    """A Folder RegistryPackage (title, lastUpdateTime, codeList, uniqueId, patientId), its Folder classification and
    the SubmissionSet's HasMember association to it (ITI TF-3 §4.2.3.4, §4.3.1.2.3)."""
    fid = folder.entry_id
    package = _e("RegistryPackage", id=fid)
    if folder.last_update_time:
        _slot(package, "lastUpdateTime", folder.last_update_time)
    for key, value in folder.extra_slots.items():
        _slot(package, key, value)
    if folder.title:
        _name(package, folder.title)
    for number, code in enumerate(folder.codes):
        _classification(package, SCHEME_FOLDER_CODES, fid, code, f"code{number}")
    _identifier(package, fid, FOLDER_PATIENT, folder.patient_id, "XDSFolder.patientId")
    _identifier(package, fid, FOLDER_UNIQUE, folder.unique_id, "XDSFolder.uniqueId")
    marker = _e("Classification", id=f"cl-{fid}", classifiedObject=fid, classificationNode=FOLDER_NODE)
    member = _e("Association", id=f"as-{fid}", associationType=HAS_MEMBER, sourceObject=package_id,
                targetObject=fid)
    return [package, marker, member]


def _associations(entry: XdmEntry, package_id: str) -> list[etree._Element]:
    member = _e("Association", id=f"as-{entry.entry_id}", associationType=HAS_MEMBER, sourceObject=package_id,
                targetObject=entry.entry_id)
    _slot(member, "SubmissionSetStatus", "Original")
    out = [member]
    for folder_id in entry.folders:  # Folder -> document, itself a member of the SubmissionSet
        link = f"as-{folder_id}-{entry.entry_id}"
        out.append(_e("Association", id=link, associationType=HAS_MEMBER, sourceObject=folder_id,
                      targetObject=entry.entry_id))
        out.append(_e("Association", id=f"as-{link}", associationType=HAS_MEMBER, sourceObject=package_id,
                      targetObject=link))
    if entry.replaces:
        out.append(_e("Association", id=f"rplc-{entry.entry_id}", associationType=ASSOCIATION_RPLC,
                      sourceObject=entry.entry_id, targetObject=entry.replaces))
    return out


def write_metadata(out: IO[bytes], submission: Submission, entries: Iterable[XdmEntry], subset: str,
                   folders: Iterable[XdmFolder] = ()) -> int:
    """Stream ``METADATA.XML`` (an ``lcm:SubmitObjectsRequest``) into ``out``, one entry at a time; returns the
    number of entries written. Folders come first, so that each entry's HasMember links follow it."""
    package_id = f"SubmissionSet-{subset}"
    count = 0
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{LCM}}}SubmitObjectsRequest", nsmap={"lcm": LCM, "rim": RIM}):
            with xf.element(f"{{{RIM}}}RegistryObjectList"):
                for element in _submission_elements(submission, package_id):
                    xf.write(element)
                for folder in folders:
                    for element in folder_elements(folder, package_id):
                        xf.write(element)
                for entry in entries:
                    xf.write(extrinsic_object(entry))
                    for association in _associations(entry, package_id):
                        xf.write(association)
                    count += 1
    return count


class XdmZipWriter:
    """XDM media in an open ``zipfile.ZipFile``: documents streamed in, then each subset's metadata."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive

    def add_document(self, subset: str, file_name: str, chunks: Iterable[bytes]) -> tuple[int, str]:
        """Write one document under ``IHE_XDM/<subset>/``; returns (size, SHA-1 hex) of the bytes written."""
        sha1, size = hashlib.sha1(usedforsecurity=False), 0
        with self.archive.open(f"IHE_XDM/{subset}/{file_name}", "w", force_zip64=True) as member:
            for chunk in chunks:
                sha1.update(chunk)
                size += len(chunk)
                member.write(chunk)
        return size, sha1.hexdigest()

    def add_metadata(self, subset: str, submission: Submission, entries: Iterable[XdmEntry],
                     folders: Iterable[XdmFolder] = ()) -> int:
        with self.archive.open(f"IHE_XDM/{subset}/METADATA.XML", "w", force_zip64=True) as member:
            return write_metadata(member, submission, entries, subset, folders)

    def add_readme(self, readme: str, index_html: str) -> None:
        """``README.TXT`` and ``INDEX.HTM`` at the root (ITI TF-2b §3.32.4.1.4)."""
        self.archive.writestr("README.TXT", readme.replace("\n", "\r\n").encode("utf-8"))
        self.archive.writestr("INDEX.HTM", index_html.encode("utf-8"))
