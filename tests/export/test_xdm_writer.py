"""carnet/interop/xdm_writer.py read back by carnet/interop/xdm.py (the reader import_dmp uses): what is written
is what is read, including names carrying HL7 separators and dates in UTC. Content: the ci-sis-2.41 example
DLU-DLU_2021.01.xml from ../shared/samples."""

import datetime as dt
import hashlib
import zipfile
from zoneinfo import ZoneInfo

from carnet.interop.xdm import open_archive
from carnet.interop.xdm_writer import Code, Submission, XdmEntry, XdmFolder, XdmZipWriter, cx, dtm, xcn
from tests.interop.builders import CDA_241
from tests.interop.xdm_archives import INS_241

LOINC = "2.16.840.1.113883.6.1"


def test_written_media_reads_back(tmp_path):
    data = (CDA_241 / "DLU-DLU_2021.01.xml").read_bytes()
    path = tmp_path / "media.zip"
    paris = dt.datetime(2021, 6, 1, 10, 30, 15, tzinfo=ZoneInfo("Europe/Paris"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        writer = XdmZipWriter(archive)
        size, sha1 = writer.add_document("SUBSET01", "DOC00001.XML", iter([data[:1000], data[1000:]]))
        patient = cx(INS_241, "1.2.250.1.213.1.4.8")
        entries = [
            XdmEntry(entry_id="Document00001", unique_id="1.2.250.1.999.30.1", patient_id=patient,
                     mime_type="text/xml", title="Liaison", creation_time=dtm(paris),
                     service_start_time=dtm(dt.date(2021, 5, 31)), type=Code("34133-9", LOINC, "Liaison"),
                     class_code=Code("10", "1.2.250.1.213.1.1.4.1"), format=None, uri="DOC00001.XML",
                     confidentiality=(Code("MASQUE_PS", "1.2.250.1.213.1.1.4.13"),),
                     author_person=xcn(family="DE LA^FONTAINE", given="Jean", rpps="01234567897"),
                     hash=sha1, size=size),
        ]
        writer.add_metadata("SUBSET01", Submission("1.2.250.1.999.30", "1.2.250.1.213.4.1", patient,
                                                   dtm(paris)), entries)
        writer.add_readme("Lisez-moi\n", "<html lang='fr'></html>")
    assert (size, sha1) == (len(data), hashlib.sha1(data).hexdigest())  # noqa: S324
    with open_archive(path) as media:
        [entry] = media.entries
        assert entry.problem is None
        assert (entry.unique_id, entry.patient_number, entry.title) == ("1.2.250.1.999.30.1", INS_241, "Liaison")
        assert entry.creation_time == dt.datetime(2021, 6, 1, 8, 30, 15, tzinfo=dt.UTC)  # stored in UTC
        assert entry.service_start_time == dt.date(2021, 5, 31)
        assert [c.code for c in entry.confidentiality] == ["MASQUE_PS"]
        [author] = entry.authors
        assert (author.rpps, author.family, author.given) == ("01234567897", "DE LA FONTAINE", "Jean")
        with media.extract(entry) as extracted:
            assert extracted.sha256 == hashlib.sha256(data).hexdigest()


def test_folders_event_codes_version_and_carnet_slots_read_back(tmp_path):
    """An XDS Folder with its member, eventCodeList, Description, VersionInfo, serviceStopTime and urn:carnet:* slots
    (ITI TF-3 §4.2.3.2, §4.2.3.4) are what the reader gives back."""
    data = (CDA_241 / "DLU-DLU_2021.01.xml").read_bytes()
    path = tmp_path / "media.zip"
    patient = cx(INS_241, "1.2.250.1.213.1.4.8")
    with zipfile.ZipFile(path, "w") as archive:
        writer = XdmZipWriter(archive)
        size, sha1 = writer.add_document("SUBSET01", "DOC00001.XML", [data])
        entry = XdmEntry(entry_id="Document00001", unique_id="1.2.250.1.999.31.1", patient_id=patient,
                         mime_type="text/xml", title="Liaison", creation_time="20210601083015",
                         type=Code("34133-9", LOINC), class_code=None, format=None, uri="DOC00001.XML", hash=sha1,
                         size=size, event_codes=(Code("80146002", "http://snomed.info/sct", "Appendectomy"),),
                         comments="Après chirurgie", version="3", folders=("Folder00001",),
                         extra_slots={"urn:carnet:source": "professional", "serviceStopTime": "20210602"},
                         author_person=xcn(family="Martin", given="Léa", ins=INS_241, ins_oid="1.2.250.1.213.1.4.8"))
        folder = XdmFolder("Folder00001", "1.2.250.1.999.31.9", patient, "Suivi", (Code("dossier", "urn:x"),),
                           "20210601083015", {"urn:carnet:holderFolder": "true"})
        writer.add_metadata("SUBSET01", Submission("1.2.250.1.999.31", "1.2.250.1.213.4.1", patient,
                                                   "20210601083015"), [entry], [folder])
    with open_archive(path) as media:
        [read] = media.entries
        [found] = media.folders
    assert read.problem is None and read.folders == ("1.2.250.1.999.31.9",)
    assert [(c.code, c.scheme, c.display) for c in read.event_codes] == [
        ("80146002", "http://snomed.info/sct", "Appendectomy")]
    assert (read.comments, read.version, read.service_stop_time) == ("Après chirurgie", "3", dt.date(2021, 6, 2))
    assert read.carnet == {"source": "professional"}
    assert (read.authors[0].person_id, read.authors[0].person_id_oid) == (INS_241, "1.2.250.1.213.1.4.8")
    assert (found.unique_id, found.title, found.patient_number, found.carnet) == (
        "1.2.250.1.999.31.9", "Suivi", INS_241, {"holderFolder": "true"})
    assert [c.code for c in found.codes] == ["dossier"]
    assert found.last_update_time == dt.datetime(2021, 6, 1, 8, 30, 15, tzinfo=dt.UTC)
