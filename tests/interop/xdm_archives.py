"""XDM media built in the tests, as a DMP export would be: ``IHE_XDM/SUBSETnn/METADATA.XML`` (an ebRIM
``lcm:SubmitObjectsRequest`` written per IHE ITI TF-3 §4.2.3 / §4.3: one ExtrinsicObject per document with its slots,
classifications and external identifiers, a SubmissionSet RegistryPackage, HasMember and RPLC associations), the
documents next to it, ``README.TXT`` and ``INDEX.HTM`` at the root (ITI TF-2b §3.32.4.1.4).

Written here with plain lxml, independently of the reader under test (carnet/interop/xdm.py)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from lxml import etree

from tests.interop.builders import CDA_30, CDA_241

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
LOINC = "2.16.840.1.113883.6.1"
NIR_OID = "1.2.250.1.213.1.4.8"
TEST_NIR_OID = "1.2.250.1.213.1.4.10"
CLASS_SYSTEM = "1.2.250.1.213.1.1.4.1"
CONFIDENTIALITY_HL7 = "2.16.840.1.113883.5.25"
CONFIDENTIALITY_DMP = "1.2.250.1.213.1.1.4.13"
MULLER = "801234567897^MULLER^Charles^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
CAMPARINI = "801234534765^CAMPARINI^Marcel^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
LAB = "Laboratoire des charmes^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^31120459876"

# The INS the sample CDAs carry (read from the files; see tests/interop/test_cda_samples.py).
INS_241 = "277076322082910"  # every ci-sis-2.41 example but CSE-CS9, production OID
INS_30 = "279035121518989"  # most ci-sis-3.0 examples, test OID
INS_BAD_KEY = "223042545611404"  # CSE-CS8_2024.01 (production OID): fails the NIR control key


@dataclass
class XdmDocument:
    data: bytes
    unique_id: str
    nir: str
    oid: str = NIR_OID
    type_code: tuple[str, str, str] = ("11502-2", LOINC, "CR d'examens biologiques")
    class_code: tuple[str, str, str] = ("10", CLASS_SYSTEM, "Compte rendu")
    format_code: tuple[str, str, str] = ("urn:ihe:lab:xd-lab:2008", "1.3.6.1.4.1.19376.1.2.3", "CR de biologie")
    confidentiality: tuple[tuple[str, str, str], ...] = (("N", CONFIDENTIALITY_HL7, "Normal"),)
    mime_type: str = "text/xml"
    title: str = "Compte rendu"
    creation_time: str = "20210104150527"
    service_start_time: str | None = None
    author_person: str | None = MULLER
    author_institution: str | None = None
    file_name: str = ""
    hash: str | None = None  # default: SHA-1 of data
    size: int | None = None  # default: len(data)
    uri: str | None = None  # default: file_name
    replaces: str | None = None  # entry id of the document this one replaces
    extra_slots: dict[str, str] = field(default_factory=dict)


def cda_document(path: Path, unique_id: str, nir: str, *, oid: str = NIR_OID, type_code: str = "11502-2",
                 **overrides) -> XdmDocument:
    return XdmDocument(path.read_bytes(), unique_id, nir, oid, type_code=(type_code, LOINC, ""), **overrides)


def sample_241(name: str, unique_id: str, type_code: str, **overrides) -> XdmDocument:
    return cda_document(CDA_241 / name, unique_id, INS_241, type_code=type_code, **overrides)


def sample_30(name: str, unique_id: str, type_code: str, **overrides) -> XdmDocument:
    return cda_document(CDA_30 / name, unique_id, INS_30, oid=TEST_NIR_OID, type_code=type_code, **overrides)


def pdf_document(data: bytes, unique_id: str, nir: str, **overrides) -> XdmDocument:
    fields = dict(mime_type="application/pdf", type_code=("11502-2", LOINC, "CR d'examens biologiques"),
                  format_code=("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3", "PDF"),
                  title="Compte rendu (PDF)", author_person=CAMPARINI, author_institution=LAB)
    fields.update(overrides)
    return XdmDocument(data, unique_id, nir, **fields)  # type: ignore[arg-type]


def _e(tag: str, parent: etree._Element | None = None, **attributes: str) -> etree._Element:
    element = etree.Element(f"{{{RIM}}}{tag}", nsmap={"rim": RIM}) if parent is None else \
        etree.SubElement(parent, f"{{{RIM}}}{tag}")
    for key, value in attributes.items():
        element.set(key, value)
    return element


def _slot(parent: etree._Element, name: str, *values: str) -> None:
    slot = _e("Slot", parent, name=name)
    value_list = _e("ValueList", slot)
    for value in values:
        _e("Value", value_list).text = value


def _name(parent: etree._Element, value: str) -> None:
    _e("LocalizedString", _e("Name", parent), value=value)


def _classification(parent: etree._Element, scheme: str, object_id: str, code: tuple[str, str, str],
                    number: str) -> None:
    node = _e("Classification", parent, id=f"cl-{object_id}-{number}", classificationScheme=scheme,
              classifiedObject=object_id, nodeRepresentation=code[0],
              objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification")
    _slot(node, "codingScheme", code[1])
    _name(node, code[2] or code[0])


def metadata_xml(documents: list[tuple[str, XdmDocument]], subset: str) -> bytes:
    request = etree.Element(f"{{{LCM}}}SubmitObjectsRequest", nsmap={"lcm": LCM, "rim": RIM})
    objects = _e("RegistryObjectList")
    request.append(objects)
    for entry_id, doc in documents:
        obj = _e("ExtrinsicObject", objects, id=entry_id, mimeType=doc.mime_type,
                 objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1",
                 status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved")
        _slot(obj, "creationTime", doc.creation_time)
        _slot(obj, "hash", doc.hash if doc.hash is not None else hashlib.sha1(doc.data).hexdigest())  # noqa: S324
        _slot(obj, "languageCode", "fr-FR")
        if doc.service_start_time:
            _slot(obj, "serviceStartTime", doc.service_start_time)
        _slot(obj, "size", str(doc.size if doc.size is not None else len(doc.data)))
        _slot(obj, "sourcePatientId", f"{doc.nir}^^^&{doc.oid}&ISO")
        _slot(obj, "URI", doc.uri if doc.uri is not None else doc.file_name)
        for key, value in doc.extra_slots.items():
            _slot(obj, key, value)
        _name(obj, doc.title)
        if doc.author_person or doc.author_institution:
            author = _e("Classification", obj, id=f"cl-{entry_id}-author",
                        classificationScheme="urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d",
                        classifiedObject=entry_id, nodeRepresentation="")
            if doc.author_person:
                _slot(author, "authorPerson", doc.author_person)
            if doc.author_institution:
                _slot(author, "authorInstitution", doc.author_institution)
            _slot(author, "authorSpecialty", "G15_10/SM26^Médecin - Qualifié en médecine générale (SM)^"
                                             "1.2.250.1.213.1.1.4.5")
        _classification(obj, "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a", entry_id, doc.class_code, "class")
        for number, code in enumerate(doc.confidentiality):
            _classification(obj, "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f", entry_id, code, f"conf{number}")
        _classification(obj, "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d", entry_id, doc.format_code, "format")
        _classification(obj, "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1", entry_id,
                        ("SA07", "1.2.250.1.71.4.2.4", "Cabinet individuel"), "facility")
        _classification(obj, "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead", entry_id,
                        ("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9", "Etablissement de santé"), "practice")
        _classification(obj, "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983", entry_id, doc.type_code, "type")
        for scheme, value, label in (
            ("urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427", f"{doc.nir}^^^&{doc.oid}&ISO",
             "XDSDocumentEntry.patientId"),
            ("urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab", doc.unique_id, "XDSDocumentEntry.uniqueId"),
        ):
            identifier = _e("ExternalIdentifier", obj, id=f"ei-{entry_id}-{label[-8:]}", registryObject=entry_id,
                            identificationScheme=scheme, value=value)
            _name(identifier, label)
    package = _e("RegistryPackage", objects, id=f"SubmissionSet-{subset}")
    _slot(package, "submissionTime", "20260101120000")
    _name(package, "Export DMP")
    _e("Classification", objects, id=f"cl-ss-{subset}", classifiedObject=f"SubmissionSet-{subset}",
       classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd")
    first = documents[0][1] if documents else None
    for scheme, value, label in (
        ("urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8", f"1.2.250.1.999.{len(documents)}.{subset[-2:]}",
         "XDSSubmissionSet.uniqueId"),
        ("urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832", "1.2.250.1.213.4.1", "XDSSubmissionSet.sourceId"),
        ("urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
         f"{first.nir}^^^&{first.oid}&ISO" if first else "", "XDSSubmissionSet.patientId"),
    ):
        identifier = _e("ExternalIdentifier", package, id=f"ei-ss-{subset}-{label[-8:]}",
                        registryObject=f"SubmissionSet-{subset}", identificationScheme=scheme, value=value)
        _name(identifier, label)
    for entry_id, doc in documents:
        association = _e("Association", objects, id=f"as-{entry_id}",
                         associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember",
                         sourceObject=f"SubmissionSet-{subset}", targetObject=entry_id)
        _slot(association, "SubmissionSetStatus", "Original")
        if doc.replaces:
            _e("Association", objects, id=f"rplc-{entry_id}", associationType="urn:ihe:iti:2007:AssociationType:RPLC",
               sourceObject=entry_id, targetObject=doc.replaces)
    return etree.tostring(request, xml_declaration=True, encoding="UTF-8")


def entry_ids(subset_number: int, count: int) -> list[str]:
    return [f"Document{subset_number:02d}{n:03d}" for n in range(1, count + 1)]


def xdm_zip(*subsets: list[XdmDocument], extra: dict[str, bytes] | None = None, skip_files: tuple[str, ...] = (),
            compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The archive bytes. Documents get file names DOC00001.XML / .PDF per subset unless they name one."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        archive.writestr("README.TXT", "Export DMP (test) - support IHE XDM.\r\n")
        archive.writestr("INDEX.HTM", "<html><body><p>Export DMP</p></body></html>")
        for number, documents in enumerate(subsets, start=1):
            folder = f"IHE_XDM/SUBSET{number:02d}"
            named = []
            for index, doc in enumerate(documents, start=1):
                suffix = ".PDF" if doc.mime_type == "application/pdf" else ".XML"
                doc = replace(doc, file_name=doc.file_name or f"DOC{index:05d}{suffix}")
                named.append((f"Document{number:02d}{index:03d}", doc))
            archive.writestr(f"{folder}/METADATA.XML", metadata_xml(named, f"SUBSET{number:02d}"))
            for _entry_id, doc in named:
                if doc.file_name not in skip_files:
                    archive.writestr(f"{folder}/{doc.file_name}", doc.data)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def write_xdm(path: Path, *subsets: list[XdmDocument], **options) -> Path:
    path.write_bytes(xdm_zip(*subsets, **options))
    return path
