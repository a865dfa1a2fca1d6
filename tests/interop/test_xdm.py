"""The IHE XDM reader (carnet/interop/xdm.py) on archives built in the test (tests/interop/xdm_archives.py) from CI-SIS
sample documents: ci-sis-2.41 VAC-NOTE_2021.01.xml, CR-BIO_2021.01_Electrophorese.xml, DLU-DLU_2021.01.xml and
ci-sis-3.0 BIO-CR-BIO_2021.01_Electrophorese.xml, plus a PDF made with reportlab. No database."""

import datetime as dt
import hashlib
import io
import os
import zipfile

import pytest

from carnet.interop.xdm import (
    XdmArchiveError,
    XdmEntryError,
    open_archive,
    parse_cx,
    parse_dtm,
    parse_xcn,
)
from tests.interop.builders import CDA_30, CDA_241, reportlab_pdf
from tests.interop.xdm_archives import (
    CONFIDENTIALITY_DMP,
    CONFIDENTIALITY_HL7,
    INS_30,
    INS_241,
    LAB,
    LOINC,
    TEST_NIR_OID,
    pdf_document,
    sample_30,
    sample_241,
    write_xdm,
    xdm_zip,
)

VAC = "VAC-NOTE_2021.01.xml"
BIO = "CR-BIO_2021.01_Electrophorese.xml"


@pytest.fixture
def pdf():
    return reportlab_pdf("Compte rendu de biologie")


def test_two_subsets_are_read_entry_by_entry(tmp_path, pdf):
    path = write_xdm(tmp_path / "dmp.zip",
                     [sample_241(VAC, "1.2.250.1.999.1.1", "87273-9", title="Note de vaccination",
                                 creation_time="20210409143500", service_start_time="20210409"),
                      pdf_document(pdf, "1.2.250.1.999.1.2", INS_241,
                                   confidentiality=(("N", CONFIDENTIALITY_HL7, "Normal"),
                                                    ("MASQUE_PS", CONFIDENTIALITY_DMP, "Masqué aux PS")))],
                     [sample_30("BIO-CR-BIO_2021.01_Electrophorese.xml", "1.2.250.1.999.2.1", "11502-2")])
    with open_archive(path) as archive:
        assert archive.subsets == ["SUBSET01", "SUBSET02"]
        vac, report, bio = archive.entries
        assert (vac.subset, vac.entry_id, vac.unique_id) == ("SUBSET01", "Document01001", "1.2.250.1.999.1.1")
        assert (vac.patient_id, vac.patient_number, vac.patient_oid) == (
            f"{INS_241}^^^&1.2.250.1.213.1.4.8&ISO", INS_241, "1.2.250.1.213.1.4.8")
        assert (vac.type.code, vac.type.scheme) == ("87273-9", LOINC)
        assert (vac.document_class.code, vac.format.code) == ("10", "urn:ihe:lab:xd-lab:2008")
        assert [c.code for c in vac.confidentiality] == ["N"]
        assert vac.title == "Note de vaccination" and vac.mime_type == "text/xml"
        assert vac.creation_time == dt.datetime(2021, 4, 9, 14, 35, tzinfo=dt.UTC)  # XDS times are UTC
        assert vac.service_start_time == dt.date(2021, 4, 9) and vac.act_time == dt.date(2021, 4, 9)
        data = (CDA_241 / VAC).read_bytes()
        assert (vac.size, vac.hash) == (len(data), hashlib.sha1(data).hexdigest())  # noqa: S324
        assert (vac.uri, vac.path, vac.problem) == ("DOC00001.XML", "IHE_XDM/SUBSET01/DOC00001.XML", None)
        author = vac.authors[0]
        assert (author.rpps, author.name, author.person_id_oid) == ("01234567897", "Charles MULLER",
                                                                    "1.2.250.1.71.4.2.1")
        assert author.specialty.startswith("G15_10/SM26")
        assert report.mime_type == "application/pdf" and report.path == "IHE_XDM/SUBSET01/DOC00002.PDF"
        assert [(c.code, c.scheme) for c in report.confidentiality] == [
            ("N", CONFIDENTIALITY_HL7), ("MASQUE_PS", CONFIDENTIALITY_DMP)]
        assert report.authors[0].institution == LAB.split("^")[0] and report.authors[0].rpps == "01234534765"
        assert (bio.subset, bio.patient_number, bio.patient_oid) == ("SUBSET02", INS_30, TEST_NIR_OID)
        with archive.extract(vac) as extracted:
            with open(extracted.path, "rb") as fh:
                assert fh.read() == data
            assert extracted.size == len(data) and extracted.sha256 == hashlib.sha256(data).hexdigest()
            assert extracted.temporary_file_path() == extracted.path and extracted.name == "DOC00001.XML"
            kept = extracted.path
        assert not os.path.exists(kept)  # the temporary copy goes with the block


@pytest.mark.parametrize(("overrides", "code"), [
    ({"hash": "0" * 40}, "hash_mismatch"),
    ({"hash": "ab" * 32}, "hash_mismatch"),  # a SHA-256 is accepted as a hash, but must match
    ({"size": 12}, "size_mismatch"),
])
def test_bytes_must_match_the_declared_hash_and_size(tmp_path, overrides, code):
    path = write_xdm(tmp_path / "dmp.zip", [sample_241(BIO, "1.2.250.1.999.3", "11502-2", **overrides)])
    with open_archive(path) as archive:
        with pytest.raises(XdmEntryError) as error, archive.extract(archive.entries[0]):
            pass
    assert error.value.code == code


def test_a_sha256_hash_is_accepted_when_it_matches(tmp_path):
    data = (CDA_241 / BIO).read_bytes()
    path = write_xdm(tmp_path / "dmp.zip", [sample_241(BIO, "1.2.250.1.999.3", "11502-2",
                                                       hash=hashlib.sha256(data).hexdigest())])
    with open_archive(path) as archive, archive.extract(archive.entries[0]) as extracted:
        assert extracted.size == len(data)


@pytest.mark.parametrize(("uri", "problem"), [
    ("../../etc/passwd", "bad_uri"),
    ("/IHE_XDM/SUBSET01/DOC00001.XML", "bad_uri"),
    ("file:///etc/passwd", "bad_uri"),
    ("DOC99999.XML", "missing_file"),
    ("", "metadata:URI"),
])
def test_a_bad_or_missing_uri_is_that_entrys_problem(tmp_path, uri, problem):
    path = write_xdm(tmp_path / "dmp.zip", [sample_241(BIO, "1.2.250.1.999.4", "11502-2", uri=uri),
                                            sample_241(VAC, "1.2.250.1.999.5", "87273-9")])
    with open_archive(path) as archive:
        first, second = archive.entries
        assert first.problem == problem and first.path is None
        assert second.problem is None
        with pytest.raises(XdmEntryError) as error, archive.extract(first):
            pass
        assert error.value.code == "missing_file"


def test_the_uri_is_found_whatever_its_case(tmp_path):
    path = write_xdm(tmp_path / "dmp.zip", [sample_241(BIO, "1.2.250.1.999.6", "11502-2", uri="doc00001.xml")])
    with open_archive(path) as archive:
        assert archive.entries[0].path == "IHE_XDM/SUBSET01/DOC00001.XML"


def test_a_missing_document_file_is_that_entrys_problem(tmp_path):
    path = write_xdm(tmp_path / "dmp.zip", [sample_241(BIO, "1.2.250.1.999.7", "11502-2")],
                     skip_files=("DOC00001.XML",))
    with open_archive(path) as archive:
        assert archive.entries[0].problem == "missing_file"


def test_replacement_associations_are_read(tmp_path):
    path = write_xdm(tmp_path / "dmp.zip", [sample_241(BIO, "1.2.250.1.999.8.1", "11502-2"),
                                            sample_241(BIO, "1.2.250.1.999.8.2", "11502-2",
                                                       replaces="Document01001")])
    with open_archive(path) as archive:
        old, new = archive.entries
        assert old.replaces_unique_id is None
        assert (new.replaces_entry_id, new.replaces_unique_id) == ("Document01001", "1.2.250.1.999.8.1")


def test_an_entry_without_unique_id_or_with_a_bad_hash_value_has_a_metadata_problem(tmp_path):
    path = write_xdm(tmp_path / "dmp.zip", [sample_241(BIO, "", "11502-2"),
                                            sample_241(VAC, "1.2.250.1.999.9", "87273-9", hash="not-a-hash")])
    with open_archive(path) as archive:
        assert [e.problem for e in archive.entries] == ["metadata:uniqueId", "metadata:hash"]


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_path_traversal_entry_refuses_the_whole_archive(tmp_path):
    path = tmp_path / "dmp.zip"
    path.write_bytes(xdm_zip([sample_241(BIO, "1.2.250.1.999.10", "11502-2")], extra={"../../evil.sh": b"#!/bin/sh"}))
    with pytest.raises(XdmArchiveError) as error, open_archive(path):
        pass
    assert error.value.code == "zip_unsafe_name"


def test_a_zip_bomb_entry_refuses_the_whole_archive(tmp_path):
    path = tmp_path / "dmp.zip"
    path.write_bytes(xdm_zip([sample_241(BIO, "1.2.250.1.999.11", "11502-2")],
                             extra={"IHE_XDM/SUBSET01/BOMB.XML": b"\0" * (20 * 1024 * 1024)}))
    assert path.stat().st_size < 200_000
    with pytest.raises(XdmArchiveError) as error, open_archive(path):
        pass
    assert error.value.code == "zip_bomb"


def _declare_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite a member's uncompressed size in its local header and central directory record."""
    patched = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    patched[info.header_offset + 22:info.header_offset + 26] = size.to_bytes(4, "little")
    at = patched.find(b"PK\x01\x02")
    while at >= 0:
        length = int.from_bytes(patched[at + 28:at + 30], "little")
        if patched[at + 46:at + 46 + length] == name.encode():
            patched[at + 24:at + 28] = size.to_bytes(4, "little")
        at = patched.find(b"PK\x01\x02", at + 4)
    return bytes(patched)


def test_a_member_larger_than_it_declares_is_caught_while_reading(tmp_path):
    """A lying header: the ZIP (and the metadata) say 10 bytes, the stream inflates to the whole document."""
    data = xdm_zip([sample_241(BIO, "1.2.250.1.999.12", "11502-2", size=10)])
    path = tmp_path / "dmp.zip"
    path.write_bytes(_declare_size(data, "IHE_XDM/SUBSET01/DOC00001.XML", 10))
    with open_archive(path) as opened:
        with pytest.raises(XdmEntryError) as error, opened.extract(opened.entries[0]):
            pass
    assert error.value.code in ("zip_bomb", "zip_invalid")  # never the 10 first bytes taken as the document


@pytest.mark.parametrize(("members", "code"), [
    ({"README.TXT": b"hello"}, "no_metadata"),
    ({"IHE_XDM/SUBSET01/METADATA.XML": b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"},
     "metadata_invalid"),
    ({"IHE_XDM/SUBSET01/METADATA.XML": b"<not-closed>"}, "metadata_invalid"),
    ({"IHE_XDM/SUBSET01/METADATA.XML": b"<html><body/></html>"}, "metadata_not_ebrim"),
])
def test_an_unreadable_archive_is_refused_whole(tmp_path, members, code):
    path = tmp_path / "dmp.zip"
    path.write_bytes(_zip(members))
    with pytest.raises(XdmArchiveError) as error, open_archive(path):
        pass
    assert error.value.code == code
    assert error.value.message


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "dmp.zip"
    path.write_bytes((CDA_241 / BIO).read_bytes())
    with pytest.raises(XdmArchiveError) as error, open_archive(path):
        pass
    assert error.value.code == "zip_invalid"
    with pytest.raises(XdmArchiveError) as error, open_archive(tmp_path / "absent.zip"):
        pass
    assert error.value.code == "not_found"


def test_xds_value_parsers():
    assert parse_dtm("20210409143500") == dt.datetime(2021, 4, 9, 14, 35, tzinfo=dt.UTC)
    assert parse_dtm("202104") == dt.date(2021, 4, 1) and parse_dtm("2021") == dt.date(2021, 1, 1)
    assert parse_dtm("20211345") is None and parse_dtm("") is None and parse_dtm(None) is None
    assert parse_cx(f"{INS_241}^^^&1.2.250.1.213.1.4.8&ISO") == (INS_241, "1.2.250.1.213.1.4.8")
    assert parse_cx("12345") == ("12345", None)
    author = parse_xcn("801234567897^MULLER^Charles^^^DR^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS")
    assert (author.rpps, author.family, author.given) == ("01234567897", "MULLER", "Charles")
    assert parse_xcn("001234567^DUPONT^Anne^^^^^^&1.2.250.1.71.4.2.1&ISO").rpps is None  # "0" + ADELI
    assert parse_xcn("^^^").name is None


def test_samples_used_here_exist():
    assert (CDA_241 / VAC).exists() and (CDA_241 / BIO).exists()
    assert (CDA_30 / "BIO-CR-BIO_2021.01_Electrophorese.xml").exists()
