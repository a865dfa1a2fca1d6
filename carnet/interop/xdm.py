"""IHE XDM media (ITI TF-2b §3.32): a ZIP holding ``IHE_XDM/SUBSET*/METADATA.XML`` and the documents it describes.

``METADATA.XML`` is an ebRIM ``lcm:SubmitObjectsRequest`` (ITI TF-3 §4.2.3 attributes, §4.3 ebRIM coding): one
``rim:ExtrinsicObject`` per document entry, with slots (``creationTime``, ``serviceStartTime``, ``hash`` — SHA-1 in
hex, ``size`` in bytes, ``URI`` — the document's file name relative to its SUBSET folder), classifications (class,
type, format, confidentiality, author with its ``authorPerson`` XCN / ``authorInstitution`` XON slots),
external identifiers (``uniqueId``; ``patientId`` as a CX ``NIR^^^&1.2.250.1.213.1.4.8&ISO``) and the title as
``rim:Name``. ``rim:Association`` of type RPLC says that an entry replaces another. Also read: event codes,
practice setting, facility type, comments (``rim:Description``), the logical version (``rim:VersionInfo``),
``languageCode``, ``sourcePatientId``, ``referenceIdList``, ``serviceStopTime``; XDS Folders (RegistryPackages
classified with the Folder node, §4.2.3.4) with their documents (HasMember associations from the folder); and the
``urn:carnet:*`` slots a Carnet export adds (decision 0012), given as they are to the caller.

The reader is pure (no database): ``open_archive`` checks the ZIP's central directory and parses every subset's
metadata before anything is imported, so an archive that cannot be read is refused whole. Documents are then
extracted one at a time into temporary files while their bytes are counted and hashed, with the limits enforced on
the real decompressed bytes (a header that lies about sizes cannot get past them). Problems with one entry (bad
URI, size or hash mismatch, missing file) are that entry's refusal, with a short code; nothing here ever quotes
document content or titles in an exception.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from lxml import etree

from carnet.interop.errors import UnsupportedFormat
from carnet.interop.formats import safe_xml_parse
from carnet.interop.zips import SAFE_METHODS, ZIP_MAX_RATIO, ZIP_RATIO_FLOOR, _check_member_name

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
NS = {"rim": RIM}
STABLE_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
ON_DEMAND_ENTRY = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"
SCHEME_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
SCHEME_CLASS = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
SCHEME_CONFIDENTIALITY = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
SCHEME_EVENT = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
SCHEME_FORMAT = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
SCHEME_FACILITY = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
SCHEME_PRACTICE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
SCHEME_TYPE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
ID_PATIENT = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
ID_UNIQUE = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
ASSOCIATION_RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
REFERENCE_ID_LIST = "urn:ihe:iti:xds:2013:referenceIdList"  # CXi values (ITI TF-3 §4.2.3.2.28)
FOLDER_NODE = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"  # classificationNode of an XDS Folder
SCHEME_FOLDER_CODES = "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5"  # XDSFolder.codeList
FOLDER_PATIENT = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a"  # XDSFolder.patientId
FOLDER_UNIQUE = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a"  # XDSFolder.uniqueId
CARNET_SLOT = "urn:carnet:"  # slots Carnet adds to its own exports (decision 0012); other readers ignore them
# Their names after the prefix: what XDS has no attribute for.
SLOT_SOURCE = "source"  # who deposited the document (record.enums.DocumentSource)
SLOT_AUTHOR_KIND = "authorKind"  # record.enums.AuthorKind: the holder as author is not a professional
SLOT_FILE_NAME = "fileName"  # the name the file was deposited under
SLOT_ARCHIVED = "isArchived"  # the PDSm is-archived flag (a FHIR extension only)
SLOT_READ_TIME = "readTime"  # DTM: when the holder opened it (read mark)
SLOT_PINNED = "pinned"  # "true": the holder pinned it
SLOT_MASKED_BY_HOLDER = "maskedByHolder"  # "true": the MASQUE_PS is (also) the holder's, not only the author's
SLOT_SUBMISSION = "submissionSet."  # + uniqueId, sourceId, submissionTime, title, author: the set it was filed in
SLOT_HOLDER_FOLDER = "holderFolder"  # on a Folder: "true" for the holder's own folder ("dossier")
SLOT_CREATED = "creationTime"  # on a Folder: DTM of its creation
SLOT_AUTHOR = "author"  # on a Folder: RPPS of the professional who created it
SLOT_VERSION = "version"  # on a Folder: its version
SLOT_AUTHOR_LABEL = "authorLabel"  # the author as Carnet shows it (the XCN/XON carry the same for others)
SLOT_AUTHOR_ID = "authorId"  # the author's identifier as Carnet keeps it (RPPS, FINESS, ...)
SLOT_XDS = "xds"  # which of the sender's XDS attributes the entry states as received (space-separated keys)
STATUS_DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
PS_NATIONAL_ID_OID = "1.2.250.1.71.4.2.1"

MiB = 1024 * 1024
CHUNK = 1 * MiB
METADATA_MAX_BYTES = 64 * MiB
XDM_MAX_ENTRIES = 200_000
METADATA_PATH = re.compile(r"^IHE_XDM/(SUBSET[^/]*)/METADATA\.XML$", re.IGNORECASE)
URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
UNIQUE_ID_MAX = 128

ARCHIVE_MESSAGES = {
    "not_found": "archive introuvable",
    "zip_invalid": "ce fichier n'est pas une archive ZIP lisible",
    "zip_encrypted": "l'archive est chiffrée (protégée par un mot de passe)",
    "zip_unsafe_name": "l'archive contient des chemins de fichiers dangereux (« .. », chemin absolu, lien)",
    "zip_bomb": "l'archive est anormalement compressée ou trop volumineuse une fois décompressée",
    "no_metadata": "aucun fichier IHE_XDM/SUBSET*/METADATA.XML : ce n'est pas un support IHE XDM",
    "metadata_invalid": "un fichier METADATA.XML est illisible (XML mal formé, refusé ou trop volumineux)",
    "metadata_not_ebrim": "un fichier METADATA.XML n'est pas une soumission ebRIM (SubmitObjectsRequest)",
}


class XdmArchiveError(Exception):
    """The archive as a whole cannot be read: nothing is imported. ``code`` for programs, ``message`` in French;
    neither quotes content."""

    def __init__(self, code: str, where: str = ""):
        self.code = code
        self.where = where
        self.message = ARCHIVE_MESSAGES.get(code, code) + (f" ({where})" if where else "")
        super().__init__(code)


class XdmEntryError(Exception):
    """One document entry cannot be taken: its refusal code (``missing_file``, ``size_mismatch``, ...)."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


@dataclass(frozen=True)
class Coded:
    """A classification: code, coding scheme (OID) and display name."""

    code: str
    scheme: str | None = None
    display: str | None = None


@dataclass(frozen=True)
class XdmAuthor:
    """An author classification. ``rpps`` when the authorPerson id is a national PS id "8" + RPPS."""

    person_id: str | None = None
    person_id_oid: str | None = None
    family: str | None = None
    given: str | None = None
    institution: str | None = None
    role: str | None = None
    specialty: str | None = None

    @property
    def rpps(self) -> str | None:
        if self.person_id_oid == PS_NATIONAL_ID_OID and self.person_id and self.person_id.startswith("8"):
            return self.person_id[1:]
        return None

    @property
    def name(self) -> str | None:
        return " ".join(part for part in (self.given, self.family) if part) or None


@dataclass(frozen=True)
class DocumentEntry:
    """One XDS document entry of one subset, as its metadata describes it.

    ``problem`` is set when the metadata itself is unusable for this entry (``metadata:<attribute>``)."""

    subset: str  # the SUBSET folder name, e.g. SUBSET01
    entry_id: str  # the ExtrinsicObject id (symbolic or urn:uuid)
    unique_id: str
    patient_id: str  # the CX value as written
    patient_number: str | None
    patient_oid: str | None
    mime_type: str
    title: str | None
    creation_time: dt.datetime | dt.date | None
    service_start_time: dt.datetime | dt.date | None
    hash: str | None
    size: int | None
    uri: str | None
    path: str | None  # the member of the ZIP the URI designates, when it is safe and present
    type: Coded | None
    document_class: Coded | None
    format: Coded | None
    confidentiality: tuple[Coded, ...] = ()
    authors: tuple[XdmAuthor, ...] = ()
    practice_setting: Coded | None = None
    facility_type: Coded | None = None
    deprecated: bool = False
    replaces_entry_id: str | None = None
    replaces_unique_id: str | None = None
    problem: str | None = None
    event_codes: tuple[Coded, ...] = ()
    service_stop_time: dt.datetime | dt.date | None = None
    comments: str | None = None
    version: str | None = None  # rim:VersionInfo versionName
    language: str | None = None  # languageCode
    source_patient_id: str | None = None  # sourcePatientId (CX)
    reference_ids: tuple[str, ...] = ()  # referenceIdList (CXi)
    folders: tuple[str, ...] = ()  # uniqueIds of the XDS Folders of this subset the entry is a member of
    carnet: dict[str, str] = field(default_factory=dict)  # the urn:carnet:* slots (a Carnet export)

    @property
    def act_time(self) -> dt.datetime | dt.date | None:
        return self.service_start_time or self.creation_time


@dataclass(frozen=True)
class FolderEntry:
    """One XDS Folder of one subset: uniqueId, patient, title, codeList, lastUpdateTime, and Carnet slots."""

    subset: str
    entry_id: str
    unique_id: str
    patient_number: str | None
    patient_oid: str | None
    title: str | None
    codes: tuple[Coded, ...]
    last_update_time: dt.datetime | dt.date | None
    carnet: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExtractedDocument:
    """A document's bytes in a temporary file, with their count and hashes. Django's upload code and
    ``record.actions.add_document`` read it through ``temporary_file_path``."""

    path: str
    size: int
    sha1: str
    sha256: str
    name: str = ""

    def temporary_file_path(self) -> str:
        return self.path


# --- small parsers --------------------------------------------------------------------------------------------

DTM = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?$")


def parse_dtm(value: str | None) -> dt.datetime | dt.date | None:
    """An XDS DTM (``YYYY[MM[DD[hh[mm[ss]]]]]``, always UTC per ITI TF-3 §4.2.3.1.5): an aware UTC datetime when it
    has a time, a date otherwise (precision is not invented)."""
    match = DTM.match((value or "").strip())
    if not match:
        return None
    year, month, day, hour, minute, second = match.groups()
    try:
        date = dt.date(int(year), int(month or 1), int(day or 1))
        if hour is None:
            return date
        return dt.datetime(date.year, date.month, date.day, int(hour), int(minute or 0), int(second or 0),
                           tzinfo=dt.UTC)
    except ValueError:
        return None


def _authority_oid(component: str) -> str | None:
    """``&1.2.250.1.213.1.4.8&ISO`` -> the OID."""
    parts = component.split("&")
    return parts[1].strip() or None if len(parts) >= 2 else None


def parse_cx(value: str) -> tuple[str | None, str | None]:
    """A CX patient id ``number^^^&OID&ISO`` -> (number, OID)."""
    parts = value.strip().split("^")
    number = parts[0].strip() or None
    oid = _authority_oid(parts[3]) if len(parts) > 3 else None
    return number, oid


def parse_xcn(value: str) -> XdmAuthor:
    """An XCN ``id^family^given^^^prefix^^^&OID&ISO^...`` (authorPerson)."""
    parts = value.split("^")

    def part(index: int) -> str | None:
        return parts[index].strip() or None if len(parts) > index else None

    oid = _authority_oid(parts[8]) if len(parts) > 8 else None
    return XdmAuthor(person_id=part(0), person_id_oid=oid, family=part(1), given=part(2))


def _slot_values(element: etree._Element, name: str) -> list[str]:
    for slot in element.findall("rim:Slot", NS):
        if slot.get("name") == name:
            return [(v.text or "").strip() for v in slot.findall("rim:ValueList/rim:Value", NS)]
    return []


def _slot(element: etree._Element, name: str) -> str | None:
    values = [v for v in _slot_values(element, name) if v]
    return values[0] if values else None


def _localized(element: etree._Element) -> str | None:
    found = element.find("rim:Name/rim:LocalizedString", NS)
    value = " ".join((found.get("value") or "").split()) if found is not None else ""
    return value or None


def _coded(classification: etree._Element) -> Coded | None:
    code = (classification.get("nodeRepresentation") or "").strip()
    if not code:
        return None
    return Coded(code, _slot(classification, "codingScheme"), _localized(classification))


def _author(classification: etree._Element) -> XdmAuthor:
    person = _slot(classification, "authorPerson")
    author = parse_xcn(person) if person else XdmAuthor()
    institution = _slot(classification, "authorInstitution")
    return XdmAuthor(
        person_id=author.person_id, person_id_oid=author.person_id_oid, family=author.family, given=author.given,
        institution=(institution.split("^")[0].strip() or None) if institution else None,
        role=_slot(classification, "authorRole"), specialty=_slot(classification, "authorSpecialty"),
    )


# --- the archive ----------------------------------------------------------------------------------------------

def _check_central_directory(archive: zipfile.ZipFile, max_entry_bytes: int) -> list[zipfile.ZipInfo]:
    """Names, encryption, methods, declared sizes, ratios, overlapping entries (formats.py rules, with XDM limits:
    no total cap, since a migration batch may be large, but every entry is capped)."""
    infos = archive.infolist()
    if len(infos) > XDM_MAX_ENTRIES:
        raise XdmArchiveError("zip_bomb")
    for info in infos:
        try:
            _check_member_name(info)
        except UnsupportedFormat as refusal:
            raise XdmArchiveError(refusal.code) from None
        if info.flag_bits & 0x1:
            raise XdmArchiveError("zip_encrypted")
        if info.compress_type not in SAFE_METHODS:
            raise XdmArchiveError("zip_invalid")
        if info.file_size > max(max_entry_bytes, METADATA_MAX_BYTES):
            raise XdmArchiveError("zip_bomb")
        if info.file_size > ZIP_RATIO_FLOOR and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise XdmArchiveError("zip_bomb")
    ordered = sorted(infos, key=lambda info: info.header_offset)
    for current, following in zip(ordered, ordered[1:], strict=False):
        if current.header_offset + current.compress_size > following.header_offset:
            raise XdmArchiveError("zip_bomb")
    return infos


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: IO[bytes], limit: int) -> tuple[int, str, str]:
    """Stream one member into ``out``; returns (size, sha1, sha256). Raises XdmEntryError("zip_bomb") when the
    real bytes exceed the declared size, the limit or the ratio, and ("zip_invalid") on a corrupt stream."""
    sha1, sha256, produced = hashlib.sha1(usedforsecurity=False), hashlib.sha256(), 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(CHUNK):
                produced += len(chunk)
                if produced > info.file_size or produced > limit:
                    raise XdmEntryError("zip_bomb" if produced > info.file_size else "too_large")
                if produced > ZIP_RATIO_FLOOR and produced > ZIP_MAX_RATIO * max(info.compress_size, 1):
                    raise XdmEntryError("zip_bomb")
                sha1.update(chunk)
                sha256.update(chunk)
                out.write(chunk)
    except XdmEntryError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error, NotImplementedError):
        raise XdmEntryError("zip_invalid") from None
    return produced, sha1.hexdigest(), sha256.hexdigest()


class XdmArchive:
    """An opened, checked XDM archive: ``entries`` in metadata order (subset by subset), ``extract`` per entry."""

    def __init__(self, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], entries: list[DocumentEntry],
                 subsets: list[str], max_document_bytes: int, folders: list[FolderEntry] | None = None):
        self._zip = archive
        self._members = members
        self.entries = entries
        self.folders = folders or []
        self.subsets = subsets
        self.max_document_bytes = max_document_bytes

    @contextmanager
    def extract(self, entry: DocumentEntry) -> Iterator[ExtractedDocument]:
        """The entry's bytes in a temporary file (deleted afterwards), checked against the metadata's size and
        hash. Raises XdmEntryError: missing_file, size_mismatch, hash_mismatch, too_large, zip_bomb, zip_invalid."""
        info = self._members.get(entry.path or "")
        if info is None:
            raise XdmEntryError("missing_file")
        if entry.size is not None and info.file_size != entry.size:
            raise XdmEntryError("size_mismatch")
        if info.file_size > self.max_document_bytes:
            raise XdmEntryError("too_large")
        handle = tempfile.NamedTemporaryFile(prefix="carnet-xdm-", delete=False)  # noqa: SIM115
        try:
            with handle:
                size, sha1, sha256 = _read_member(self._zip, info, handle, self.max_document_bytes)
            if entry.size is not None and size != entry.size:
                raise XdmEntryError("size_mismatch")
            if entry.hash is not None and entry.hash.lower() not in (sha1, sha256):
                raise XdmEntryError("hash_mismatch")
            yield ExtractedDocument(handle.name, size, sha1, sha256, PurePosixPath(info.filename).name)
        finally:
            os.unlink(handle.name)


@contextmanager
def open_archive(path: str | Path, *, max_document_bytes: int = 300 * MiB) -> Iterator[XdmArchive]:
    """Open and check an XDM ZIP and read every subset's metadata. Raises XdmArchiveError when the archive as a
    whole is unreadable or unsafe (then nothing should be imported)."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below, after the caller's block
    except FileNotFoundError:
        raise XdmArchiveError("not_found") from None
    except OSError:
        raise XdmArchiveError("zip_invalid") from None
    try:
        try:
            archive = zipfile.ZipFile(fh)
            infos = _check_central_directory(archive, max_document_bytes)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError):
            raise XdmArchiveError("zip_invalid") from None
        members = {info.filename.replace("\\", "/"): info for info in infos if not info.is_dir()}
        folded = {name.lower(): name for name in members}
        metadata = sorted((match.group(1), name) for name in members if (match := METADATA_PATH.match(name)))
        if not metadata:
            raise XdmArchiveError("no_metadata")
        entries: list[DocumentEntry] = []
        folders: list[FolderEntry] = []
        for subset, name in metadata:
            root = _parse_metadata(archive, members[name], f"IHE_XDM/{subset}")
            subset_folders = list(_folders(root, subset))
            folders.extend(subset_folders)
            entries.extend(_entries(root, subset, f"{PurePosixPath(name).parent}", members, folded, subset_folders))
        yield XdmArchive(archive, members, entries, [subset for subset, _name in metadata], max_document_bytes,
                         folders)
    finally:
        fh.close()


def _parse_metadata(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> etree._Element:
    with tempfile.SpooledTemporaryFile(max_size=8 * MiB) as spool:
        try:
            _read_member(archive, info, spool, METADATA_MAX_BYTES)
        except XdmEntryError as error:
            raise XdmArchiveError("zip_bomb" if error.code in ("zip_bomb", "too_large") else "metadata_invalid",
                                  where) from None
        spool.seek(0)
        data = spool.read()
    try:
        root = safe_xml_parse(data).getroot()
    except UnsupportedFormat:
        raise XdmArchiveError("metadata_invalid", where) from None
    if etree.QName(root).localname not in ("SubmitObjectsRequest", "ProvideAndRegisterDocumentSetRequest") or \
            root.find(f".//{{{RIM}}}RegistryObjectList") is None:
        raise XdmArchiveError("metadata_not_ebrim", where)
    return root


def _resolve_uri(uri: str | None, folder: str, members: dict[str, zipfile.ZipInfo],
                 folded: dict[str, str]) -> tuple[str | None, str | None]:
    """(member path, problem). The URI is relative to the subset folder; no scheme, no absolute path, no ``..``."""
    if not uri:
        return None, "metadata:URI"
    cleaned = uri.replace("\\", "/")
    parts = PurePosixPath(cleaned).parts
    if URI_SCHEME.match(cleaned) or cleaned.startswith("/") or ".." in parts or not parts:
        return None, "bad_uri"
    candidate = f"{folder}/{PurePosixPath(*parts)}"
    if candidate in members:
        return candidate, None
    found = folded.get(candidate.lower())  # media written on case-insensitive file systems
    return (found, None) if found else (None, "missing_file")


def _carnet_slots(element: etree._Element) -> dict[str, str]:
    return {name[len(CARNET_SLOT):]: value for slot in element.findall("rim:Slot", NS)
            if (name := slot.get("name") or "").startswith(CARNET_SLOT) and (value := _slot(element, name))}


def _folders(root: etree._Element, subset: str) -> Iterator[FolderEntry]:
    """The XDS Folders of a submission: RegistryPackages classified with the Folder node (the classification inside
    the package or beside it, both are allowed)."""
    marked = {c.get("classifiedObject") for c in root.iter(f"{{{RIM}}}Classification")
              if c.get("classificationNode") == FOLDER_NODE}
    for package in root.iter(f"{{{RIM}}}RegistryPackage"):
        if package.get("id") not in marked:
            continue
        identifiers = {i.get("identificationScheme"): (i.get("value") or "").strip()
                       for i in package.findall("rim:ExternalIdentifier", NS)}
        unique_id = identifiers.get(FOLDER_UNIQUE, "")
        if not unique_id or len(unique_id) > UNIQUE_ID_MAX:
            continue  # a folder without a usable uniqueId is ignored; its documents are imported all the same
        number, oid = parse_cx(identifiers[FOLDER_PATIENT]) if identifiers.get(FOLDER_PATIENT) else (None, None)
        codes = tuple(c for c in (_coded(e) for e in package.findall("rim:Classification", NS)
                                  if e.get("classificationScheme") == SCHEME_FOLDER_CODES) if c)
        yield FolderEntry(subset=subset, entry_id=package.get("id") or "", unique_id=unique_id,
                          patient_number=number, patient_oid=oid, title=_localized(package), codes=codes,
                          last_update_time=parse_dtm(_slot(package, "lastUpdateTime")),
                          carnet=_carnet_slots(package))


def _entries(root: etree._Element, subset: str, folder: str, members: dict[str, zipfile.ZipInfo],
             folded: dict[str, str], folders: list[FolderEntry] | None = None) -> Iterator[DocumentEntry]:
    objects = [o for o in root.iter(f"{{{RIM}}}ExtrinsicObject")
               if o.get("objectType") in (STABLE_ENTRY, ON_DEMAND_ENTRY, None)]
    unique_by_id: dict[str, str] = {}
    for obj in objects:
        for identifier in obj.findall("rim:ExternalIdentifier", NS):
            if identifier.get("identificationScheme") == ID_UNIQUE:
                unique_by_id[obj.get("id") or ""] = (identifier.get("value") or "").strip()
    replaces: dict[str, str] = {}
    folder_ids = {f.entry_id: f.unique_id for f in folders or []}
    in_folders: dict[str, list[str]] = {}
    for association in root.iter(f"{{{RIM}}}Association"):
        kind, source = association.get("associationType"), association.get("sourceObject") or ""
        if kind == ASSOCIATION_RPLC:
            replaces[source] = association.get("targetObject") or ""
        elif kind == HAS_MEMBER and source in folder_ids:
            in_folders.setdefault(association.get("targetObject") or "", []).append(folder_ids[source])
    for obj in objects:
        entry = _entry(obj, subset, folder, members, folded, replaces, unique_by_id)
        found = in_folders.get(entry.entry_id)
        yield dataclasses.replace(entry, folders=tuple(dict.fromkeys(found))) if found else entry


def _entry(obj: etree._Element, subset: str, folder: str, members: dict[str, zipfile.ZipInfo],
           folded: dict[str, str], replaces: dict[str, str], unique_by_id: dict[str, str]) -> DocumentEntry:
    entry_id = obj.get("id") or ""
    identifiers = {i.get("identificationScheme"): (i.get("value") or "").strip()
                   for i in obj.findall("rim:ExternalIdentifier", NS)}
    classified: dict[str, list[etree._Element]] = {}
    for classification in obj.findall("rim:Classification", NS):
        classified.setdefault(classification.get("classificationScheme") or "", []).append(classification)

    def one(scheme: str) -> Coded | None:
        found = classified.get(scheme)
        return _coded(found[0]) if found else None

    problems: list[str] = []
    unique_id = identifiers.get(ID_UNIQUE, "")
    if not unique_id or len(unique_id) > UNIQUE_ID_MAX:
        problems.append("metadata:uniqueId")
    patient_id = identifiers.get(ID_PATIENT, "")
    number, oid = parse_cx(patient_id) if patient_id else (None, None)
    raw_size = _slot(obj, "size")
    size = int(raw_size) if raw_size and raw_size.isdigit() else None
    if raw_size is not None and size is None:
        problems.append("metadata:size")
    raw_hash = _slot(obj, "hash")
    if raw_hash is not None and not re.fullmatch(r"[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64}", raw_hash):
        problems.append("metadata:hash")
        raw_hash = None
    uri = _slot(obj, "URI") or "".join(_slot_values(obj, "URI")) or None
    path, uri_problem = _resolve_uri(uri, folder, members, folded)
    if uri_problem:
        problems.append(uri_problem)
    target = replaces.get(entry_id)
    description = obj.find("rim:Description/rim:LocalizedString", NS)
    version = obj.find("rim:VersionInfo", NS)
    return DocumentEntry(
        subset=subset, entry_id=entry_id, unique_id=unique_id, patient_id=patient_id,
        patient_number=number, patient_oid=oid, mime_type=(obj.get("mimeType") or "").strip().lower(),
        title=_localized(obj), creation_time=parse_dtm(_slot(obj, "creationTime")),
        service_start_time=parse_dtm(_slot(obj, "serviceStartTime")),
        hash=raw_hash, size=size, uri=uri, path=path,
        type=one(SCHEME_TYPE), document_class=one(SCHEME_CLASS), format=one(SCHEME_FORMAT),
        confidentiality=tuple(c for c in (_coded(e) for e in classified.get(SCHEME_CONFIDENTIALITY, [])) if c),
        authors=tuple(_author(e) for e in classified.get(SCHEME_AUTHOR, [])),
        practice_setting=one(SCHEME_PRACTICE), facility_type=one(SCHEME_FACILITY),
        deprecated=obj.get("status") == STATUS_DEPRECATED,
        replaces_entry_id=target, replaces_unique_id=unique_by_id.get(target or "") or None,
        problem=problems[0] if problems else None,
        event_codes=tuple(c for c in (_coded(e) for e in classified.get(SCHEME_EVENT, [])) if c),
        service_stop_time=parse_dtm(_slot(obj, "serviceStopTime")),
        language=_slot(obj, "languageCode"), source_patient_id=_slot(obj, "sourcePatientId"),
        reference_ids=tuple(v for v in _slot_values(obj, REFERENCE_ID_LIST) if v),
        comments=(description.get("value") or "").strip() or None if description is not None else None,
        version=(version.get("versionName") or "").strip() or None if version is not None else None,
        carnet=_carnet_slots(obj),
    )

