"""The byte-level PDF scan (`carnet.interop.pdf_scan`) that replaced a per-name Python tokeniser: it must find
every denied name the old tokeniser found (same offsets), whatever the escapes, and the same ``stream`` keywords.
Files are built in the test (tests/interop/builders.py); no sample file is needed."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import carnet.interop.formats as formats
from carnet.interop import pdf_scan
from carnet.interop.formats import CHUNK, PDF_DENIED, PDF_DENIED_NAMES, UnsupportedFormat, inspect_bytes
from tests.interop.builders import flate_stream, pdf

# The tokeniser the scan replaced (formats.py until 2026-11-26), kept here as the reference.
OLD_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]{1,127})")
OLD_STREAM = re.compile(rb"(?<!end)stream\r?\n")
JS_ACTION = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"


def old_denied(buffer: bytes) -> list[tuple[int, str]]:
    found = []
    for match in OLD_NAME.finditer(buffer):
        name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), match.group(1)).decode("latin-1")
        if name in PDF_DENIED:
            found.append((match.start(), name))
    return found


def refusal(data: bytes) -> str:
    with pytest.raises(UnsupportedFormat) as caught:
        inspect_bytes(data)
    return caught.value.code


@pytest.mark.parametrize("spelling, code", [
    (b"/J#61vaScript", "pdf_javascript"),
    (b"/#4a#53", "pdf_javascript"),  # lower-case hex digits
    (b"/#4A#53", "pdf_javascript"),
    (b"/#41#41", "pdf_javascript"),  # /AA
    (b"/L#61un#63h", "pdf_action"),
    (b"/Emb#65ddedFiles", "pdf_embedded_file"),
])
def test_escaped_names_are_refused_even_without_the_pypdf_walk(spelling, code, monkeypatch):
    action = b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /GoTo " + spelling + b" (x) >> >>"
    assert refusal(pdf({1: action})) == code
    monkeypatch.setattr(formats, "_scan_pdf_objects", lambda fh: None)
    assert refusal(pdf({1: action})) == code


def test_an_open_action_running_javascript_is_refused_in_every_layout():
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>"
    assert refusal(pdf({1: catalog, 4: JS_ACTION})) == "pdf_javascript"
    assert refusal(pdf({1: catalog, 4: JS_ACTION}, packed=(1, 2, 3, 4))) == "pdf_javascript"
    assert refusal(pdf({1: catalog, 4: JS_ACTION}, packed=(4,), hex_wrap=True)) == "pdf_javascript"


def test_automatic_actions_and_launch_inside_an_object_stream_are_refused(monkeypatch):
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /AA << /O 4 0 R >> >>"
    launch = b"<< /S /Launch /F (calc.exe) >>"
    files = {"pdf_javascript": pdf({3: page, 4: b"<< /S /GoTo /D [3 0 R /Fit] >>"}, packed=(3,)),
             "pdf_action": pdf({4: launch}, packed=(1, 2, 3, 4))}
    monkeypatch.setattr(formats, "_scan_pdf_objects", lambda fh: None)  # the raw passes alone
    for code, data in files.items():
        assert refusal(data) == code


def test_a_disguised_object_stream_is_still_read_by_the_structural_pass():
    """``/Obj#53tm`` is /ObjStm to a reader; the raw pass does not inflate it, pypdf does."""
    hidden = pdf({1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>", 4: JS_ACTION}, packed=(1, 2, 3, 4))
    disguised = hidden.replace(b"/Type /ObjStm", b"/Type /Obj#53tm")
    assert disguised != hidden
    assert refusal(disguised) in {"pdf_javascript", "pdf_unreadable"}


def test_a_name_ended_by_a_vertical_tab_is_a_denied_name(monkeypatch):
    """pypdf ends a name at a vertical tab; the old tokeniser did not, so ``/JS\\v`` slipped past the raw pass."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    orphan = b"<< /S /JavaScript\x0b/JS\x0b(x) >>"
    monkeypatch.setattr(formats, "_scan_pdf_objects", lambda fh: None)
    assert refusal(pdf({1: catalog}, orphans=(orphan,))) == "pdf_javascript"


def test_a_denied_name_across_the_read_chunk_boundary_is_found(monkeypatch):
    def build(filler: int) -> bytes:
        return pdf(orphans=(b"<< /X (" + b"y" * filler + b") /S /JavaScript >>",))

    # Put "/JavaScript" so that it starts 4 bytes before the 1 MiB boundary of the raw pass's reads.
    draft = build(0).index(b"/JavaScript")
    data = build(CHUNK - 4 - draft)
    at = data.index(b"/JavaScript")
    assert at < CHUNK < at + len(b"/JavaScript")
    monkeypatch.setattr(formats, "_scan_pdf_objects", lambda fh: None)
    assert refusal(data) == "pdf_javascript"


def test_denied_names_in_compressed_non_object_streams_are_data_not_content():
    text = flate_stream(b"BT /F1 12 Tf (/JS) Tj ET /JavaScript /J#61vaScript")
    assert inspect_bytes(pdf({5: text})).kind == "pdf"
    assert refusal(pdf({5: flate_stream(JS_ACTION, object_stream=True)})) == "pdf_javascript"


# --- the pattern against the old tokeniser ----------------------------------------------------------------------

TOKENS = [b"/JS", b"/JavaScript", b"/AA", b"/XFA", b"/Launch", b"/GoToE", b"/RichMedia", b"/EmbeddedFile",
          b"/J#53", b"/#4a#53", b"/#4A#61vaScript", b"/A#41", b"/JSX", b"/AAA", b"/Type", b"/", b"#", b"#4",
          b"stream\n", b"stream\r\n", b"endstream\n", b"stream", b"end", b"obj", b" ", b"\n", b"\r", b"\x00",
          b"\x0c", b"\t", b"(", b")", b"<<", b">>", b"[", b"]", b"{", b"%", b"x", b"9", b"\xff"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_the_pattern_finds_every_denied_name_the_old_tokeniser_found(tokens):
    buffer = b"".join(tokens)
    new = list(pdf_scan.find_names(PDF_DENIED_NAMES, buffer))
    assert set(old_denied(buffer)) <= set(new)
    for offset, name in new:  # and nothing that is not a denied name
        assert name in PDF_DENIED
        assert buffer[offset:offset + 1] == b"/"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_stream_keywords_are_those_of_the_old_pattern(tokens):
    buffer = b"".join(tokens)
    old = [(m.start(), m.end()) for m in OLD_STREAM.finditer(buffer)]
    assert list(pdf_scan.stream_starts(buffer)) == old
    assert pdf_scan.last_stream_start(buffer) == (old[-1][0] if old else -1)


def test_random_bytes_give_the_same_answers_as_the_old_tokeniser():
    import random

    rng = random.Random(2026)
    for _ in range(50):
        buffer = rng.randbytes(100_000)
        assert set(old_denied(buffer)) <= set(pdf_scan.find_names(PDF_DENIED_NAMES, buffer))
        old = [(m.start(), m.end()) for m in OLD_STREAM.finditer(buffer)]
        assert list(pdf_scan.stream_starts(buffer)) == old


def test_a_few_names_in_compressed_data_pass_but_a_file_stuffed_with_them_is_not_checked_at_length():
    """Each such name costs a look back of up to 8 MiB; random data holds about one per 130 MB."""
    def image(hits: int) -> bytes:
        payload = b"\x00\x01/JS\n" * hits
        return (b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 8 /ColorSpace /DeviceGray "
                b"/Filter /DCTDecode /Length %d >>\nstream\n" % len(payload)) + payload + b"\nendstream"

    assert inspect_bytes(pdf({5: image(formats.PDF_MAX_OPAQUE_HITS)})).kind == "pdf"
    assert refusal(pdf({5: image(formats.PDF_MAX_OPAQUE_HITS + 1)})) == "pdf_unreadable"
