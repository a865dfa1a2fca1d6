"""CDA header reading and safe rendering, on every ANS example (ci-sis-3.0 and ci-sis-2.41 folders of
/work/shared/samples/cda) plus hand-made documents for the hostile cases. Expected values below were read from
the sample files themselves."""

import datetime as dt

import lxml.html
import pytest

from carnet.interop.cda import InstanceId, Organisation, parse_ts, read_header, render
from carnet.interop.formats import UnsupportedFormat
from carnet.interop.terminology import Code, document_type, format_code_for
from tests.interop.builders import CDA_30, CDA_241, cda, non_xml, reportlab_pdf, structured

SAMPLES = sorted([*CDA_30.glob("*.xml"), *CDA_241.glob("*.xml")])
PLUS_ONE = dt.timezone(dt.timedelta(hours=1))


def test_the_sample_folders_are_there():
    assert len(SAMPLES) == 68


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_sample_header_reads_with_a_j07_type(path):
    header = read_header(path)
    assert header.type is not None
    assert document_type(header.type.code, header.type.system) is not None, header.type
    assert header.ins is not None and header.ins.extension
    assert header.body_kind == "structured"
    assert header.authors and header.effective_time is not None


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_sample_renders_with_titled_sections(path):
    rendered = render(path)
    assert rendered.embedded is None
    assert rendered.sections and any(section.title for section in rendered.sections)
    assert rendered.header == read_header(path)


WITH_PDF = [p for p in SAMPLES if b'mediaType="application/pdf"' in p.read_bytes()]


@pytest.mark.parametrize("path", WITH_PDF, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_sample_carrying_a_pdf_renders_it_as_a_pdf(path):
    rendered = render(path)
    pdfs = [a for a in rendered.attachments if a.media_type == "application/pdf"]
    assert pdfs and all(a.data.startswith(b"%PDF") for a in pdfs)


def test_cse_cs8_header_field_by_field():
    header = read_header(CDA_30 / "CSE-CS8_2024.01.xml")
    assert header.document_id == InstanceId("1.2.250.1.213.1.1.1.5.1.2024.1.1")
    assert header.type == Code("CERT_DECL", "1.2.250.1.213.1.1.4.12", "Certificat, déclaration")
    assert header.title == ("PREMIER CERTIFICAT DE SANTE (à établir obligatoirement dans les 8 jours suivant la "
                            "naissance)")
    assert header.effective_time == dt.datetime(2021, 5, 3, 11, 45, tzinfo=PLUS_ONE)
    assert header.confidentiality == Code("N", "2.16.840.1.113883.5.25", "Normal")
    assert header.language == "fr-FR"
    assert header.set_id == InstanceId("1.2.250.1.213.1.1.1.5.1.2024.1")
    assert header.version_number == 1
    assert header.replaces == InstanceId("1.2.250.1.213.1.1.1.5.1.1")
    assert header.patient_ids == (InstanceId("1.2.250.1.213.1.4.8", "223042545611404"),
                                  InstanceId("1.2.3.4.5.6.7.8.9.10", "594857603"))
    assert (header.patient_family, header.patient_given, header.patient_used_family) == ("DECOURCY", "Ruth",
                                                                                         "DECOURCY")
    assert header.patient_birth_date == dt.date(2023, 4, 25)
    assert header.patient_gender == "F"
    author = header.authors[0]
    assert (author.name, author.family, author.given) == ("Charles MULLER", "MULLER", "Charles")
    assert author.id == InstanceId("1.2.250.1.71.4.2.1", "801234567897")
    assert author.rpps == "01234567897"
    assert author.role == Code("G15_10/SM40", "1.2.250.1.213.1.1.4.5", "Médecin - Pédiatrie (SM)")
    assert author.organisation == Organisation("Clinique du Belvédère", InstanceId("1.2.250.1.71.4.2.2",
                                                                                     "1120456789"))
    assert author.time == dt.datetime(2021, 5, 3, 11, 45, tzinfo=PLUS_ONE)
    assert header.custodian == Organisation("Clinique du Belvédère", InstanceId("1.2.250.1.71.4.2.2", "1120456789"))
    assert header.body_kind == "structured" and header.self_presenting is False
    assert "1.2.250.1.213.1.1.1.5.1" in header.template_ids
    assert format_code_for("cda", header).code == "urn:asip:ci-sis:cse-cs8:2017"


def test_vac_note_2_41_header_field_by_field():
    header = read_header(CDA_241 / "VAC-NOTE_2021.01.xml")
    assert header.document_id == InstanceId("4c419a73-7d22-4098-9b4e-007e3a47d863")
    assert header.type == Code("87273-9", "2.16.840.1.113883.6.1", "Note de vaccination")
    assert header.title == "NOTE DE VACCINATION"
    assert header.effective_time == dt.datetime(2021, 4, 9, 15, 35, tzinfo=PLUS_ONE)
    assert header.set_id == InstanceId("1981E7F8-F41F-4B6F-8CC9-BAFAEE661C30")
    assert header.version_number == 1 and header.replaces is None
    assert header.ins == InstanceId("1.2.250.1.213.1.4.8", "277076322082910")  # production INS OID in 2.x
    assert (header.patient_family, header.patient_given, header.patient_used_family) == ("NESSI", "RUTH", "DECOURCY")
    assert header.patient_birth_date == dt.date(1977, 7, 14)
    author = header.authors[0]
    assert author.rpps == "01234567897" and author.role.code == "G15_10/SM26"
    assert author.organisation.name == "Cabinet Médical du Dr MULLER"
    assert author.time == dt.datetime(2010, 6, 3, 9, 49, 14, tzinfo=PLUS_ONE)
    assert header.custodian == Organisation("Cabinet médical du Dr MULLER", InstanceId("1.2.250.1.71.4.2.2",
                                                                                         "101238887"))
    assert format_code_for("cda", header).code == "urn:asip:ci-sis:vac-note:2021"


def test_ips_replacement_header_field_by_field():
    header = read_header(CDA_30 / "IPS-FR_2024.01_DLU.xml")
    assert header.document_id == InstanceId("1.2.250.1.213.1.1.1.51.2024.2.1")
    assert header.type == Code("74207-2", "2.16.840.1.113883.6.1", "Document de liaison d'urgence")
    assert header.title == "SYNTHESE MEDICALE"
    assert header.effective_time == dt.datetime(2024, 4, 2, 11, 17, tzinfo=PLUS_ONE)
    assert header.version_number == 2
    assert header.replaces == InstanceId("AA2F476F-CA64-47BF-AED1-852692B493D9")
    assert header.patient_ids == (InstanceId("1.2.250.1.213.1.4.10", "279035121518989"),)  # test INS OID
    assert (header.patient_family, header.patient_given) == ("PAT-TROIS", "DOMINIQUE")
    assert header.patient_birth_date == dt.date(1979, 3, 28)
    assert header.authors[0].name == "Charles BOILEAU"
    assert header.custodian == Organisation("EHPAD DE BOULOGNE-BILLANCOURT", InstanceId("1.2.250.1.71.4.2.2",
                                                                                          "1750803447"))
    assert format_code_for("cda", header).code == "urn:ihe:pcc:ips:2020"


def test_oph_bre_replacement_with_extension():
    header = read_header(CDA_30 / "OPH-BRE_2022.02.xml")
    assert header.document_id == InstanceId("1.2.250.1.213.1.1.1.42.2022.1.1")
    assert header.title == "Ophtalmologie - Bilan de réfraction"
    assert header.version_number == 3
    assert header.replaces == InstanceId("1.2.250.1.213.1.1.9", "OPH-BRE_2021.01_20210827_00001_2")
    author = header.authors[0]
    assert (author.name, author.role) == ("Bernard VACQUIER", Code("G15_28", "1.2.250.1.213.1.1.4.5",
                                                                   "Opticien-Lunetier"))
    assert author.time == dt.datetime(2021, 8, 27, 16, 5, 28, tzinfo=PLUS_ONE)
    assert header.custodian == Organisation("Opticien du centre", InstanceId("1.2.250.1.71.4.2.2", "1120456789"))
    assert format_code_for("cda", header).code == "urn:ihe:eyecare:geneyeevalcn:2014"


def test_reimbursement_data_authored_by_a_device():
    header = read_header(CDA_241 / "CNAM-HR_2021.01.xml")
    assert header.document_id == InstanceId("C9A3A0C6-59E1-4DCC-9210-CC39339E635D")
    assert header.type == Code("REMB", "1.2.250.1.213.1.1.4.12", "Données de remboursement")
    assert header.effective_time == dt.datetime(2019, 7, 1, 16, 49, tzinfo=PLUS_ONE)
    author = header.authors[0]
    assert author.device == "Assurance Maladie" and author.name is None
    assert author.id == InstanceId("1.2.250.1.71.4.2.1", "518003502400041/1.2.250.1.215.1.2")
    assert author.rpps is None  # not "8" + RPPS
    assert author.time == dt.datetime(2019, 7, 1, 16, 49, tzinfo=PLUS_ONE)  # 12-digit timestamp
    assert header.custodian == Organisation("Assurance Maladie", InstanceId("1.2.250.1.71.4.2.2", "318003502400041"))


def test_a_self_presenting_cda_is_read_as_data_without_running_its_stylesheet():
    path = CDA_30 / "CANCER-PPS_2022.01_Autopresentable.xml"
    header = read_header(path)
    assert header.self_presenting is True
    assert header.document_id == InstanceId("1.2.250.1.213.1.1.1.26.2022.1.1")
    assert header.type == Code("18776-5", "2.16.840.1.113883.6.1", "Plan personnalisé de soins")
    assert header.title == "PROGRAMME PERSONNALISÉ DE SOINS EN CANCEROLOGIE"
    assert header.effective_time == dt.datetime(2021, 1, 13, 12, 17, tzinfo=PLUS_ONE)
    assert header.patient_birth_date == dt.date(1976, 5, 31)
    assert header.authors[0].organisation == Organisation("Clinique du Dr. MULLER",
                                                          InstanceId("1.2.250.1.71.4.2.2", "2801234567"))
    assert header.custodian.name == "Centre de coordination en cancérologie d'ANGERS"
    assert "xsl" not in "".join(section.html for section in render(path).sections).lower()


def test_lab_report_with_attached_pdfs_renders_them_as_attachments():
    rendered = render(CDA_30 / "BIO-CR-BIO_2024.01_CR-2nde-intention-PDF.xml")
    assert [(a.id, a.media_type, len(a.data)) for a in rendered.attachments] == [
        ("CRBio", "application/pdf", 82200), ("doc-1", "application/pdf", 104574)]
    assert all(a.data.startswith(b"%PDF") for a in rendered.attachments)
    assert [s.title for s in rendered.sections] == [
        "Non conformité", "Hématologie", "Compte rendu de laboratoire de seconde intention (PDF)",
        "Copie du document"]
    assert [s.title for s in rendered.sections[1].sections] == ["Hémostase, coagulation"]
    assert "<th>Examen</th>" in rendered.sections[1].sections[0].html
    assert "voir les pièces jointes" in rendered.sections[2].html


def test_declared_media_types_are_not_trusted():
    rendered = render(CDA_30 / "eP-MED-DM_2022.01_PosoStruct.xml")
    logo = rendered.attachments[0]
    assert (logo.declared_media_type, logo.media_type) == ("image/jpeg", "image/png")  # as found in the example


def test_an_unstructured_cda_renders_its_embedded_pdf():
    document = cda(non_xml(reportlab_pdf()))
    header = read_header(document)
    assert (header.body_kind, header.non_xml_media_type, header.non_xml_representation) == (
        "non-xml", "application/pdf", "B64")
    assert header.effective_time == dt.date(2024, 1, 15)  # date only: stays a date
    assert header.authors[0].time == dt.datetime(2024, 1, 15, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    rendered = render(document)
    assert rendered.sections == () and rendered.embedded.data.startswith(b"%PDF")
    assert rendered.embedded.media_type == "application/pdf"
    assert format_code_for("cda", header).code == "urn:ihe:iti:xds-sd:pdf:2008"


def test_an_unstructured_cda_with_a_dangerous_body_is_not_rendered():
    with pytest.raises(UnsupportedFormat) as caught:
        render(cda(non_xml(b"<html><script>alert(1)</script></html>", "text/html")))
    assert caught.value.code == "cda_attachment"


HOSTILE = structured(
    """<title>Résultats <script>alert('titre')</script></title>
    <text>
      <paragraph onclick="alert(1)" style="background:url(javascript:alert(2))">Bonjour
        <script>alert(3)</script><content styleCode="Bold" onmouseover="alert(4)">gras</content>
        <content styleCode="Italics Underline">souligné</content>
        <linkHtml href="javascript:alert(5)" onclick="alert(6)">cliquez</linkHtml>
        &lt;img src=x onerror=alert(7)&gt;
        <x:iframe xmlns:x="http://www.w3.org/1999/xhtml" src="javascript:alert(8)">cadre</x:iframe>
        <renderMultiMedia referencedObject="absent"/>
      </paragraph>
      <table border="1" onload="alert(9)"><thead><tr><th colspan="2 onmouseover=alert(10)">A</th></tr></thead>
        <tbody><tr><td rowspan="3" colspan="2" style="x">1</td><td colspan="999999">2</td></tr></tbody></table>
      <list listType="ordered"><item>un</item><item><a href="javascript:alert(11)">deux</a></item></list>
      <paragraph><table><tr><td>dans un paragraphe</td></tr></table></paragraph>
      <object data="evil.swf"/><style>body{display:none}</style>
      <content revised="delete">ancien</content>
    </text>""")
ALLOWED_TAGS = {"p", "div", "ul", "ol", "li", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
                "strong", "em", "u", "br", "sub", "sup", "span", "small", "del", "ins"}


def test_injected_markup_never_survives_rendering():
    section = render(cda(HOSTILE)).sections[0]
    html = str(section.html)
    for forbidden in ("<script", "onclick", "onmouseover", "onload", "javascript:", "<iframe", "<img", "style=",
                      "href", "<object", "<a ", "border="):
        assert forbidden not in html, forbidden
    for element in lxml.html.fragment_fromstring(html, create_parent="div").iter():
        assert element.tag in ALLOWED_TAGS | {"div"}, element.tag
        assert set(element.attrib) <= {"colspan", "rowspan", "class"}, element.attrib
    assert "&lt;img src=x onerror=alert(7)&gt;" in html  # text stays text, escaped
    assert "<strong>gras</strong>" in html and "<u><em>souligné</em></u>" in html
    assert 'rowspan="3" colspan="2"' in html.replace('colspan="2" rowspan="3"', 'rowspan="3" colspan="2"')
    assert "999999" not in html and "cliquez" in html and "deux" in html
    assert "<ol><li>un</li>" in html and "<del>ancien</del>" in html
    assert "display:none" not in html
    assert section.title == "Résultats alert('titre')"  # plain text for the template to escape


@pytest.mark.parametrize("value, expected", [
    ("20210503114500+0100", dt.datetime(2021, 5, 3, 11, 45, tzinfo=PLUS_ONE)),
    ("20210503114500.123-0500", dt.datetime(2021, 5, 3, 11, 45, tzinfo=dt.timezone(dt.timedelta(hours=-5)))),
    ("197707", dt.date(1977, 7, 1)),
    ("20211301", None),
    ("n/a", None),
    (None, None),
])
def test_hl7_timestamps(value, expected):
    assert parse_ts(value) == expected


def test_a_timestamp_without_offset_is_paris_time():
    value = parse_ts("20240701120000")
    assert value.utcoffset() == dt.timedelta(hours=2)  # CEST


@pytest.mark.parametrize("document, code", [
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><ClinicalDocument xmlns="urn:hl7-org:v3"/>',
     "xml_entities"),
    (b"<invoice/>", "xml_not_cda"),
    (b"<ClinicalDocument", "xml_invalid"),
])
def test_unsafe_or_non_cda_xml_is_refused_by_the_reader(document, code):
    for reader in (read_header, render):
        with pytest.raises(UnsupportedFormat) as caught:
            reader(document)
        assert caught.value.code == code
