"""ZIP archives of DICOM files: checked on the central directory, then again while every entry is
decompressed, so a lying header cannot get past the limits (see formats.py for the rules)."""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import BinaryIO

from carnet.interop.errors import UnsupportedFormat

MiB = 1024 * 1024
CHUNK = 1 * MiB
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_TOTAL_BYTES = 2048 * MiB
ZIP_MAX_RATIO = 100  # uncompressed / compressed, per entry larger than ZIP_RATIO_FLOOR and overall
ZIP_RATIO_FLOOR = 1 * MiB

PROGRAM_MAGICS = (b"MZ", b"\x7fELF", b"#!", b"PK\x03\x04", b"%PDF", b"<", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")


def check_dicom_head(head: bytes) -> None:
    """Refuse a DICOM preamble that starts like a program (PE, ELF, script, archive): a known polyglot trick."""
    if head[:128].lstrip(b"\x00 \t\r\n").startswith(PROGRAM_MAGICS):
        raise UnsupportedFormat("dicom_polyglot")


def is_dicom_head(head: bytes) -> bool:
    """A DICOM Part 10 file: ``DICM`` after the 128-byte preamble."""
    return len(head) >= 132 and head[128:132] == b"DICM"


ARCHIVE_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!",
                  b"BZh", b"\xfd7zXZ\x00")
ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".7z", ".rar", ".tar", ".bz2", ".xz", ".jar")
IGNORED_MEMBERS = re.compile(r"(^|/)(__MACOSX/.*|\.DS_Store|Thumbs\.db|desktop\.ini)$", re.IGNORECASE)
UNSAFE_NAME = re.compile(r"^[A-Za-z]:|[\x00-\x1f]")
SAFE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def check_dicom_zip(fh: BinaryIO) -> list[zipfile.ZipInfo]:
    """Check a ZIP of DICOM files and return its DICOM members (central-directory order)."""
    with open_checked_zip(fh) as archive:
        return [info for info, _head in iter_checked_members(archive)]


def open_checked_zip(fh: BinaryIO) -> zipfile.ZipFile:
    """Open a ZIP after the central-directory checks (names, counts, declared sizes, ratios, overlaps)."""
    fh.seek(0)
    try:
        archive = zipfile.ZipFile(fh)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise UnsupportedFormat("zip_invalid") from None
    if len(infos) > ZIP_MAX_ENTRIES:
        raise UnsupportedFormat("zip_bomb")
    if sum(info.file_size for info in infos) > ZIP_MAX_TOTAL_BYTES:
        raise UnsupportedFormat("zip_bomb")
    for info in infos:
        _check_member_name(info)
        if info.flag_bits & 0x1:
            raise UnsupportedFormat("zip_encrypted")
        if info.compress_type not in SAFE_METHODS:
            raise UnsupportedFormat("zip_invalid")
        if info.file_size > ZIP_RATIO_FLOOR and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise UnsupportedFormat("zip_bomb")
    ordered = sorted(infos, key=lambda info: info.header_offset)
    for current, following in zip(ordered, ordered[1:], strict=False):
        if current.header_offset + current.compress_size > following.header_offset:
            raise UnsupportedFormat("zip_bomb")  # overlapping entries: one compressed stream counted many times
    return archive


def _check_member_name(info: zipfile.ZipInfo) -> None:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or UNSAFE_NAME.search(name):
        raise UnsupportedFormat("zip_unsafe_name")
    if (info.external_attr >> 16) & 0o170000 == 0o120000:  # a symbolic link
        raise UnsupportedFormat("zip_unsafe_name")


def iter_checked_members(archive: zipfile.ZipFile) -> Iterator[tuple[zipfile.ZipInfo, bytes]]:
    """Stream-decompress every member, enforcing the limits on the real bytes, and yield the DICOM ones with
    their first 132 bytes. Nothing but one chunk is held in memory."""
    total, compressed = 0, 0
    found = 0
    for info in archive.infolist():
        if info.is_dir():
            continue
        name = info.filename.replace("\\", "/")
        ignored = bool(IGNORED_MEMBERS.search(name))
        if not ignored and name.lower().endswith(ARCHIVE_SUFFIXES):
            raise UnsupportedFormat("zip_nested")
        head, produced = b"", 0
        try:
            with archive.open(info) as member:
                while chunk := member.read(CHUNK):
                    if len(head) < 132:
                        head += chunk[:132 - len(head)]
                    produced += len(chunk)
                    if produced > info.file_size or total + produced > ZIP_MAX_TOTAL_BYTES:
                        raise UnsupportedFormat("zip_bomb")
                    if produced > ZIP_RATIO_FLOOR and produced > ZIP_MAX_RATIO * max(info.compress_size, 1):
                        raise UnsupportedFormat("zip_bomb")
        except UnsupportedFormat:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error, NotImplementedError):
            raise UnsupportedFormat("zip_invalid") from None
        total += produced
        compressed += info.compress_size
        if ignored:
            continue
        if head.startswith(ARCHIVE_MAGICS):
            raise UnsupportedFormat("zip_nested")
        if not is_dicom_head(head):
            raise UnsupportedFormat("zip_not_dicom")
        check_dicom_head(head)
        found += 1
        yield info, head
    if total > ZIP_RATIO_FLOOR and total > ZIP_MAX_RATIO * max(compressed, 1):
        raise UnsupportedFormat("zip_bomb")
    if not found:
        raise UnsupportedFormat("zip_not_dicom")
