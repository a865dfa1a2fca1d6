"""What an uploaded file really is, and whether it is safe to keep and show.

Detection reads the content (magic bytes, then a streaming check), never the file name: a file called
``compte-rendu.pdf`` that holds HTML or a program is refused. Files of 200 MB and more are read in chunks; nothing
here loads a whole upload in memory.

Accepted: PDF without active content, CDA R2 (root ``ClinicalDocument`` in ``urn:hl7-org:v3``), JPEG, PNG, DICOM
Part 10, a ZIP holding only DICOM files, plain UTF-8 text. Decisions worth knowing:

* PDF: refused when any object names ``/JavaScript``, ``/JS``, ``/AA`` (auto actions) or ``/XFA`` (scripted
  forms); ``/Launch``, ``/SubmitForm``, ``/ImportData``, ``/GoToE``; ``/EmbeddedFile(s)`` or ``/RichMedia``.
  ``/OpenAction`` alone is allowed (most office software sets it to "open at page 1"); one that runs a script
  or a program is caught by the names above. Three passes: raw bytes (names may be #-escaped), every Flate
  stream decompressed with a budget (object streams hide dictionaries there), then a pypdf walk of every object
  (any filter, decrypted with the empty password when the file is only owner-protected). A PDF pypdf cannot read,
  or protected by a password, is refused: we will not keep what we cannot check; so is one with more than
  ``PDF_MAX_OPAQUE_HITS`` denied-looking names inside compressed data (each costs a look back of up to 8 MiB).
* XML: any ``<!DOCTYPE`` (hence any entity declaration, internal or external) is refused before parsing; lxml
  then runs without network, DTD loading, entity resolution or huge-tree mode, so a text node is limited to
  10 MB (an embedded PDF of ~7 MB in base64). A self-presenting CDA (the CI-SIS "auto-présentable" form: an
  XSLT stylesheet carrying the ClinicalDocument) is accepted, because it is an official form that laboratories
  send and a holder cannot unwrap; Carnet reads it as data and never runs the stylesheet. Like any stored XML
  (a plain CDA has an ``xml-stylesheet`` instruction too), it must only ever be served as a download
  (``Content-Disposition: attachment``, ``nosniff``), never inline. Base64 attachments of a CDA must themselves
  pass these checks.
* ZIP: entries, total size, compression ratio and overlapping entries are checked on the central directory,
  then enforced again while decompressing every entry. Nested archives, unsafe names (``..``, absolute, drive
  letters, symlinks) and encrypted entries are refused. macOS metadata (``__MACOSX/``, ``.DS_Store``) is
  tolerated; anything else that is not DICOM is refused.
* DICOM: ``DICM`` at offset 128; a preamble that starts like a program (PE, ELF, script) is refused, since the
  128-byte preamble is a known place to hide one.
"""

from __future__ import annotations

import binascii
import io
import logging
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, NoReturn

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from lxml import etree

from carnet.interop import pdf_scan
from carnet.interop.errors import MESSAGES, UnsupportedFormat
from carnet.interop.logs import muted
from carnet.interop.zips import check_dicom_head, check_dicom_zip

logger = logging.getLogger(__name__)
MiB = 1024 * 1024
MAX_FILE_BYTES = 256 * MiB
CHUNK = 1 * MiB
XML_PROLOG_BYTES = 1 * MiB
PDF_STREAM_SCAN_BYTES = 16 * MiB  # decompressed bytes scanned per Flate stream (pass 2)
PDF_MAX_OBJECTS = 2_000_000
PDF_MAX_OPAQUE_HITS = 256  # denied-looking names inside compressed data, per file (see _scan_pdf_raw)
IMAGE_MAX_PIXELS = 100_000_000
V3 = "urn:hl7-org:v3"
XSL = "http://www.w3.org/1999/XSL/Transform"

MIME_TYPES = {
    "pdf": "application/pdf", "cda": "text/xml", "jpeg": "image/jpeg", "png": "image/png",
    "dicom": "application/dicom", "dicom-zip": "application/zip", "text": "text/plain",
}
EXTENSIONS = {"pdf": ".pdf", "cda": ".xml", "jpeg": ".jpg", "png": ".png", "dicom": ".dcm", "dicom-zip": ".zip",
              "text": ".txt"}

__all__ = ["MAX_FILE_BYTES", "Inspection", "UnsupportedFormat", "check_pdf", "inspect_bytes", "inspect_file",
           "inspect_stream", "safe_xml_parse"]


@dataclass(frozen=True)
class Inspection:
    """What a file is. ``entries`` counts the DICOM files of a dicom-zip. ``tree`` is the parsed document of a
    small CDA checked in memory (``inspect_bytes``), so that its header is read without parsing it again."""

    kind: str
    mime_type: str
    size: int
    extension: str
    entries: int = 0
    tree: Any = field(default=None, compare=False, repr=False)


def _found(kind: str, size: int, entries: int = 0, tree: Any = None) -> Inspection:
    return Inspection(kind, MIME_TYPES[kind], size, EXTENSIONS[kind], entries, tree)


def inspect_file(path: str | Path, *, filename: str = "", max_bytes: int = MAX_FILE_BYTES) -> Inspection:
    """Detect and check an uploaded file. ``filename`` is only used to word the refusal; it never decides.
    Raises UnsupportedFormat, and nothing else, for any content."""
    with open(path, "rb") as fh:
        size = fh.seek(0, io.SEEK_END)
        fh.seek(0)
        return inspect_stream(fh, size, filename=filename, max_bytes=max_bytes)


def inspect_bytes(data: bytes, *, filename: str = "", max_bytes: int = MAX_FILE_BYTES) -> Inspection:
    """Same checks on content already in memory (e.g. a CDA's base64 attachment)."""
    return inspect_stream(io.BytesIO(data), len(data), filename=filename, max_bytes=max_bytes, data=data)


def inspect_stream(fh: BinaryIO, size: int, *, filename: str = "", max_bytes: int = MAX_FILE_BYTES,
                   data: bytes | None = None) -> Inspection:
    """Same checks on a seekable binary file object of known size (``data``: the same bytes, when in memory)."""
    if size == 0:
        raise UnsupportedFormat("empty")
    if size > max_bytes:
        raise UnsupportedFormat("too_large")
    try:
        return _inspect(fh, size, data)
    except UnsupportedFormat as refusal:
        raise _with_filename_hint(refusal, filename) from None
    except (MemoryError, RecursionError):
        raise UnsupportedFormat("too_large") from None
    except Exception as error:  # a checker bug or a library crash on hostile input must not turn into a 500
        # The type only: exception messages from parsers may quote the file, and file content never goes to logs.
        logger.warning("Upload check failed unexpectedly (%s); file refused", type(error).__name__)
        raise UnsupportedFormat("unknown_format") from None


def _with_filename_hint(refusal: UnsupportedFormat, filename: str) -> UnsupportedFormat:
    extension = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    claimed = {".pdf": "PDF", ".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".dcm": "DICOM", ".xml": "XML",
               ".txt": _("texte"), ".zip": "ZIP"}.get(extension)
    if refusal.code == "unknown_format" and claimed:
        message = format_lazy(_("Le contenu de ce fichier ne correspond pas à son extension ({format} attendu). "
                                "{accepted}"), format=claimed, accepted=MESSAGES["unknown_format"])
        return UnsupportedFormat(refusal.code, message)
    return refusal


SNIFF_BYTES = 8192


def sniff(head: bytes) -> str:
    """The kind a file's first bytes (``SNIFF_BYTES``) announce, before any check: what ``inspect_*`` then verifies
    (and may still refuse). For callers that need the kind early, e.g. to compare it with a declared media type."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "dicom"
    if head.startswith(b"PK\x03\x04"):
        return "dicom-zip"
    if _looks_like_markup(head):
        return "cda"
    return "text"


def _inspect(fh: BinaryIO, size: int, data: bytes | None = None) -> Inspection:
    fh.seek(0)
    head = fh.read(SNIFF_BYTES)
    kind = sniff(head)
    if kind == "pdf":
        check_pdf(fh)
    elif kind in ("jpeg", "png"):
        _check_image(fh, kind.upper())
    elif kind == "dicom":
        check_dicom_head(head)
    elif kind == "dicom-zip":
        members = check_dicom_zip(fh)
        return _found("dicom-zip", size, len(members))
    elif kind == "cda":
        if data is not None and size <= CDA_WHOLE_PARSE_BYTES:
            return _found(kind, size, tree=_parse_cda(data, fh))
        _check_cda(fh)
    else:
        _check_text(fh)
    return _found(kind, size)


# --- PDF --------------------------------------------------------------------------------------------------------

PDF_DENIED = {
    "JavaScript": "pdf_javascript", "JS": "pdf_javascript", "AA": "pdf_javascript", "XFA": "pdf_javascript",
    "Launch": "pdf_action", "SubmitForm": "pdf_action", "ImportData": "pdf_action", "GoToE": "pdf_action",
    "EmbeddedFile": "pdf_embedded_file", "EmbeddedFiles": "pdf_embedded_file", "RichMedia": "pdf_embedded_file",
}
PDF_DENIED_NAMES = pdf_scan.names_pattern(PDF_DENIED)  # any spelling: /JS, /J#53, /#4a#53 ...


def _deny_pdf_name(name: str) -> None:
    code = PDF_DENIED.get(name)
    if code:
        raise UnsupportedFormat(code)


def _scan_pdf_names(buffer: bytes, inside=None) -> None:
    """Refuse a denied name in ``buffer``; ``inside(offset)`` may say that a hit lies in data no reader parses."""
    for offset, name in pdf_scan.find_names(PDF_DENIED_NAMES, buffer):
        if inside is not None and inside(offset):
            continue
        _deny_pdf_name(name)


def _stream_dictionary(fh: BinaryIO, keyword_at: int) -> bytes:
    """The object header and dictionary just before a ``stream`` keyword (from the last ``obj``)."""
    start = max(0, keyword_at - 4096)
    fh.seek(start)
    before = fh.read(keyword_at - start)
    cut = before.rfind(b"obj")
    return before[cut:] if cut >= 0 else before


def _in_opaque_payload(fh: BinaryIO, position: int) -> bool:
    """Is ``position`` inside the payload of an encoded stream that is not an object stream? Such bytes
    (compressed page contents, images, fonts) are data no PDF reader interprets as objects, and random
    image bytes contain ``/JS`` about once in a thousand files: a hit there is not active content.
    Uncompressed payloads and object streams are never opaque (a reader may parse objects from them)."""
    start = max(0, position - 8 * MiB)
    fh.seek(start)
    window = fh.read(position - start)
    opened = pdf_scan.last_stream_start(window)
    if opened < 0 or window.rfind(b"endstream") > opened:
        return False
    dictionary = _stream_dictionary(fh, start + opened)
    return b"/Filter" in dictionary and b"/ObjStm" not in dictionary


def check_pdf(fh: BinaryIO) -> None:
    """Refuse a PDF with active content (see the module docstring). ``fh`` is seekable, read in chunks."""
    _scan_pdf_raw(fh)
    _scan_pdf_objects(fh)


def _scan_pdf_raw(fh: BinaryIO) -> None:
    fh.seek(0, io.SEEK_END)
    size = fh.tell()
    budget = [max(64 * MiB, 4 * size)]  # total decompressed bytes for the whole file
    done: set[int] = set()
    opaque_hits = [0]

    def opaque(at: int) -> bool:
        # Each answer reads up to 8 MiB back: a file stuffed with names inside compressed data would make this
        # quadratic. Random data holds about one per 130 MB; hundreds are made on purpose, and not checked.
        opaque_hits[0] += 1
        if opaque_hits[0] > PDF_MAX_OPAQUE_HITS:
            raise UnsupportedFormat("pdf_unreadable")
        return _in_opaque_payload(fh, at)

    position, carry = 0, b""
    while True:
        fh.seek(position)
        chunk = fh.read(CHUNK)
        if not chunk:
            break
        buffer, base = carry + chunk, position - len(carry)
        _scan_pdf_names(buffer, lambda offset, base=base: opaque(base + offset))
        for keyword_at, payload_at in pdf_scan.stream_starts(buffer):
            start = base + payload_at
            if start not in done and budget[0] > 0:
                done.add(start)
                # Only object streams hold objects; other streams' inflated bytes are data (see above).
                if b"/ObjStm" in _stream_dictionary(fh, base + keyword_at):
                    _scan_flate_stream(fh, start, budget)
        position += len(chunk)
        carry = buffer[-256:]


def _scan_flate_stream(fh: BinaryIO, start: int, budget: list[int]) -> None:
    """Try to inflate the bytes after a ``stream`` keyword; anything that is not zlib stops at once."""
    inflater = zlib.decompressobj()
    fh.seek(start)
    scanned, carry = 0, b""
    try:
        while scanned < PDF_STREAM_SCAN_BYTES and budget[0] > 0 and not inflater.eof:
            data = fh.read(64 * 1024)
            if not data:
                break
            while data and scanned < PDF_STREAM_SCAN_BYTES:
                out = inflater.decompress(data, CHUNK)
                data = inflater.unconsumed_tail
                scanned += len(out)
                budget[0] -= len(out)
                _scan_pdf_names(carry + out)
                carry = out[-256:]
                if inflater.eof:
                    break
    except zlib.error:
        return


def _scan_pdf_objects(fh: BinaryIO) -> None:
    # Local import: pypdf is only needed for PDFs, and importing it costs ~0.2 s.
    from pypdf import PdfReader
    from pypdf.generic import IndirectObject, StreamObject

    fh.seek(0)
    with muted("pypdf"):
        try:
            reader = PdfReader(fh, strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise UnsupportedFormat("pdf_encrypted")
            references = [(number, generation) for generation, numbers in reader.xref.items() for number in numbers]
            references += [(number, 0) for number in reader.xref_objStm]
            if len(references) > PDF_MAX_OBJECTS:
                raise UnsupportedFormat("pdf_unreadable")
            _walk_pdf_object(reader.trailer)
            for number, generation in references:
                item = reader.get_object(IndirectObject(number, generation, reader))
                _walk_pdf_object(item)
                if isinstance(item, StreamObject) and item.get("/Type") != "/ObjStm":
                    # pypdf caches what it reads; forget page contents and images so memory stays per object.
                    reader.resolved_objects.pop((generation, number), None)
        except UnsupportedFormat:
            raise
        except Exception:
            raise UnsupportedFormat("pdf_unreadable") from None


def _walk_pdf_object(item: object) -> None:
    """Check every name of one object (its direct children included; indirect ones are visited on their own)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    stack = [item]
    while stack:
        item = stack.pop()
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                _deny_pdf_name(str(key)[1:])
                if not isinstance(value, IndirectObject):
                    stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(value for value in item if not isinstance(value, IndirectObject))
        elif isinstance(item, NameObject):
            _deny_pdf_name(str(item)[1:])


# --- images, DICOM ----------------------------------------------------------------------------------------------

def _check_image(fh: BinaryIO, expected: str) -> None:
    from PIL import Image

    fh.seek(0)
    try:
        with Image.open(fh) as image:
            if image.format != expected:
                raise UnsupportedFormat("image_invalid")
            width, height = image.size
            if width * height > IMAGE_MAX_PIXELS:
                raise UnsupportedFormat("image_too_large")
            image.verify()
    except UnsupportedFormat:
        raise
    except Image.DecompressionBombError:
        raise UnsupportedFormat("image_too_large") from None
    except Exception:
        raise UnsupportedFormat("image_invalid") from None


# --- XML / CDA --------------------------------------------------------------------------------------------------

MARKUP_START = re.compile(rb"^(\xef\xbb\xbf)?\s*<[A-Za-z_?!]")
HTML_MARKER = b"<!doctype html"  # <html> and <svg> roots are refused by _check_root


def _looks_like_markup(head: bytes) -> bool:
    return bool(MARKUP_START.match(head)) or head.startswith((b"\xff\xfe<\x00", b"\xfe\xff\x00<", b"<\x00", b"\x00<"))


def hardened_parser_options(**kwargs: object) -> dict[str, object]:
    return dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False,
                **kwargs)


def _decode_prolog(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    if head.startswith(b"<\x00"):
        return head.decode("utf-16-le", errors="replace")
    if head.startswith(b"\x00<"):
        return head.decode("utf-16-be", errors="replace")
    return head.decode("latin-1")  # every markup character we look for is ASCII


def check_xml_prolog(head: bytes) -> None:
    """Refuse any DOCTYPE (DTD, entity declarations, external entities) before a parser sees the document.
    ``head`` holds at least the prolog (we read 1 MiB)."""
    text = _decode_prolog(head).lstrip("\ufeff")
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if text.startswith("<?", position):
            terminator = "?>"
        elif text.startswith("<!--", position):
            terminator = "-->"
        elif text.startswith("<!", position):
            raise UnsupportedFormat("xml_entities")
        else:
            return
        end = text.find(terminator, position + 2)
        if end < 0:
            raise UnsupportedFormat("xml_invalid")
        position = end + len(terminator)


def xml_refusal(error: etree.XMLSyntaxError) -> UnsupportedFormat:
    """The refusal for an lxml syntax error: too large, DTD/entities, or malformed."""
    text = str(error)
    if "Resource limit" in text or "XML_PARSE_HUGE" in text:
        return UnsupportedFormat("xml_too_large")
    if "entity" in text.lower() or "DOCTYPE" in text:
        return UnsupportedFormat("xml_entities")
    return UnsupportedFormat("xml_invalid")


CLINICAL_DOCUMENT = f"{{{V3}}}ClinicalDocument"


def _check_root(tag: str) -> bool:
    """True for a CDA, False for a stylesheet that may carry one (self-presenting); refuse anything else."""
    name = etree.QName(tag)
    if tag == CLINICAL_DOCUMENT:
        return True
    if name.namespace == XSL and name.localname in {"stylesheet", "transform"}:
        return False
    if name.localname.lower() in {"html", "svg"}:
        raise UnsupportedFormat("html")
    raise UnsupportedFormat("xml_not_cda")


ATTACHMENT_KINDS = {"pdf", "jpeg", "png", "text"}
XML_MEDIA_TYPES = {"application/xml", "text/xml"}


def check_attachment_data(data: bytes, media_type: str | None) -> Inspection:
    """Check a CDA's decoded base64 attachment (nonXMLBody/text, observationMedia/value) like an upload.

    The content decides, not the declared mediaType (official examples declare PNG files as image/jpeg). XML
    attachments (e.g. administrative data next to a retinography report) are allowed when they parse under the
    hardened rules, with kind "xml"; they are kept, never rendered."""
    if (media_type or "").lower() in XML_MEDIA_TYPES or _looks_like_markup(data[:64]):
        try:
            root = safe_xml_parse(data).getroot()
        except UnsupportedFormat:
            raise UnsupportedFormat("cda_attachment") from None
        if etree.QName(root).localname.lower() in {"html", "svg"} or etree.QName(root).namespace == XSL:
            raise UnsupportedFormat("cda_attachment")
        return Inspection("xml", "application/xml", len(data), ".xml")
    try:
        inspection = inspect_bytes(data)
    except UnsupportedFormat:
        raise UnsupportedFormat("cda_attachment") from None
    if inspection.kind not in ATTACHMENT_KINDS:
        raise UnsupportedFormat("cda_attachment")
    return inspection


def _b64(text: str) -> bytes:
    try:
        return binascii.a2b_base64("".join(text.split()), strict_mode=False)
    except (binascii.Error, ValueError):
        raise UnsupportedFormat("cda_attachment") from None


def decode_b64(element: etree._Element) -> bytes | None:
    """The bytes of a B64 ``text``/``value`` element, None when it is not base64-encoded."""
    if (element.get("representation") or "").upper() != "B64":
        return None
    return _b64("".join(element.itertext()))


ATTACHMENT_PARENTS = {f"{{{V3}}}nonXMLBody": f"{{{V3}}}text", f"{{{V3}}}observationMedia": f"{{{V3}}}value"}
ATTACHMENT_MAX_CHARS = 10 * MiB  # as lxml without huge_tree: a text node of at most 10 MB


class _CdaScan:
    """lxml parser target: sees every element once, keeps only a tag stack and the text of the attachment being
    read, so memory stays flat whatever the size of the document (a pull parser building and clearing a tree
    was 6 times slower on a 170 MB document). lxml stops at the first exception a callback raises but may then
    call ``close``, so the refusal is kept and raised again there."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.found = False  # a ClinicalDocument: the root, or inside a self-presenting stylesheet
        self.collecting: list[str] | None = None
        self.collected = 0
        self.media_type: str | None = None
        self.refusal: UnsupportedFormat | None = None

    def refuse(self, refusal: UnsupportedFormat) -> NoReturn:
        self.refusal = self.refusal or refusal
        raise self.refusal

    def doctype(self, *args: object) -> None:
        self.refuse(UnsupportedFormat("xml_entities"))  # belt and braces: check_xml_prolog saw none

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        try:
            if not self.stack:
                self.found = _check_root(tag)
            elif tag == CLINICAL_DOCUMENT:
                self.found = True
            elif ATTACHMENT_PARENTS.get(self.stack[-1]) == tag and \
                    (attrib.get("representation") or "").upper() == "B64":
                self.collecting, self.collected, self.media_type = [], 0, attrib.get("mediaType")
        except UnsupportedFormat as refusal:
            self.refuse(refusal)
        self.stack.append(tag)

    def data(self, text: str) -> None:
        if self.collecting is not None:
            self.collected += len(text)
            if self.collected > ATTACHMENT_MAX_CHARS:
                self.refuse(UnsupportedFormat("xml_too_large"))
            self.collecting.append(text)

    def end(self, tag: str) -> None:
        self.stack.pop()
        if self.collecting is not None and self.stack and ATTACHMENT_PARENTS.get(self.stack[-1]) == tag:
            try:
                check_attachment_data(_b64("".join(self.collecting)), self.media_type)
            except UnsupportedFormat as refusal:
                self.refuse(refusal)
            self.collecting = None

    def close(self) -> None:
        if self.refusal:
            raise self.refusal
        if not self.found:
            raise UnsupportedFormat("xml_not_cda")


def _check_cda(fh: BinaryIO) -> None:
    """Stream-parse the whole document: well-formed, CDA root, every base64 attachment checked."""
    fh.seek(0)
    head = fh.read(XML_PROLOG_BYTES)
    if HTML_MARKER in head[:4096].lower():
        raise UnsupportedFormat("html")
    check_xml_prolog(head)
    fh.seek(0)
    scan = _CdaScan()
    parser = etree.XMLParser(target=scan, **hardened_parser_options())
    try:
        while chunk := fh.read(CHUNK):
            parser.feed(chunk)
        parser.close()
    except etree.XMLSyntaxError as error:
        raise xml_refusal(error) from None


# A CDA in memory up to this size is checked on its tree (lxml's tree builder, in C), which the header reader then
# uses as is: one parse instead of two (cda.read_header parses a CDA of this size whole too).
CDA_WHOLE_PARSE_BYTES = 256 * 1024


def _parse_cda(data: bytes, fh: BinaryIO) -> etree._ElementTree:
    """`_check_cda` on a tree: the same rules (no DOCTYPE, CDA root or a stylesheet carrying one, every base64
    attachment checked), and the tree for the header. A refusal is left to `_check_cda`, so that a refused
    document gets exactly the streaming check's answer (which problem comes first in document order)."""
    try:
        if HTML_MARKER in data[:4096].lower():
            raise UnsupportedFormat("html")
        tree = safe_xml_parse(data)
        root = tree.getroot()
        if not _check_root(root.tag) and next(root.iter(CLINICAL_DOCUMENT), None) is None:
            raise UnsupportedFormat("xml_not_cda")
        for parent_tag, child_tag in ATTACHMENT_PARENTS.items():
            for parent in root.iter(parent_tag):
                for child in parent.iterchildren(child_tag):
                    if (child.get("representation") or "").upper() == "B64":
                        check_attachment_data(_b64("".join(child.itertext())), child.get("mediaType"))
    except UnsupportedFormat as refusal:
        _check_cda(fh)
        raise refusal from None
    return tree


def safe_xml_parse(source: str | Path | bytes) -> etree._ElementTree:
    """Parse XML for reading (the CDA reader): DOCTYPE refused, no network, no entity expansion, no huge tree."""
    parser = etree.XMLParser(remove_blank_text=False, **hardened_parser_options())
    try:
        if isinstance(source, bytes):
            check_xml_prolog(source[:XML_PROLOG_BYTES])
            tree = etree.fromstring(source, parser).getroottree()
        else:
            with open(source, "rb") as fh:
                check_xml_prolog(fh.read(XML_PROLOG_BYTES))
                fh.seek(0)
                tree = etree.parse(fh, parser)
    except etree.XMLSyntaxError as error:
        raise xml_refusal(error) from None
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise UnsupportedFormat("xml_entities")
    return tree


# --- plain text -------------------------------------------------------------------------------------------------

TEXT_FORBIDDEN_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
TEXT_FORBIDDEN_CHARS = re.compile("[\x80-\x9f]")  # C1 controls


def _check_text(fh: BinaryIO) -> None:
    import codecs

    fh.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    head = fh.read(4)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnsupportedFormat("text_invalid")  # UTF-16: would need NULs; ask for UTF-8
    fh.seek(0)
    try:
        while chunk := fh.read(CHUNK):
            if TEXT_FORBIDDEN_BYTES.search(chunk):
                raise UnsupportedFormat("unknown_format" if b"\x00" in chunk else "text_invalid")
            if TEXT_FORBIDDEN_CHARS.search(decoder.decode(chunk)):
                raise UnsupportedFormat("text_invalid")
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        # No control byte but not UTF-8: most likely text in a legacy encoding (Windows-1252, Latin-1).
        raise UnsupportedFormat("text_invalid") from None
