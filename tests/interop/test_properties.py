"""Property-based checks of the parsers: whatever the bytes, the upload check answers with an Inspection or an
UnsupportedFormat, the CDA reader and renderer with a result or an UnsupportedFormat, the DICOM reader with a
study; rendered narrative never carries markup from the document."""

import string

import lxml.html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnet.interop.cda import parse_ts, read_header, render
from carnet.interop.dicom import DicomStudy, read_study
from carnet.interop.formats import Inspection, UnsupportedFormat, inspect_bytes
from tests.interop.builders import cda, pdf, structured

PREFIXES = [b"", b"%PDF-1.7\n", b"PK\x03\x04", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", bytes(128) + b"DICM",
            b'<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3">', b"<!DOCTYPE ", b"\xef\xbb\xbf<",
            b"\xff\xfe<\x00"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PREFIXES), st.binary(max_size=2048))
def test_inspection_never_raises_anything_but_unsupported_format(prefix, tail):
    try:
        result = inspect_bytes(prefix + tail)
    except UnsupportedFormat as refusal:
        assert refusal.code and refusal.message
    else:
        assert isinstance(result, Inspection)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=512), st.integers(min_value=0, max_value=2000))
def test_a_mangled_pdf_is_accepted_or_refused_never_crashes(noise, position):
    original = pdf({1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>"})
    position = min(position, len(original))
    try:
        inspect_bytes(original[:position] + noise + original[position:])
    except UnsupportedFormat:
        pass


XML_SAFE = string.ascii_letters + string.digits + string.punctuation + " \t\n" + "éàü"
narrative_text = st.text(alphabet=XML_SAFE, max_size=80)


@settings(max_examples=150, deadline=None)
@given(st.lists(narrative_text, min_size=1, max_size=4), st.sampled_from(["paragraph", "content", "td", "item"]))
def test_narrative_text_is_always_escaped(texts, tag):
    from xml.sax.saxutils import escape, quoteattr

    body = "".join(f"<{tag} styleCode={quoteattr(t[:10])}>{escape(t)}</{tag}>" for t in texts)
    if tag == "td":
        body = f"<table><tbody><tr>{body}</tr></tbody></table>"
    elif tag == "item":
        body = f"<list>{body}</list>"
    section = render(cda(structured(f"<title>T</title><text>{body}</text>"))).sections[0]
    fragment = lxml.html.fragment_fromstring(str(section.html) or "<p></p>", create_parent="div")
    for element in fragment.iter():
        assert set(element.attrib) <= {"class", "colspan", "rowspan"}
    assert "".join(fragment.text_content().split()) == "".join("".join(texts).split())


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600))
def test_the_cda_reader_refuses_garbage_cleanly(data):
    for reader in (read_header, render):
        try:
            reader(b'<?xml version="1.0"?>' + data)
        except UnsupportedFormat:
            pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_timestamps_parse_or_are_none(value):
    result = parse_ts(value)
    assert result is None or hasattr(result, "year")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=1024))
def test_read_study_never_raises(tmp_path, tail):
    path = tmp_path / "x.dcm"
    path.write_bytes(bytes(128) + b"DICM" + tail)
    assert isinstance(read_study(path), DicomStudy)
