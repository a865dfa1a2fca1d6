"""CDA R2 documents (CI-SIS 2.x and 3.0): read the header, render the body safely.

``read_header`` stops parsing at the body, so indexing a large document does not build its whole tree.
``render`` never runs the document's stylesheet (a self-presenting CDA is read as data) and never copies its
markup: the narrative is rebuilt element by element from an allow-list, every text node escaped, no attribute
kept except integer ``colspan``/``rowspan``. The HTML it returns is therefore safe to insert in a page as is.

Times: a CDA timestamp with a time becomes a timezone-aware ``datetime`` (its own offset, or Europe/Paris when it
has none); a date-only value (birth dates, some effective times) stays a ``date`` so its precision is not
invented. Partial dates (``1977`` or ``197707``) become the first day of the period.

INS: ``CdaHeader.ins`` is the patient id under an INS OID exactly as written (a production OID preferred over a
test one); ``ins_check`` says whether it can identify anyone (``problem``: missing, malformed, bad_key — some
published CI-SIS examples fail the NIR control key) and whether its OID is a test one. The reader neither corrects
nor rejects an INS: importers decide (docs/decisions/0009-dmp-migration.md). Authors: ``rpps`` only from a national
id "8" + RPPS; ``national_id_kind`` names the others (ADELI, FINESS, SIREN, SIRET-based ids).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from lxml import etree

from carnet.interop.formats import (
    XML_PROLOG_BYTES,
    XSL,
    UnsupportedFormat,
    check_attachment_data,
    check_xml_prolog,
    decode_b64,
    hardened_parser_options,
    safe_xml_parse,
    xml_refusal,
)
from carnet.interop.ins import INS_OIDS, PRODUCTION_OIDS, InsCheck, check_ins
from carnet.interop.terminology import Code

V3 = "urn:hl7-org:v3"
NS = {"v": V3}
PARIS = ZoneInfo("Europe/Paris")
# Matricule INS: NIR and NIA, production (.8, .9), test (.10, .11) and demonstration (.12, .13) OIDs (ins.py).
INS_ROOTS = INS_OIDS
RPPS_ROOT = "1.2.250.1.71.4.2.1"  # national PS identifier: "8" + RPPS number ("0" + ADELI for the others)
# The first character of a national PS identifier says what follows (ANS TRE_G08): "8" RPPS, "0" ADELI, "3" FINESS,
# "4" SIREN, "5" SIRET (the last three: staff identified through their establishment or company).
NATIONAL_ID_KINDS = {"8": "rpps", "0": "adeli", "3": "finess", "4": "siren", "5": "siret"}

Source = str | Path | bytes


@dataclass(frozen=True)
class InstanceId:
    """An HL7 II: OID (or UUID) root plus optional extension."""

    root: str
    extension: str | None = None


@dataclass(frozen=True)
class Organisation:
    name: str | None
    id: InstanceId | None


@dataclass(frozen=True)
class Author:
    """A document author: a person (RPPS when the national id says so) or a device, with their organisation."""

    name: str | None
    family: str | None
    given: str | None
    id: InstanceId | None
    rpps: str | None
    role: Code | None  # assignedAuthor/code: profession / specialty (e.g. G15_10/SM26)
    organisation: Organisation | None
    time: dt.datetime | dt.date | None
    device: str | None = None

    @property
    def national_id(self) -> str | None:
        """The national PS identifier as written (type prefix included), when the id is under its OID."""
        return self.id.extension if self.id and self.id.root == RPPS_ROOT and self.id.extension else None

    @property
    def national_id_kind(self) -> str | None:
        """What the national identifier holds: "rpps", "adeli", "finess", "siren", "siret" or "other"."""
        value = self.national_id
        return NATIONAL_ID_KINDS.get(value[0], "other") if value else None


@dataclass(frozen=True)
class CdaHeader:
    document_id: InstanceId | None
    type: Code | None
    title: str | None
    effective_time: dt.datetime | dt.date | None
    confidentiality: Code | None
    language: str | None
    set_id: InstanceId | None
    version_number: int | None
    replaces: InstanceId | None  # relatedDocument[@typeCode=RPLC]/parentDocument/id
    template_ids: tuple[str, ...]
    patient_ids: tuple[InstanceId, ...]
    patient_family: str | None  # birth name (qualifier BR) when given
    patient_given: str | None  # first birth given name
    patient_used_family: str | None  # name used (qualifier CL)
    patient_birth_date: dt.date | None
    patient_gender: str | None  # administrativeGenderCode: M, F, U
    authors: tuple[Author, ...]
    custodian: Organisation | None
    body_kind: str | None  # "structured" | "non-xml"
    non_xml_media_type: str | None
    non_xml_representation: str | None
    self_presenting: bool = False

    @property
    def ins(self) -> InstanceId | None:
        """The INS (matricule INS / NIR) among the patient ids: a production OID first, else a test/demo one.

        Returned as written, even when invalid: ``ins_check`` says whether it can identify anyone."""
        ids = [i for i in self.patient_ids if i.root in INS_ROOTS]
        return next((i for i in ids if i.root in PRODUCTION_OIDS), ids[0] if ids else None)

    @property
    def ins_check(self) -> InsCheck:
        """Whether the INS is usable (``problem``: missing, malformed, bad_key) and whether it is a test one."""
        found = self.ins
        return check_ins(found.root if found else None, found.extension if found else None)


# --- reading --------------------------------------------------------------------------------------------------

def _v(name: str) -> str:
    return f"{{{V3}}}{name}"


def _find_all(element: etree._Element | None, *names: str) -> Iterator[etree._Element]:
    """`element.iterfind("v:a/v:b", NS)` for a path of child names, in document order, walked with lxml's C child
    iterator (ElementPath's steps run in Python: about a quarter of the time spent reading a header, on every
    document filed)."""
    if element is None:
        return
    first, rest = _v(names[0]), names[1:]
    for child in element.iterchildren(first):
        if rest:
            yield from _find_all(child, *rest)
        else:
            yield child


def _find(element: etree._Element | None, *names: str) -> etree._Element | None:
    """`element.find("v:a/v:b", NS)`: the first element `_find_all` gives."""
    return next(_find_all(element, *names), None)


def _clean(text: str | None) -> str | None:
    text = " ".join((text or "").split())
    return text or None


def _text(element: etree._Element | None) -> str | None:
    return None if element is None else _clean("".join(element.itertext()))


def _code(element: etree._Element | None) -> Code | None:
    if element is None or not element.get("code"):
        return None
    return Code(element.get("code"), element.get("codeSystem"), _clean(element.get("displayName")))


def _ii(element: etree._Element | None) -> InstanceId | None:
    if element is None or not element.get("root"):
        return None
    return InstanceId(element.get("root").strip(), _clean(element.get("extension")))


TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")


def parse_ts(value: str | None) -> dt.datetime | dt.date | None:
    """An HL7 TS (``20210503114500+0100``, ``19770714``) as a datetime or a date (see module docstring)."""
    match = TS.match((value or "").strip())
    if not match:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        date = dt.date(int(year), int(month or 1), int(day or 1))
        if hour is None:
            return date
        tz = PARIS if offset is None else dt.timezone(
            (1 if offset[0] == "+" else -1) * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
        return dt.datetime(date.year, date.month, date.day, int(hour), int(minute or 0), int(second or 0), tzinfo=tz)
    except ValueError:
        return None


def _name_part(name: etree._Element | None, part: str, qualifier: str | None) -> str | None:
    if name is None:
        return None
    for element in _find_all(name, part):
        if (element.get("qualifier") or None) == qualifier:
            return _text(element)
    return None


def _person_name(name: etree._Element | None) -> tuple[str | None, str | None]:
    family = _name_part(name, "family", "BR") or _name_part(name, "family", None) or _text(_find(name, "family"))
    given = _name_part(name, "given", "BR") or _text(_find(name, "given"))
    return family, given


def _organisation(element: etree._Element | None) -> Organisation | None:
    if element is None:
        return None
    return Organisation(_text(_find(element, "name")), _ii(_find(element, "id")))


def _author(element: etree._Element) -> Author:
    assigned = _find(element, "assignedAuthor")
    if assigned is None:
        assigned = etree.Element(_v("assignedAuthor"))
    person = _find(assigned, "assignedPerson", "name")
    family, given = _person_name(person)
    identifier = _ii(_find(assigned, "id"))
    rpps = None
    if identifier and identifier.root == RPPS_ROOT and identifier.extension and identifier.extension.startswith("8"):
        rpps = identifier.extension[1:]
    device = _text(_find(assigned, "assignedAuthoringDevice", "softwareName"))
    display = " ".join(part for part in (given, family) if part) or None
    return Author(name=display, family=family, given=given, id=identifier, rpps=rpps,
                  role=_code(_find(assigned, "code")),
                  organisation=_organisation(_find(assigned, "representedOrganization")),
                  time=parse_ts(_value(_find(element, "time"))), device=device)


def _value(element: etree._Element | None, attribute: str = "value") -> str | None:
    return None if element is None else _clean(element.get(attribute))


def _replaced(document: etree._Element) -> InstanceId | None:
    """relatedDocument[@typeCode='RPLC']/parentDocument/id"""
    for related in _find_all(document, "relatedDocument"):
        if related.get("typeCode") == "RPLC":
            found = _find(related, "parentDocument", "id")
            if found is not None:
                return _ii(found)
    return None


def header_from(document: etree._Element, body: tuple[str | None, str | None, str | None] = (None, None, None),
                self_presenting: bool = False) -> CdaHeader:
    """Build the header from a parsed ``ClinicalDocument`` element (whole or cut at the body)."""
    patient = _find(document, "recordTarget", "patientRole")
    patient_ids: tuple[InstanceId, ...] = ()
    family = given = used_family = gender = None
    birth: dt.date | None = None
    if patient is not None:
        patient_ids = tuple(i for i in (_ii(e) for e in _find_all(patient, "id")) if i)
        name = _find(patient, "patient", "name")
        family, given = _person_name(name)
        used_family = _name_part(name, "family", "CL")
        gender = _value(_find(patient, "patient", "administrativeGenderCode"), "code")
        born = parse_ts(_value(_find(patient, "patient", "birthTime")))
        birth = born.date() if isinstance(born, dt.datetime) else born
    version = _value(_find(document, "versionNumber"))
    body_kind, media_type, representation = body
    if body_kind is None:
        component = _find(document, "component")
        if component is not None and _find(component, "nonXMLBody") is not None:
            text = _find(component, "nonXMLBody", "text")
            body_kind, media_type, representation = "non-xml", _value(text, "mediaType"), _value(
                text, "representation")
        elif component is not None and _find(component, "structuredBody") is not None:
            body_kind = "structured"
    return CdaHeader(
        document_id=_ii(_find(document, "id")),
        type=_code(_find(document, "code")),
        title=_text(_find(document, "title")),
        effective_time=parse_ts(_value(_find(document, "effectiveTime"))),
        confidentiality=_code(_find(document, "confidentialityCode")),
        language=_value(_find(document, "languageCode"), "code"),
        set_id=_ii(_find(document, "setId")),
        version_number=int(version) if version and version.isdigit() else None,
        replaces=_replaced(document),
        template_ids=tuple(t.get("root") for t in _find_all(document, "templateId") if t.get("root")),
        patient_ids=patient_ids, patient_family=family, patient_given=given, patient_used_family=used_family,
        patient_birth_date=birth, patient_gender=gender,
        authors=tuple(_author(a) for a in _find_all(document, "author")),
        custodian=_organisation(_find(document, "custodian", "assignedCustodian", "representedCustodianOrganization")),
        body_kind=body_kind, non_xml_media_type=media_type, non_xml_representation=representation,
        self_presenting=self_presenting,
    )


# The pull parser is fed in small pieces so that reading stops soon after the body starts: a header is a few
# kilobytes, and feeding 1 MiB at once would parse (and build) most documents whole before the first event is read.
HEADER_FEED = 16 * 1024


def _chunks(source: Source) -> Iterator[bytes]:
    if isinstance(source, bytes):
        check_xml_prolog(source[:XML_PROLOG_BYTES])
        for start in range(0, len(source), HEADER_FEED):
            yield source[start:start + HEADER_FEED]
        return
    with open(source, "rb") as fh:
        head = fh.read(HEADER_FEED)
        if len(head) == HEADER_FEED:
            prolog = head + fh.read(XML_PROLOG_BYTES - HEADER_FEED)
            check_xml_prolog(prolog)
        else:
            check_xml_prolog(head)
        fh.seek(0)
        while chunk := fh.read(HEADER_FEED):
            yield chunk


# The only elements that can end the header (read_header looks at nothing else until a nonXMLBody is open).
_BODY_TAGS = frozenset(_v(name) for name in ("structuredBody", "nonXMLBody", "text"))


# Up to this size a CDA is parsed whole: lxml's tree builder, in C, is faster than pulling events in Python to stop
# at the body (0.4 against 1.5 ms for the 30 KB CI-SIS TROD example). Larger ones are read up to their body only.
WHOLE_PARSE_BYTES = 256 * 1024


def _size(source: Source) -> int:
    return len(source) if isinstance(source, bytes) else Path(source).stat().st_size


def _header_of_tree(root: etree._Element) -> CdaHeader:
    if root.tag == _v("ClinicalDocument"):
        return header_from(root)
    if etree.QName(root).namespace == XSL:  # self-presenting: the document inside its stylesheet
        document = next(root.iter(_v("ClinicalDocument")), None)
        if document is not None:
            return header_from(document, self_presenting=True)
    raise UnsupportedFormat("xml_not_cda")


def read_header(source: Source, tree: etree._ElementTree | None = None) -> CdaHeader:
    """The header of a CDA (path or bytes): a small one parsed whole, a large one up to the start of its body only.
    ``tree``: the document as the format check already parsed it (``Inspection.tree``), read as is.

    Raises UnsupportedFormat when the XML is unsafe (DOCTYPE, entities), malformed or not a CDA."""
    if tree is not None:
        return _header_of_tree(tree.getroot())
    if _size(source) <= WHOLE_PARSE_BYTES:
        return _header_of_tree(safe_xml_parse(source).getroot())
    parser = etree.XMLPullParser(events=("start",), **hardened_parser_options())
    document = None
    self_presenting = False
    body: list[str | None] = [None, None, None]
    try:
        for chunk in _chunks(source):
            parser.feed(chunk)
            for _event, element in parser.read_events():
                if document is None:
                    if element.tag == _v("ClinicalDocument"):
                        document = element
                    elif element.getparent() is None:
                        self_presenting = etree.QName(element).namespace == XSL
                        if not self_presenting:
                            raise UnsupportedFormat("xml_not_cda")
                    continue
                if body[0] is None and element.tag not in _BODY_TAGS:  # most of the header: nothing to look at
                    continue
                parent = element.getparent()
                if parent is not None and parent.tag == _v("component") and parent.getparent() is document:
                    if element.tag == _v("structuredBody"):
                        return header_from(document, ("structured", None, None), self_presenting)
                    body[0] = "non-xml" if element.tag == _v("nonXMLBody") else None
                elif body[0] == "non-xml" and element.tag == _v("text"):
                    return header_from(document, ("non-xml", element.get("mediaType"),
                                                  element.get("representation")), self_presenting)
        parser.close()
    except etree.XMLSyntaxError as error:  # before the body: the header itself is broken
        raise xml_refusal(error) from None
    if document is None:
        raise UnsupportedFormat("xml_not_cda")
    return header_from(document, self_presenting=self_presenting)


# --- rendering ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attachment:
    """A base64 document inside the CDA (nonXMLBody or observationMedia), checked like an upload.
    ``media_type`` is the detected one; ``declared_media_type`` what the document said."""

    id: str | None
    media_type: str
    declared_media_type: str | None
    data: bytes


@dataclass(frozen=True)
class Section:
    title: str | None
    code: Code | None
    html: SafeString
    sections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class RenderedCda:
    """Either ``embedded`` (unstructured body) or ``sections`` (structured), plus the attachments found in
    structured entries (``observationMedia``) that passed the upload checks."""

    header: CdaHeader
    embedded: Attachment | None = None
    sections: tuple[Section, ...] = ()
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


def _find_document(tree: etree._ElementTree) -> tuple[etree._Element, bool]:
    root = tree.getroot()
    if root.tag == _v("ClinicalDocument"):
        return root, False
    if etree.QName(root).namespace == XSL:
        inner = next(root.iter(_v("ClinicalDocument")), None)
        if inner is not None:
            return inner, True
    raise UnsupportedFormat("xml_not_cda")


def _attachment(element: etree._Element, identifier: str | None) -> Attachment | None:
    """The attachment if it is base64 and passes the upload checks, else None."""
    try:
        data = decode_b64(element)
        if data is None:
            return None
        inspection = check_attachment_data(data, element.get("mediaType"))
    except UnsupportedFormat:
        return None
    return Attachment(identifier, inspection.mime_type, element.get("mediaType"), data)


def render(source: Source) -> RenderedCda:
    """Parse the whole document and render it for display (see the module docstring for the safety rules).

    Raises UnsupportedFormat for unsafe or non-CDA XML, and ``cda_attachment`` when an unstructured body holds
    something that would be refused as an upload."""
    tree = safe_xml_parse(source)
    document, self_presenting = _find_document(tree)
    header = header_from(document, self_presenting=self_presenting)
    attachments = tuple(a for a in (_attachment(value, media.get("ID"))
                                    for media in document.iter(_v("observationMedia"))
                                    for value in _find_all(media, "value")) if a)
    text = _find(document, "component", "nonXMLBody", "text")
    if text is not None:
        embedded = _attachment(text, None)
        if embedded is None:
            raise UnsupportedFormat("cda_attachment")
        return RenderedCda(header=header, embedded=embedded, attachments=attachments)
    known = {a.id for a in attachments if a.id}
    sections = tuple(_section(s, known) for s in _find_all(
        document, "component", "structuredBody", "component", "section"))
    return RenderedCda(header=header, sections=sections, attachments=attachments)


def _section(element: etree._Element, attachments: set[str]) -> Section:
    narrative = _find(element, "text")
    body = Narrative(attachments).render(narrative) if narrative is not None else ""
    children = tuple(_section(s, attachments) for s in _find_all(element, "component", "section"))
    return Section(title=_text(_find(element, "title")), code=_code(_find(element, "code")),
                   html=mark_safe(body), sections=children)  # noqa: S308 - built only from escaped text + allow-list


SIMPLE_TAGS = {"thead": "thead", "tbody": "tbody", "tfoot": "tfoot", "tr": "tr", "item": "li", "sub": "sub",
               "sup": "sup"}
BLOCK_CHILDREN = {_v("table"), _v("list"), _v("paragraph")}
DROPPED = {"script", "style", "iframe", "object", "embed", "col", "colgroup", "footnoteRef"}
STYLE_TAGS = (("bold", "strong"), ("italics", "em"), ("emphasis", "em"), ("underline", "u"))


class Narrative:
    """CDA narrative block (section/text) -> HTML from a fixed allow-list; text escaped, attributes dropped."""

    def __init__(self, attachments: set[str]):
        self.attachments = attachments

    def render(self, element: etree._Element) -> str:
        return self.children(element)

    def children(self, element: etree._Element) -> str:
        parts = [html.escape(element.text or "")]
        for child in element:
            if isinstance(child.tag, str):
                parts.append(self.element(child))
            parts.append(html.escape(child.tail or ""))
        return "".join(parts)

    def element(self, element: etree._Element) -> str:
        tag = etree.QName(element)
        name = tag.localname if tag.namespace == V3 else ""
        if name in DROPPED or tag.localname.lower() in DROPPED:
            return ""
        inner = self.children(element)
        if name == "paragraph":
            wrapper = "div" if any(c.tag in BLOCK_CHILDREN for c in element) else "p"
            return f"<{wrapper}>{self.styled(element, inner)}</{wrapper}>"
        if name == "list":
            wrapper = "ol" if (element.get("listType") or "").lower() == "ordered" else "ul"
            return f"<{wrapper}>{inner}</{wrapper}>"
        if name == "table":
            return f'<table class="cda-table">{inner}</table>'
        if name in ("td", "th"):
            return f"<{name}{self.spans(element)}>{self.styled(element, inner)}</{name}>"
        if name in SIMPLE_TAGS:
            return f"<{SIMPLE_TAGS[name]}>{inner}</{SIMPLE_TAGS[name]}>"
        if name == "caption":
            parent = element.getparent()
            if parent is not None and parent.tag == _v("table"):
                return f"<caption>{inner}</caption>"
            return f"<strong>{inner}</strong><br>"
        if name == "content":
            revised = (element.get("revised") or "").lower()
            styled = self.styled(element, inner)
            return {"delete": f"<del>{styled}</del>", "insert": f"<ins>{styled}</ins>"}.get(revised, styled)
        if name == "br":
            return "<br>"
        if name == "footnote":
            return f"<small>({inner})</small>"
        if name == "renderMultiMedia":
            return self.media_note(element)
        return inner  # linkHtml (no href kept) and anything unknown: its text only

    @staticmethod
    def styled(element: etree._Element, inner: str) -> str:
        style = (element.get("styleCode") or "").lower()
        for keyword, wrapper in STYLE_TAGS:
            if keyword in style:
                inner = f"<{wrapper}>{inner}</{wrapper}>"
        return inner

    @staticmethod
    def spans(element: etree._Element) -> str:
        attributes = []
        for name in ("colspan", "rowspan"):
            value = (element.get(name) or "").strip()
            if value.isdigit() and 1 < int(value) <= 1000:
                attributes.append(f' {name}="{int(value)}"')
        return "".join(attributes)

    def media_note(self, element: etree._Element) -> str:
        references = (element.get("referencedObject") or "").split()
        if any(reference in self.attachments for reference in references):
            note = _("Document ou image joint : voir les pièces jointes.")
        else:
            note = _("Document ou image joint non affichable.")
        return f'<span class="cda-note">[{html.escape(note)}]</span>'
