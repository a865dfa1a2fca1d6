"""Postal letters: one print-ready PDF (A4, one letter per page, address in the window) per batch.

The PDF is written directly rather than through a drawing canvas: the layout is fixed text in two
standard fonts, and a registry import can put 200,000 letters in one batch. A general-purpose canvas
spends over a millisecond a page (minutes for such a batch); this writer spends tens of microseconds,
and keeps only one 8-byte offset per PDF object in memory.
"""

import codecs
import os
import unicodedata
import zlib
from array import array
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from .enums import OutboundChannel, OutboundStatus
from .models import OutboundMessage

WIDTH = 95  # characters a body line holds at 9.5 pt
HEADER = "Carnet — votre espace numérique de santé"


@lru_cache(maxsize=1024)
def _wrap_paragraph(paragraph: str, width: int) -> tuple[str, ...]:
    # The fixed paragraphs of a notice are the same in every letter: cached, they are wrapped once.
    lines: list[str] = []
    words, current = paragraph.split(" "), ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return tuple(lines)


def _wrap(text: str, width: int = WIDTH) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, width))
    return lines


def _winansi_fallback(error: UnicodeError) -> tuple[str, int]:
    """A character the standard fonts lack: its unaccented base letter if that exists, else "?"."""
    if not isinstance(error, UnicodeEncodeError):  # an encoding handler, as codecs' own handlers check
        raise TypeError(f"don't know how to handle {type(error).__name__} in error callback")
    out = []
    for char in error.object[error.start:error.end]:
        base = unicodedata.normalize("NFKD", char).encode("cp1252", "ignore").decode("cp1252")
        out.append(base or "?")
    return "".join(out), error.end


codecs.register_error("carnet-winansi", _winansi_fallback)


def _text(value: str) -> str:
    """Escaped for a PDF literal string; each line break becomes a new text line."""
    value = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace("\r", "")
    return value.replace("\n", ") Tj T*\n(")


def _n(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


class PdfBatch:
    """A PDF written as it goes: catalog, two base fonts, then one page and one compressed stream per
    letter; the page tree and the cross-reference table come last."""

    def __init__(self, path: Path, title: str):
        width, height = A4
        self.handle = open(path, "wb", buffering=1 << 20)  # closed by close()
        self.position = 0
        self.offsets = array("Q", [0])  # by object number; 0 is the free-list head
        self.pages = 0
        self.page_object = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_n(width)} {_n(height)}] /Resources 5 0 R "
            "/Contents %d 0 R >>"
        ).encode()
        self.before_address = (
            f"BT /F2 11 Tf {_n(20 * mm)} {_n(height - 20 * mm)} Td ({_text(HEADER)}) Tj ET\n"
            f"BT /F1 10 Tf 12 TL {_n(110 * mm)} {_n(height - 50 * mm)} Td ("
        )
        self.before_subject = f") Tj T*\nET\nBT /F2 11 Tf {_n(20 * mm)} {_n(height - 90 * mm)} Td ("
        self.before_body = f") Tj ET\nBT /F1 9.5 Tf 11.4 TL {_n(20 * mm)} {_n(height - 100 * mm)} Td ("
        self.after_body = ") Tj T*\nET\n"
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self._object(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        self.offsets.append(0)  # 2: the page tree, written by close()
        for number, font in ((3, b"Helvetica"), (4, b"Helvetica-Bold")):
            self._object(number, b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
                         % font)
        self._object(5, b"<< /Font << /F1 3 0 R /F2 4 0 R >> /ProcSet [/PDF /Text] >>")
        created = timezone.now().strftime("D:%Y%m%d%H%M%SZ")
        title_utf16 = codecs.BOM_UTF16_BE.hex() + title.encode("utf-16-be").hex()
        self._object(6, f"<< /Title <{title_utf16}> /Producer (Carnet) /CreationDate ({created}) >>".encode())

    def _write(self, data: bytes) -> None:
        self.handle.write(data)
        self.position += len(data)

    def _object(self, number: int, body: bytes) -> None:
        assert number == len(self.offsets)
        self.offsets.append(self.position)
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def add_letter(self, recipient: str, subject: str, body: str) -> None:
        content = "".join((
            self.before_address, _text(recipient), self.before_subject, _text(subject.replace("\n", " ")),
            self.before_body, _text("\n".join(_wrap(body))), self.after_body,
        )).encode("cp1252", "carnet-winansi")
        packer = zlib.compressobj(1, zlib.DEFLATED, 12, 4)  # fast, with a window the size of a page
        stream = packer.compress(content) + packer.flush()
        number = len(self.offsets)
        self._object(number, b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream"
                     % (len(stream), stream))
        self._object(number + 1, self.page_object % number)
        self.pages += 1

    def close(self, *, sync: bool = False) -> None:
        if self.handle.closed:
            return
        self.offsets[2] = self.position
        self._write(b"2 0 obj\n<< /Type /Pages /Count %d /Kids [" % self.pages)
        for start in range(0, self.pages, 10_000):
            # Pages are objects 8, 10, 12...: each follows its content stream.
            kids = range(8 + 2 * start, 8 + 2 * min(start + 10_000, self.pages), 2)
            self._write(b"".join(b"%d 0 R " % kid for kid in kids))
        self._write(b"] >>\nendobj\n")
        xref = self.position
        self._write(b"xref\n0 %d\n0000000000 65535 f \n" % len(self.offsets))
        for start in range(1, len(self.offsets), 10_000):
            offsets = self.offsets[start:start + 10_000]
            self._write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
        self._write(b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                    % (len(self.offsets), xref))
        self.handle.flush()
        if sync:
            os.fsync(self.handle.fileno())
        self.handle.close()


class BatchPrinter:
    """One print run of a batch: letters go into its PDF as they come, then `finish()` marks exactly
    those letters printed (and, outside demo mode, erases their bodies, which carry codes).

    Until `finish()` the letters stay pending with their bodies, so a run that fails half-way (see
    `abandon()`) loses nothing: the daily job prints them. Memory stays constant: 8 bytes a letter.
    """

    def __init__(self, batch: str, directory: Path | None = None):
        directory = directory or settings.CARNET_LETTERS_DIR
        directory.mkdir(parents=True, exist_ok=True)
        self.batch = batch
        # A batch printed twice (letters added later the same day) never overwrites an earlier file.
        self.path = directory / f"{batch}-{timezone.now():%H%M%S%f}.pdf"
        self.pdf = PdfBatch(self.path, f"Carnet — lot de courriers {batch}")
        self.ids = array("Q")

    def add(self, pk: int, recipient: str, subject: str, body: str) -> None:
        self.pdf.add_letter(recipient, subject, body)
        self.ids.append(pk)

    def finish(self) -> Path:
        self.pdf.close(sync=True)  # on disk before the letters count as printed
        now = timezone.now()
        erase = {} if settings.CARNET_DEMO else {"body": "", "body_erased": True}
        with transaction.atomic():
            for start in range(0, len(self.ids), 20_000):
                OutboundMessage.objects.filter(pk__in=self.ids[start:start + 20_000].tolist()).update(
                    status=OutboundStatus.PRINTED, sent_at=now, **erase
                )
            if not settings.CARNET_DEMO:
                # Letters of the batch printed earlier (in demo mode, say) lose their body too; pending
                # ones keep it until they are printed.
                OutboundMessage.objects.filter(
                    batch=self.batch, channel=OutboundChannel.LETTER, body_erased=False
                ).exclude(status=OutboundStatus.PENDING).update(body="", body_erased=True)
        return self.path

    def abandon(self) -> None:
        self.pdf.close()
        self.path.unlink(missing_ok=True)


def render_batch(batch: str, directory: Path | None = None) -> Path | None:
    """Render every pending letter of a batch into one PDF and mark exactly those letters printed.

    Streams rows with an iterator, so a batch of 100,000 letters stays in constant memory. A letter
    queued while the batch renders stays pending, with its body, for the next run.
    """
    letters = OutboundMessage.objects.filter(
        batch=batch, channel=OutboundChannel.LETTER, status=OutboundStatus.PENDING
    ).order_by("pk")
    if not letters.exists():
        return None
    printer = BatchPrinter(batch, directory)
    try:
        for row in letters.values_list("pk", "recipient", "subject", "body").iterator(chunk_size=5000):
            printer.add(*row)
    except BaseException:
        printer.abandon()
        raise
    return printer.finish()


def render_pending(directory: Path | None = None) -> list[Path]:
    """Every batch that still has letters waiting (the daily job)."""
    batches = (
        OutboundMessage.objects.filter(channel=OutboundChannel.LETTER, status=OutboundStatus.PENDING)
        .values_list("batch", flat=True).distinct()
    )
    return [path for batch in list(batches) if (path := render_batch(batch, directory))]
