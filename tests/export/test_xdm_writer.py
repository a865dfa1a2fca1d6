"""carnet/interop/xdm_writer.py read back by carnet/interop/xdm.py (the reader import_dmp uses): what is written
is what is read, including names carrying HL7 separators and dates in UTC. Content: the ci-sis-2.41 example
DLU-DLU_2021.01.xml from ../shared/samples."""

import datetime as dt
import hashlib
import zipfile
from zoneinfo import ZoneInfo

from carnet.interop.xdm import open_archive
from carnet.interop.xdm_writer import Code, Submission, XdmEntry, XdmZipWriter, cx, dtm, xcn
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
