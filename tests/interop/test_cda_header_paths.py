"""`cda.read_header` parses a small CDA whole and a large one up to its body only (a speed choice): both ways
must read the same header, refuse the same things, and tell a self-presenting CDA.

Material: every CDA of /work/shared/samples/cda/ (CI-SIS 2.41 and 3.0 examples published by the ANS), read
both ways.
"""

from pathlib import Path

import pytest

from carnet.interop import cda
from carnet.interop.formats import UnsupportedFormat

SAMPLES = sorted(Path("/work/shared/samples/cda").rglob("*.xml"))


def both_ways(source, monkeypatch):
    """The header read whole, then pulled up to the body (the threshold set to 0), or the refusal codes."""
    out = []
    for threshold in (cda.WHOLE_PARSE_BYTES, 0):
        monkeypatch.setattr(cda, "WHOLE_PARSE_BYTES", threshold)
        try:
            out.append(cda.read_header(source))
        except UnsupportedFormat as refusal:
            out.append(("refused", refusal.code))
    return out


def test_the_samples_are_there():
    assert len(SAMPLES) >= 20


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_whole_and_pulled_headers_are_the_same(path, monkeypatch):
    whole, pulled = both_ways(path.read_bytes(), monkeypatch)
    assert whole == pulled
    from_path, _pulled = both_ways(path, monkeypatch)
    assert from_path == whole


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><ClinicalDocument xmlns="urn:hl7-org:v3"/>',
    b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
    b'<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><title>x</title>',
])
def test_both_ways_refuse_the_same_bad_xml(body, monkeypatch):
    whole, pulled = both_ways(body, monkeypatch)
    assert whole == pulled and whole[0] == "refused"


def test_a_self_presenting_cda_is_read_inside_its_stylesheet_both_ways(monkeypatch):
    inner = b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>Compte rendu</title><component><structuredBody/>' \
            b'</component></ClinicalDocument>'
    body = (b'<?xml version="1.0"?><xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
            b'<xsl:template match="/">' + inner + b'</xsl:template></xsl:stylesheet>')
    whole, pulled = both_ways(body, monkeypatch)
    assert whole == pulled
    assert whole.self_presenting and whole.title == "Compte rendu" and whole.body_kind == "structured"
