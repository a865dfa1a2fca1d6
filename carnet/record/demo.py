"""Demo documents for `carnet demo_data`: a few PDFs from made-up professionals, the insurer and the
holder, filed through the real action (format check, vault, events, notifications). Idempotent: each
has a stable XDS uniqueId."""

import datetime as dt
import io
import random

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from .actions import Author, add_document
from .enums import AuthorKind, DocumentSource
from .models import Document

DEMO_DOCUMENTS = [
    # type code, title, author kind, author, source
    ("11488-4", "Compte rendu de consultation", AuthorKind.PROFESSIONAL, "Dr Claire Fontaine",
     DocumentSource.PROFESSIONAL),
    ("11502-2", "Bilan sanguin", AuthorKind.ORGANISATION, "Laboratoire des Tilleuls", DocumentSource.PROFESSIONAL),
    ("18748-4", "Radiographie du poignet", AuthorKind.PROFESSIONAL, "Dr Hugo Marchand", DocumentSource.PROFESSIONAL),
    ("57833-6", "Ordonnance", AuthorKind.PROFESSIONAL, "Dr Claire Fontaine", DocumentSource.PROFESSIONAL),
    ("11490-0", "Lettre de liaison de sortie", AuthorKind.ORGANISATION, "Centre hospitalier de démonstration",
     DocumentSource.PROFESSIONAL),
    ("DOCPAT09", "Carte de mutuelle", AuthorKind.HOLDER, "", DocumentSource.HOLDER),
]


def _pdf(title: str, author: str, day: dt.date) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setTitle(title)
    page.setFont("Helvetica-Bold", 16)
    page.drawString(72, 770, title)
    page.setFont("Helvetica", 11)
    page.drawString(72, 745, f"{author or 'Document personnel'} — {day:%d/%m/%Y}")
    page.drawString(72, 715, "Document de démonstration de Carnet : aucune donnée réelle.")
    page.showPage()
    page.save()
    return buffer.getvalue()


def fill_demo_documents(person, rng: random.Random) -> int:
    """File the demo documents of one active person; returns how many were new."""
    added = 0
    for index, (code, title, kind, author, source) in enumerate(DEMO_DOCUMENTS):
        day = timezone.localdate() - dt.timedelta(days=rng.randint(5, 900))
        unique_id = f"2.25.{person.uuid.int}.{index}"
        if Document.objects.of(person).filter(unique_id=unique_id).exists():
            continue
        actor = person if source == DocumentSource.HOLDER else None
        add_document(
            actor, person, content=_pdf(title, author, day), filename=f"{title}.pdf", title=title, type_code=code,
            act_date=timezone.make_aware(dt.datetime.combine(day, dt.time(10))), source=source,
            author=Author(kind, author) if author else None, unique_id=unique_id,
        )
        added += 1
    return added
