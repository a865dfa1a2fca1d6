"""DICOM studies (one Part 10 file, or a ZIP of them): what the holder sees in a list, plus a small preview.

``read_study`` never raises: unreadable metadata leaves fields at None, an image that will not decode gives no
preview. It is not a safety check: run ``formats.inspect_file`` first (a ZIP is re-checked here with the same
limits anyway, and an unsafe one simply yields an empty study). The metadata pass stops before the pixel data
and defers large values; the preview decodes a single frame of a single instance, within a pixel budget.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from carnet.interop.logs import muted
from carnet.interop.zips import is_dicom_head, iter_checked_members, open_checked_zip

PREVIEW_MAX_SIDE = 512
PREVIEW_MAX_FRAME_BYTES = 64 * 1024 * 1024  # decoded size of the one frame we turn into a preview
DEFER_SIZE = "256 KB"
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"


@dataclass(frozen=True)
class DicomStudy:
    modality: str | None = None  # the most frequent one
    modalities: tuple[str, ...] = ()
    body_part: str | None = None
    study_date: dt.date | None = None
    study_description: str | None = None
    study_instance_uid: str | None = None
    series_count: int = 0
    image_count: int = 0  # instances carrying an image (DICOMDIR and non-image objects excluded)
    instance_count: int = 0
    patient_id: str | None = None
    preview_png: bytes | None = None
    unreadable: int = 0  # DICOM files whose metadata could not be read


@dataclass
class _Instance:
    opener: Callable[[], Any]  # a context manager factory giving a binary file object
    series: str | None
    number: int
    size: int


@dataclass
class _Summary:
    modalities: Counter[str] = field(default_factory=Counter)
    body_part: str | None = None
    study_date: dt.date | None = None
    description: str | None = None
    study_uid: str | None = None
    patient_id: str | None = None
    series: set[str] = field(default_factory=set)
    images: list[_Instance] = field(default_factory=list)
    instances: int = 0
    unreadable: int = 0


def read_study(path: str | Path) -> DicomStudy:
    """Summarise a DICOM file or a ZIP of DICOM files (see the module docstring)."""
    try:
        with muted("pydicom"):
            return _read_study(Path(path))
    except Exception:  # unsafe ZIP, unreadable file: an empty study, never an error page
        return DicomStudy()


def _read_study(path: Path) -> DicomStudy:
    summary = _Summary()
    with open(path, "rb") as fh:
        head = fh.read(132)
        if is_dicom_head(head):
            _add(summary, lambda: open(path, "rb"), path.stat().st_size)
        elif head.startswith(b"PK\x03\x04"):
            archive = open_checked_zip(fh)
            for info, _head in iter_checked_members(archive):
                _add(summary, partial(archive.open, info), info.file_size)
        else:
            return DicomStudy()
        return _finish(summary)  # still inside: the preview reads from the open archive


def _add(summary: _Summary, opener: Callable[[], Any], size: int) -> None:
    from pydicom import dcmread

    try:
        with opener() as stream:
            ds = dcmread(stream, stop_before_pixels=True, defer_size=DEFER_SIZE)
    except Exception:
        summary.unreadable += 1
        return
    file_meta = getattr(ds, "file_meta", None) or {}
    if str(file_meta.get("MediaStorageSOPClassUID", "")) == DICOMDIR_SOP_CLASS:
        return  # the media directory (DICOMDIR) is an index, not an instance
    summary.instances += 1
    modality = _str(ds, "Modality")
    if modality:
        summary.modalities[modality] += 1
    summary.body_part = summary.body_part or _str(ds, "BodyPartExamined")
    summary.study_date = summary.study_date or _date(_str(ds, "StudyDate"))
    summary.description = summary.description or _str(ds, "StudyDescription")
    summary.study_uid = summary.study_uid or _str(ds, "StudyInstanceUID")
    summary.patient_id = summary.patient_id or _str(ds, "PatientID")
    series = _str(ds, "SeriesInstanceUID")
    if series:
        summary.series.add(series)
    if "Rows" in ds and "Columns" in ds:
        number = ds.get("InstanceNumber")
        try:
            number = int(number) if number not in (None, "") else 0
        except (TypeError, ValueError):
            number = 0
        summary.images.append(_Instance(opener, series, number, size))


def _str(ds: Any, keyword: str) -> str | None:
    try:
        value = ds.get(keyword)
    except Exception:
        return None
    text = " ".join(str(value).split()) if value not in (None, "") else ""
    return text or None


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.datetime.strptime((value or "")[:8], "%Y%m%d").date()
    except ValueError:
        return None


def _finish(summary: _Summary) -> DicomStudy:
    preview = _preview(summary)
    modalities = tuple(m for m, _count in summary.modalities.most_common())
    return DicomStudy(
        modality=modalities[0] if modalities else None, modalities=modalities, body_part=summary.body_part,
        study_date=summary.study_date, study_description=summary.description, study_instance_uid=summary.study_uid,
        series_count=len(summary.series), image_count=len(summary.images), instance_count=summary.instances,
        patient_id=summary.patient_id, preview_png=preview, unreadable=summary.unreadable,
    )


def _preview(summary: _Summary) -> bytes | None:
    """The middle image of the largest series: for a CT or MR stack, a representative slice. Read straight from
    the file or the ZIP member (seekable), never copied whole into memory."""
    if not summary.images:
        return None
    by_series = Counter(image.series for image in summary.images)
    series = by_series.most_common(1)[0][0]
    stack = sorted((i for i in summary.images if i.series == series), key=lambda i: i.number)
    try:
        with stack[len(stack) // 2].opener() as stream:
            return render_preview(stream)
    except Exception:
        return None


def render_preview(stream: BinaryIO) -> bytes | None:
    """First frame of one DICOM instance -> 8-bit PNG, at most 512 px on its longest side. None on failure."""
    try:
        with muted("pydicom"):
            return _render_preview(stream)
    except Exception:
        return None


def _render_preview(stream: BinaryIO) -> bytes | None:
    import numpy as np
    from PIL import Image
    from pydicom import Dataset, dcmread
    from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut, pixel_array

    meta = dcmread(stream, stop_before_pixels=True, defer_size=DEFER_SIZE)
    rows, columns = int(meta.get("Rows") or 0), int(meta.get("Columns") or 0)
    samples = int(meta.get("SamplesPerPixel") or 1)
    bits = int(meta.get("BitsAllocated") or 16)
    if not rows or not columns or rows * columns * samples * max(bits, 8) // 8 > PREVIEW_MAX_FRAME_BYTES:
        return None
    frames = int(meta.get("NumberOfFrames") or 1)
    stream.seek(0)
    array = pixel_array(stream, ds_out=Dataset(), index=0 if frames > 1 else None)
    # Subsample before any float arithmetic: a 2048 x 2048 CT frame would otherwise cost ~100 MB in float64
    # copies for a 512 px thumbnail. Nearest-neighbour striding is enough for a preview.
    step = max(1, -(-max(rows, columns) // PREVIEW_MAX_SIDE))
    array = np.ascontiguousarray(array[::step, ::step])
    photometric = str(meta.get("PhotometricInterpretation") or "").upper()
    if samples == 1 and photometric.startswith("MONOCHROME"):
        array = apply_modality_lut(array, meta)
        if "WindowCenter" in meta or "VOILUTSequence" in meta:
            array = apply_voi_lut(array, meta, index=0)
        low, high = np.percentile(array, [0.5, 99.5]) if "WindowCenter" not in meta else (array.min(), array.max())
        array = _to_uint8(array, float(low), float(high))
        if photometric == "MONOCHROME1":
            array = 255 - array
        image = Image.fromarray(array, mode="L")
    elif samples == 1 and photometric == "PALETTE COLOR":
        array = apply_color_lut(array, meta)
        image = Image.fromarray(_to_uint8(array, float(array.min()), float(array.max())), mode="RGB")
    elif samples == 3 and array.ndim == 3:
        array = array if array.dtype == np.uint8 else _to_uint8(array, float(array.min()), float(array.max()))
        image = Image.fromarray(array, mode="RGB")
    else:
        return None
    image.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _to_uint8(array: Any, low: float, high: float) -> Any:
    import numpy as np

    if high <= low:
        return np.zeros(array.shape, dtype=np.uint8)
    scaled = (np.clip(array.astype(np.float64), low, high) - low) * (255.0 / (high - low))
    return scaled.round().astype(np.uint8)
