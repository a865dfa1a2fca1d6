"""DICOM summaries and previews, on files shipped in the pydicom wheel (CT_small.dcm, MR_small.dcm,
SC_rgb_small_odd.dcm, MR_small_RLE.dcm, SC_rgb_jpeg_dcmtk.dcm, MR_truncated.dcm, JPEG-lossy.dcm)."""

import datetime as dt
import io
import zipfile

from PIL import Image

from carnet.interop.dicom import DicomStudy, read_study
from carnet.interop.formats import inspect_file
from tests.interop.builders import dicom_file


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        image.load()
        return image.size


def test_ct_small_metadata_and_preview():
    study = read_study(dicom_file("CT_small.dcm"))
    assert study.modality == "CT" and study.modalities == ("CT",)
    assert study.body_part is None
    assert study.study_date == dt.date(2004, 1, 19)
    assert study.study_description == "e+1"
    assert study.patient_id == "1CT1"
    assert (study.series_count, study.image_count, study.instance_count, study.unreadable) == (1, 1, 1, 0)
    assert png_size(study.preview_png) == (128, 128)


def test_compressed_and_colour_images_get_a_preview():
    for name in ("MR_small_RLE.dcm", "SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_small_odd.dcm"):
        study = read_study(dicom_file(name))
        assert study.preview_png is not None, name
        assert max(png_size(study.preview_png)) <= 512


def test_a_frame_no_installed_decoder_handles_gives_metadata_without_preview():
    study = read_study(dicom_file("JPEG-lossy.dcm"))  # 12-bit JPEG: Pillow cannot decode it
    assert (study.modality, study.body_part, study.study_description) == ("NM", "WHOLE BODY", "Whole Body Bone")
    assert study.preview_png is None


def test_a_truncated_file_keeps_its_metadata_and_has_no_preview():
    study = read_study(dicom_file("MR_truncated.dcm"))
    assert study.modality == "MR" and study.patient_id == "4MR1"
    assert study.preview_png is None


def test_garbage_after_the_dicm_marker_never_crashes(tmp_path):
    path = tmp_path / "garbage.dcm"
    path.write_bytes(bytes(128) + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff" + b"\xde\xad\xbe\xef" * 300)
    study = read_study(path)
    assert study.preview_png is None and study.modality is None and study.image_count == 0
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(dicom_file("CT_small.dcm").read_bytes()[:2000])
    assert read_study(cut).preview_png is None


def test_a_file_that_is_not_dicom_gives_an_empty_study(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("bonjour")
    assert read_study(path) == DicomStudy()


def test_a_zip_of_dicom_files_is_summarised_without_extracting_it(tmp_path):
    path = tmp_path / "etude.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("CT_small.dcm", "MR_small.dcm", "SC_rgb_small_odd.dcm"):
            archive.write(dicom_file(name), f"etude/{name}")
        archive.writestr("__MACOSX/etude/._CT_small.dcm", b"\x00\x05\x16\x07")
    assert inspect_file(path).entries == 3
    study = read_study(path)
    assert set(study.modalities) == {"CT", "MR", "OT"}
    assert (study.series_count, study.image_count) == (3, 3)
    assert study.study_date in {dt.date(2004, 1, 19), dt.date(2004, 8, 26), dt.date(2017, 1, 1)}
    assert png_size(study.preview_png)


def test_the_preview_comes_from_the_largest_series(tmp_path):
    path = tmp_path / "stack.zip"
    mr = dicom_file("MR_small.dcm").read_bytes()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a/ct.dcm", dicom_file("CT_small.dcm").read_bytes())
        archive.writestr("a/mr1.dcm", mr)
        archive.writestr("a/mr2.dcm", mr)
    study = read_study(path)
    assert study.modality == "MR" and study.image_count == 3 and study.series_count == 2
    assert png_size(study.preview_png) == (64, 64)  # MR_small is 64 x 64, CT_small 128 x 128


def test_an_unsafe_zip_gives_an_empty_study_rather_than_an_error(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../evil.dcm", dicom_file("CT_small.dcm").read_bytes())
    assert read_study(path) == DicomStudy()


def test_a_dicomdir_is_an_index_not_an_image(tmp_path):
    path = tmp_path / "cd.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(dicom_file("dicomdirtests/DICOMDIR"), "DICOMDIR")
        archive.write(dicom_file("CT_small.dcm"), "IMAGES/IM0001")
    assert inspect_file(path).entries == 2  # both are DICOM Part 10 files
    study = read_study(path)
    assert (study.instance_count, study.image_count, study.modality) == (1, 1, "CT")
