"""Small, hand-made test files: PDFs (classic xref or object streams), CDA documents, ZIP archives, DICOM
files from pydicom's wheel (local files only, never the ones pydicom would download)."""

from __future__ import annotations

import binascii
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

SAMPLES = Path("/work/shared/samples")
CDA_30 = SAMPLES / "cda" / "ci-sis-3.0"
CDA_241 = SAMPLES / "cda" / "ci-sis-2.41"
PYDICOM_FILES = Path(pydicom.__file__).resolve().parent / "data" / "test_files"

PAGE_OBJECTS = {
    1: b"<< /Type /Catalog /Pages 2 0 R >>",
    2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
}


def pdf(objects: dict[int, bytes] | None = None, *, packed: tuple[int, ...] = (), hex_wrap: bool = False,
        orphans: tuple[bytes, ...] = ()) -> bytes:
    """A PDF from object bodies. ``packed`` objects go into a Flate object stream (PDF 1.5, xref stream);
    ``hex_wrap`` adds an ASCIIHex filter on top so only a real PDF parser can read that stream. ``orphans`` are
    objects written in the file but listed in no xref (what an incremental update leaves behind)."""
    objects = {**PAGE_OBJECTS, **(objects or {})}
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        if number not in packed:
            offsets[number] = len(out)
            out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    for index, body in enumerate(orphans):
        out += b"%d 0 obj\n" % (900 + index) + body + b"\nendobj\n"
    size = max(objects) + 1
    if not packed:
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % size
        for number in range(1, size):
            out += b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 65535 f \n"
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
        return bytes(out)
    stream_number, xref_number = size, size + 1
    pairs, bodies = [], b""
    for number in packed:
        pairs.append(b"%d %d" % (number, len(bodies)))
        bodies += objects[number] + b"\n"
    header = b" ".join(pairs) + b"\n"
    data, filters = zlib.compress(header + bodies), b"/FlateDecode"
    if hex_wrap:
        data, filters = binascii.hexlify(data) + b">", b"[/ASCIIHexDecode /FlateDecode]"
    offsets[stream_number] = len(out)
    out += (b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Length %d /Filter %s >>\nstream\n"
            % (stream_number, len(packed), len(header), len(data), filters)) + data + b"\nendstream\nendobj\n"
    rows = []
    for number in range(xref_number + 1):
        if number in packed:
            rows.append(struct.pack(">BIH", 2, stream_number, packed.index(number)))
        elif number in offsets:
            rows.append(struct.pack(">BIH", 1, offsets[number], 0))
        elif number == xref_number:
            rows.append(struct.pack(">BIH", 1, len(out), 0))
        else:
            rows.append(struct.pack(">BIH", 0, 0, 65535))
    table = b"".join(rows)
    xref = len(out)
    out += (b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
            % (xref_number, xref_number + 1, len(table))) + table + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def flate_stream(body: bytes, *, object_stream: bool = False) -> bytes:
    data = zlib.compress(body)
    kind = b"/Type /ObjStm /N 1 /First 0 " if object_stream else b""
    return b"<< %s/Length %d /Filter /FlateDecode >>\nstream\n" % (kind, len(data)) + data + b"\nendstream"


def reportlab_pdf(text: str = "Compte rendu de consultation") -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return out.getvalue()


CDA_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="1.2.250.1.213.1.1.1.1"/>
  <id root="1.2.250.1.999.1" extension="DOC-1"/>
  <code code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="CR de consultation"/>
  <title>Consultation</title>
  <effectiveTime value="20240115"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="fr-FR"/>
  <setId root="1.2.250.1.999.2"/>
  <versionNumber value="1"/>
  <recordTarget><patientRole><id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>
    <patient><name><family>TEST</family><given>Alice</given></name>
      <administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/><birthTime value="19790328"/>
    </patient></patientRole></recordTarget>
  <author><time value="20240115103000"/><assignedAuthor><id root="1.2.250.1.71.4.2.1" extension="810000000001"/>
    <assignedPerson><name><given>Jeanne</given><family>MEDECIN</family></name></assignedPerson>
  </assignedAuthor></author>
"""


def cda(body: str, *, header: str = CDA_HEADER) -> bytes:
    return (header + body + "\n</ClinicalDocument>\n").encode()


def structured(*sections: str) -> str:
    inner = "".join(f"<component><section>{section}</section></component>" for section in sections)
    return f"<component><structuredBody>{inner}</structuredBody></component>"


def non_xml(data: bytes, media_type: str = "application/pdf") -> str:
    encoded = binascii.b2a_base64(data, newline=False).decode()
    return (f'<component><nonXMLBody><text mediaType="{media_type}" representation="B64">{encoded}'
            "</text></nonXMLBody></component>")


def dicom_file(name: str) -> Path:
    """A DICOM file shipped inside the pydicom wheel; fails rather than let pydicom download anything."""
    assert (PYDICOM_FILES / name).is_file(), f"{name} is not shipped with pydicom"
    path = Path(get_testdata_file(name))
    assert PYDICOM_FILES in path.resolve().parents
    return path


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()
