"""Postal letters: one print-ready PDF (A4, one letter per page, address in the window) per batch."""

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from .enums import OutboundChannel, OutboundStatus
from .models import OutboundMessage


def _wrap(text: str, width: int = 95) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words, current = paragraph.split(" "), ""
        for word in words:
            if current and len(current) + 1 + len(word) > width:
                lines.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
        lines.append(current)
    return lines


def render_batch(batch: str, directory: Path | None = None) -> Path | None:
    """Render every pending letter of a batch into one PDF and mark them printed.

    Streams rows with an iterator, so a batch of 100,000 letters stays in constant memory.
    """
    letters = OutboundMessage.objects.filter(
        batch=batch, channel=OutboundChannel.LETTER, status=OutboundStatus.PENDING
    ).order_by("pk")
    if not letters.exists():
        return None
    directory = directory or settings.CARNET_LETTERS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    # A batch printed twice (letters added later the same day) never overwrites an earlier file.
    path = directory / f"{batch}-{timezone.now():%H%M%S%f}.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4, pageCompression=1)
    pdf.setTitle(f"Carnet — lot de courriers {batch}")
    width, height = A4
    count = 0
    for letter in letters.iterator(chunk_size=2000):
        pdf.setFont("Helvetica-Bold", 11)
        pdf.drawString(20 * mm, height - 20 * mm, "Carnet — votre espace numérique de santé")
        text = pdf.beginText(110 * mm, height - 50 * mm)
        text.setFont("Helvetica", 10)
        for line in letter.recipient.split("\n"):
            text.textLine(line)
        pdf.drawText(text)
        pdf.setFont("Helvetica-Bold", 11)
        pdf.drawString(20 * mm, height - 90 * mm, letter.subject)
        body = pdf.beginText(20 * mm, height - 100 * mm)
        body.setFont("Helvetica", 9.5)
        for line in _wrap(letter.body):
            body.textLine(line)
        pdf.drawText(body)
        pdf.showPage()
        count += 1
    pdf.save()
    now = timezone.now()
    with transaction.atomic():
        letters.update(status=OutboundStatus.PRINTED, sent_at=now)
        if not settings.CARNET_DEMO:
            OutboundMessage.objects.filter(batch=batch, channel=OutboundChannel.LETTER).update(
                body="", body_erased=True
            )
    return path


def render_pending(directory: Path | None = None) -> list[Path]:
    """Every batch that still has letters waiting (the daily job)."""
    batches = (
        OutboundMessage.objects.filter(channel=OutboundChannel.LETTER, status=OutboundStatus.PENDING)
        .values_list("batch", flat=True).distinct()
    )
    return [path for batch in list(batches) if (path := render_batch(batch, directory))]
