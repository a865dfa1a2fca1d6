"""A CDA checked in memory is parsed once: the format check keeps its tree (`Inspection.tree`) and the header is
read from it. Both must say exactly what the streaming check and the header reader's own parse say, for the
CI-SIS samples and for hostile documents."""

import base64
from pathlib import Path

import pytest

from carnet.interop import cda, formats
from carnet.interop.formats import UnsupportedFormat, inspect_bytes, inspect_file
from tests.interop.builders import cda as cda_document
from tests.interop.builders import non_xml, pdf, structured
from tests.interop.test_formats import BILLION_LAUGHS, CATALOG_WITH_ACTION, EXTERNAL_DTD, JS_ACTION, XXE

SAMPLES = sorted(Path("/work/shared/samples/cda").rglob("*.xml"))
MEDIA = ('<component><observationMedia ID="m1"><value mediaType="application/xml" representation="B64">{}'
         "</value></observationMedia></component>")
HOSTILE = {
    "billion-laughs": BILLION_LAUGHS, "xxe": XXE, "dtd": EXTERNAL_DTD,
    "not-cda": b'<?xml version="1.0"?><invoice><total>12</total></invoice>',
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "html-doctype": b"<!DOCTYPE html><html><body>x</body></html>",
    "malformed": b'<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><title>',
    "svg-malformed": b'<svg xmlns="http://www.w3.org/2000/svg"><g>',
    "bare-stylesheet": b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>',
    "pdf-with-javascript": cda_document(non_xml(pdf({1: CATALOG_WITH_ACTION, 4: JS_ACTION}))),
    "html-attachment": cda_document(non_xml(b"<html><script>alert(1)</script></html>", "text/html")),
    "entity-bomb-attachment": cda_document(structured(
        f"<title>P</title><entry>{MEDIA.format(base64.b64encode(BILLION_LAUGHS).decode())}</entry>")),
}


def outcome(check, source) -> str:
    try:
        return check(source).kind
    except UnsupportedFormat as refusal:
        return f"refused:{refusal.code}"


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_a_sample_is_checked_and_indexed_from_one_parse_as_from_two(path):
    data = path.read_bytes()
    inspection = inspect_bytes(data)
    assert inspection.kind == inspect_file(path).kind == "cda"
    if len(data) <= formats.CDA_WHOLE_PARSE_BYTES:
        assert inspection.tree is not None
    assert cda.read_header(data, inspection.tree) == cda.read_header(path)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_document_gets_the_streaming_checks_answer(name, tmp_path):
    data = HOSTILE[name]
    path = tmp_path / "document.xml"
    path.write_bytes(data)
    in_memory, streamed = outcome(inspect_bytes, data), outcome(inspect_file, path)
    assert in_memory == streamed
    assert in_memory.startswith("refused:")


def test_a_large_cda_is_still_checked_by_streaming_and_keeps_no_tree(monkeypatch):
    monkeypatch.setattr(formats, "CDA_WHOLE_PARSE_BYTES", 1024)
    data = SAMPLES[0].read_bytes()
    assert len(data) > 1024
    inspection = inspect_bytes(data)
    assert inspection.kind == "cda" and inspection.tree is None
