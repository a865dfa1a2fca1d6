"""The export file: one ZIP that is itself IHE XDM media, with the FHIR Bundle and the PDF summary beside it.

::

    README.TXT, INDEX.HTM                   what the media holds (ITI TF-2b §3.32.4.1.4)
    IHE_XDM/SUBSET01/METADATA.XML, DOC*     the first space's documents and their XDS metadata
    FHIR/ESPACE01.json                      a FHIR R4 Bundle (collection) of everything in that space
    SYNTHESE/ESPACE01.pdf                   the human-readable summary, in French
    ...SUBSET02, ESPACE02                   each represented space the requester chose

Being XDM itself, the file goes back into ``carnet import_dmp`` as it is (the round trip is tested). Everything is
streamed: documents go from the vault into the ZIP chunk by chunk, querysets are read with ``.iterator()``, the
metadata and the Bundle are written element by element. What stays in memory per document is its file name and
SHA-1 (for METADATA.XML and the replacement links), a few dozen bytes.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.utils import timezone

from carnet.identity.models import INS_OID, Person
from carnet.interop import terminology, xdm
from carnet.interop.xdm_writer import Code, Submission, XdmEntry, XdmFolder, XdmZipWriter, cx, dtm, hl7_text, xcn
from carnet.record.enums import AuthorKind, DocumentStatus
from carnet.record.models import Document, DocumentMark, Folder, XdsFolder
from carnet.record.visibility import visible_documents
from carnet.sharing.policy import Action, Role, decide
from carnet.vault import services as vault

from . import bundle, summary

CONFIDENTIALITY_DMP = "1.2.250.1.213.1.1.4.13"
CONFIDENTIALITY_HL7 = "2.16.840.1.113883.5.25"
PRACTICE_SYSTEM = "1.2.250.1.213.1.1.4.9"  # TRE_A00 / JDV_J04 practice setting
FACILITY_SYSTEM = "1.2.250.1.71.4.2.4"  # TRE_R02 secteur d'activité (JDV_J02)
SOURCE_ID = "1.2.250.1.213.4.1"
EXTENSIONS = {"pdf": ".PDF", "cda": ".XML", "jpeg": ".JPG", "png": ".PNG", "dicom": ".DCM", "dicom-zip": ".ZIP",
              "text": ".TXT"}
ITER_CHUNK = 200
HOLDER_FOLDER_CODE = Code("dossier", "urn:carnet:folder", "Dossier du titulaire")

README = """Carnet - export de vos données de santé
=========================================

Ce support suit le profil IHE XDM (Cross-Enterprise Document Media Interchange).

IHE_XDM/SUBSETnn/   les documents d'un espace et leurs métadonnées (METADATA.XML, ebRIM)
FHIR/ESPACEnn.json  toutes les données de cet espace en FHIR R4 (Bundle de type collection)
SYNTHESE/ESPACEnn.pdf  la synthèse lisible de cet espace

Espaces inclus : {count}
Créé le : {date}
"""
INDEX = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Carnet - export de vos données</title></head>
<body><h1>Carnet - export de vos données</h1>
<p>Ce support suit le profil IHE XDM. Les documents sont dans le dossier IHE_XDM, les données au format
FHIR R4 dans le dossier FHIR, une synthèse lisible dans le dossier SYNTHESE.</p>
<ul>{items}</ul></body></html>
"""


@dataclass(frozen=True)
class Written:
    file_name: str
    sha1: str
    size: int


def unique_id(document: Document) -> str:
    """The document's XDS uniqueId; a document filed without one gets the OID form of its public UUID
    (``2.25.<integer>``, ITU-T X.667), stable across exports, so re-importing an export twice is idempotent."""
    return document.unique_id or f"2.25.{document.uuid.int}"


def exported_documents(space: Person, role: Role):
    """What the requester sees of the space, every version but deleted ones, oldest first (a replaced version
    before its replacement); only documents whose bytes are in the vault."""
    return (visible_documents(space, role, include_history=True).filter(blob__isnull=False)
            .select_related("blob", "blob__person", "person", "replaces", "submission_set")
            .order_by("created_at", "id"))


def _author(document: Document) -> dict[str, str | None]:
    label = document.author_label or ""
    if document.author_kind == AuthorKind.ORGANISATION:
        return {"author_institution": hl7_text(label) or None}
    if not label and not document.author_identifier:
        return {}
    given, _sep, family = hl7_text(label).partition(" ")
    if not family:
        given, family = "", given
    rpps = document.author_identifier if document.author_identifier.isdigit() else ""
    holder = not rpps and document.author_person_id is not None and document.author_person_id == document.person_id
    return {"author_person": xcn(family=family, given=given, rpps=rpps, ins=document.person.nir if holder else "",
                                 ins_oid=INS_OID),
            "author_role": str(AuthorKind(document.author_kind).label) if document.author_kind in AuthorKind.values
            else None}


XDS_KEYS = ("authors", "organisations", "security_labels", "languages", "related", "source_patient")
FLAGS = ("MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX")


def _sender_xds(document: Document) -> dict:
    """The XDS attributes clinical software declared (IHE MHD) that have no column (``details["xds"]``)."""
    found = (document.details or {}).get("xds")
    return found if isinstance(found, dict) else {}


def _cxi(system: str, value: str) -> str:
    """A referenceIdList value (CXi): the identifier, its assigning authority (an OID, or a URI)."""
    if system.startswith("urn:oid:"):
        return f"{hl7_text(value)}^^^&{system[8:]}&ISO"
    return f"{hl7_text(value)}^^^&{system}&URI" if system else hl7_text(value)


def _as_sent(document: Document) -> dict:
    """XdmEntry fields stated as the sender gave them: every author (authorPerson with RPPS, authorRole, the
    organisations as authorInstitution), languageCode, sourcePatientId, referenceIdList."""
    xds = _sender_xds(document)
    out: dict = {}
    people = [a for a in xds.get("authors") or [] if isinstance(a, dict)]
    organisations = [hl7_text(str(o)) for o in xds.get("organisations") or [] if o]
    if people or organisations:
        authors: list[tuple[str | None, str | None, str | None]] = [
            (xcn(family=str(a.get("family") or ""), given=str(a.get("given") or ""), rpps=str(a.get("rpps") or "")),
             None, str(a.get("role") or "") or None) for a in people]
        authors += [(None, organisation, None) for organisation in organisations]
        out.update(author_person=authors[0][0], author_institution=authors[0][1], author_role=authors[0][2],
                   other_authors=tuple(authors[1:]))
    languages = [str(v) for v in xds.get("languages") or [] if v]
    if languages:
        out["language"] = languages[0]
    source = xds.get("source_patient")
    if isinstance(source, dict) and source.get("ins_oid"):
        out["source_patient_id"] = cx(document.person.nir, str(source["ins_oid"]))
    related = [r for r in xds.get("related") or [] if isinstance(r, dict) and r.get("value")]
    if related:
        out["reference_ids"] = tuple(_cxi(str(r.get("system") or ""), str(r["value"])) for r in related)
    return out


def _confidentiality(document: Document) -> tuple[Code, ...]:
    """The DMP flags from the columns, then the sender's own levels (R, V, N) as the FHIR face serves them."""
    sent = [c for c in _sender_xds(document).get("security_labels") or [] if isinstance(c, str) and c not in FLAGS]
    codes = []
    if document.masked_to_professionals:
        codes.append("MASQUE_PS")
    if document.invisible_to_holder and (document.invisible_to_holder_until is None
                                         or document.invisible_to_holder_until > timezone.localdate()):
        codes.append("INVISIBLE_PATIENT")
    if document.hidden_from_representatives:
        codes.append("INVISIBLE_REPRESENTANTS_LEGAUX")
    if not codes and not sent:
        return (Code("N", CONFIDENTIALITY_HL7, "Normal"),)
    out = []
    for code in codes:
        known = terminology.confidentiality(code)
        out.append(Code(code, CONFIDENTIALITY_DMP, str(known.label) if known else code))
    for code in dict.fromkeys(sent):
        known = terminology.confidentiality(code)
        out.append(Code(code, CONFIDENTIALITY_HL7, str(known.label) if known else code))
    return tuple(out)


def carnet(**slots: str) -> dict[str, str]:
    """Carnet slots (``urn:carnet:<name>``), empty values left out."""
    return {f"{xdm.CARNET_SLOT}{name}": value for name, value in slots.items() if value}


@dataclass
class SpaceExtras:
    """What the metadata of a space's documents adds to their columns: folders (XDS Folders and the holder's own),
    the holder's read and pin marks. Small per document (ids and a date), read once per space."""

    folders: list[XdmFolder]
    member_of: dict[int, list[str]]  # document pk -> folder entry ids
    marks: dict[int, tuple[dt.datetime | None, bool]]


def space_extras(space: Person, patient_id: str, exported: set[int], everything: bool) -> SpaceExtras:
    """Folders with at least one exported document (every folder when ``everything``: the holder's own export,
    since a folder's name may say what a document hidden from the requester is about), their members among the
    exported documents, and the holder's marks."""
    folders: list[XdmFolder] = []
    member_of: dict[int, list[str]] = {}
    for folder in Folder.objects.filter(person=space).order_by("created_at", "pk"):
        members = [pk for pk in Document.objects.of(space).filter(folder=folder).values_list("pk", flat=True)
                   if pk in exported]
        if not (members or everything):
            continue
        entry_id = f"Folder{len(folders) + 1:05d}"
        folders.append(XdmFolder(entry_id, f"2.25.{folder.uuid.int}", patient_id, folder.name, (HOLDER_FOLDER_CODE,),
                                 dtm(folder.created_at), carnet(**{xdm.SLOT_HOLDER_FOLDER: "true",
                                                                  xdm.SLOT_CREATED: dtm(folder.created_at)})))
        for pk in members:
            member_of.setdefault(pk, []).append(entry_id)
    through = XdsFolder.documents.through
    for xds_folder in XdsFolder.objects.filter(person=space).order_by("created_at", "pk"):
        members = [pk for pk in through.objects.filter(xdsfolder=xds_folder).values_list("document_id", flat=True)
                   if pk in exported]
        if not (members or everything):
            continue
        entry_id = f"Folder{len(folders) + 1:05d}"
        folders.append(XdmFolder(
            entry_id, xds_folder.unique_id, patient_id, xds_folder.title,
            tuple(Code(c.get("code", ""), c.get("system", ""), c.get("display", "")) for c in xds_folder.codes
                  if isinstance(c, dict) and c.get("code")),
            dtm(xds_folder.updated_at), carnet(**{xdm.SLOT_CREATED: dtm(xds_folder.created_at),
                                                  xdm.SLOT_AUTHOR: xds_folder.author_identifier,
                                                  xdm.SLOT_VERSION: str(xds_folder.version)})))
        for pk in members:
            member_of.setdefault(pk, []).append(entry_id)
    marks = {pk: (read_at, pinned) for pk, read_at, pinned in DocumentMark.objects.filter(
        person=space, reader=space).values_list("document_id", "read_at", "pinned")}
    return SpaceExtras(folders, member_of, marks)


def _carnet_slots(document: Document, extras: SpaceExtras | None) -> dict[str, str]:
    read_at, pinned = extras.marks.get(document.pk, (None, False)) if extras else (None, False)
    submission = document.submission_set
    xds = _sender_xds(document)
    slots = carnet(**{
        xdm.SLOT_SOURCE: document.source, xdm.SLOT_AUTHOR_KIND: document.author_kind,
        xdm.SLOT_AUTHOR_LABEL: document.author_label, xdm.SLOT_AUTHOR_ID: document.author_identifier,
        xdm.SLOT_XDS: " ".join(key for key in XDS_KEYS if key in xds),
        xdm.SLOT_FILE_NAME: document.filename, xdm.SLOT_ARCHIVED: "true" if document.archived else "",
        xdm.SLOT_READ_TIME: dtm(read_at) if read_at else "", xdm.SLOT_PINNED: "true" if pinned else "",
        xdm.SLOT_MASKED_BY_HOLDER: "true" if document.masked_by_holder else "",
    })
    if submission is not None:
        slots.update(carnet(**{f"{xdm.SLOT_SUBMISSION}{name}": value for name, value in (
            ("uniqueId", submission.unique_id), ("sourceId", submission.source_id),
            ("submissionTime", dtm(submission.submitted_at)), ("title", submission.title),
            ("author", submission.author_identifier))}))
    period_end = xds.get("period_end")
    if period_end:
        try:
            slots["serviceStopTime"] = dtm(dt.datetime.fromisoformat(period_end))
        except ValueError:
            pass
    return slots


def xdm_entry(document: Document, written: Written, entry_ids: dict[int, str], patient_id: str,
              extras: SpaceExtras | None = None) -> XdmEntry:
    """The XDS metadata of one exported document (the inverse of what ``record.dmp_import`` reads)."""
    known = terminology.document_type(document.type_code)
    format_code = terminology.format_code(document.format_code) if document.format_code else None
    xds = _sender_xds(document)
    return XdmEntry(
        event_codes=tuple(Code(str(e["code"]), str(e.get("system") or ""), str(e.get("display") or ""))
                          for e in document.event_codes or [] if isinstance(e, dict) and e.get("code")),
        comments=str(xds.get("comment") or ""),
        version=str(document.version), folders=tuple(extras.member_of.get(document.pk, ())) if extras else (),
        extra_slots=_carnet_slots(document, extras),
        entry_id=entry_ids[document.pk], unique_id=unique_id(document), patient_id=patient_id,
        mime_type=document.mime_type, title=document.title, creation_time=dtm(document.created_at),
        service_start_time=dtm(document.act_date) if document.act_date else None,
        type=Code(document.type_code, document.type_system, str(known.label) if known else ""),
        class_code=Code(document.class_code, terminology.CLASS_SYSTEM) if document.class_code else None,
        format=Code(format_code.code, format_code.system or "", str(format_code.label))
        if format_code is not None else None,
        uri=written.file_name, confidentiality=_confidentiality(document),
        practice_setting=Code(document.practice_setting_code, PRACTICE_SYSTEM)
        if document.practice_setting_code else None,
        facility_type=Code(document.facility_type_code, FACILITY_SYSTEM) if document.facility_type_code else None,
        replaces=entry_ids.get(document.replaces_id) if document.replaces_id else None,
        deprecated=document.status == DocumentStatus.SUPERSEDED,
        hash=written.sha1, size=written.size, **{**_author(document), **_as_sent(document)},
    )


def _space_role(requester: Person, space: Person) -> Role | None:
    """The role the policy gives the requester on the space now (asked again at build time: a representation
    ended since the request means that space is left out)."""
    decision = decide(requester, Action.EXPORT_SPACE, space)
    return decision.role if decision.allowed else None


def write_space(writer: XdmZipWriter, number: int, requester: Person, space: Person, role: Role,
                now: dt.datetime) -> int:
    """Documents, METADATA.XML, the FHIR Bundle and the PDF of one space; returns its number of documents."""
    subset = f"SUBSET{number:02d}"
    patient_id = cx(space.nir, INS_OID)
    documents = exported_documents(space, role)
    written: dict[int, Written] = {}
    entry_ids: dict[int, str] = {}
    for index, document in enumerate(documents.iterator(chunk_size=ITER_CHUNK), start=1):
        name = f"DOC{index:05d}{EXTENSIONS.get(document.format, '.BIN')}"
        size, sha1 = writer.add_document(subset, name, vault.iter_plaintext(document.blob))
        written[document.pk] = Written(name, sha1, size)
        entry_ids[document.pk] = f"Document{index:05d}"

    extras = space_extras(space, patient_id, set(written), role == Role.HOLDER)

    def entries() -> Iterator[XdmEntry]:
        for document in documents.iterator(chunk_size=ITER_CHUNK):
            if document.pk in written:  # filed while we wrote: it is in the next export
                yield xdm_entry(document, written[document.pk], entry_ids, patient_id, extras)

    submission = Submission(unique_id=f"2.25.{space.uuid.int % (10 ** 30)}{int(now.timestamp())}",
                            source_id=SOURCE_ID, patient_id=patient_id, submission_time=dtm(now),
                            title="Export Carnet")
    writer.add_metadata(subset, submission, entries(), extras.folders)
    with writer.archive.open(f"FHIR/ESPACE{number:02d}.json", "w", force_zip64=True) as member:
        bundle.write_bundle(member, space, documents, now=now, every_folder=role == Role.HOLDER)
    with writer.archive.open(f"SYNTHESE/ESPACE{number:02d}.pdf", "w", force_zip64=True) as member:
        summary.write_summary(member, space, documents, requester=requester)
    return len(written)


def write_export(out: IO[bytes], requester: Person, spaces: list[Person]) -> tuple[int, list[Person]]:
    """The whole export into ``out`` (a file open for writing); returns (documents, spaces included)."""
    now = timezone.now()
    included: list[Person] = []
    total = 0
    # Deflate level 1: the ZIP is encrypted at rest anyway, and level 6 took most of the build time (bench).
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1) as archive:
        writer = XdmZipWriter(archive)
        for space in spaces:
            role = _space_role(requester, space)
            if role is None:
                continue
            included.append(space)
            total += write_space(writer, len(included), requester, space, role, now)
        items = "".join(f"<li>ESPACE{n:02d} : IHE_XDM/SUBSET{n:02d}, FHIR/ESPACE{n:02d}.json, "
                        f"SYNTHESE/ESPACE{n:02d}.pdf</li>" for n in range(1, len(included) + 1))
        writer.add_readme(README.format(count=len(included), date=timezone.localtime(now).isoformat(
            timespec="seconds")), INDEX.format(items=items))
    return total, included
