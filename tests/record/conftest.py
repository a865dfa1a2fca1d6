"""Documents need files: real ones where they exist (the CI-SIS CDA examples in ../shared/samples,
pydicom's own test images), and small PDFs, images and texts made here."""

import io
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"
CDA_30 = SAMPLES / "cda" / "ci-sis-3.0"
CDA_241 = SAMPLES / "cda" / "ci-sis-2.41"


def make_pdf(text: str = "Compte rendu de consultation") -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def make_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def holder(family):
    return family.holder()
