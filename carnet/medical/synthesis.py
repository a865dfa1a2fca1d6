"""The PDF synthesis of chosen sections of the profil médical (reportlab), which the holder may
publish into their documents (type DOCPAT08) so that authorised professionals can read it."""

import io

from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus.flowables import KeepTogether

from .enums import Section
from .measures import MEASURES
from .models import ProfileEntry
from .sections import SPECS
from .storage import unseal_json


def _escape(text: str | Promise) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")


def build_synthesis_pdf(person, sections: list[str]) -> bytes:
    """The chosen sections, each entry with its details. Reads the rows directly: the caller asked
    the policy (publish_synthesis does)."""
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=_("Synthèse du profil médical"), author="Carnet",
                            lang="fr-FR")
    story = [
        Paragraph(_escape(_("Synthèse du profil médical")), styles["Title"]),
        Paragraph(_escape(_("%(name)s, né(e) le %(birth)s") % {
            "name": person.full_name, "birth": formats.date_format(person.birth_date, "j F Y")}), styles["Normal"]),
        Paragraph(_escape(_("Établie le %(date)s à partir des informations saisies dans Carnet.") % {
            "date": formats.date_format(timezone.localdate(), "j F Y")}), styles["Italic"]),
        Spacer(1, 6 * mm),
    ]
    for section in [s for s in Section.values if s in sections]:
        story.append(Paragraph(_escape(Section(section).label), styles["Heading2"]))
        rows = (ProfileEntry.objects.filter(person=person, section=section)
                .exclude(category__in=["unconcerned"]).order_by("category", "-effective", "-pk"))
        if section == Section.MEASURES:
            rows = rows.order_by("category", "-effective")[:200]
        count = 0
        for entry in rows:
            kind = "organ_donation" if entry.category == "organ_donation" else section
            summary = SPECS[kind].summary(unseal_json(person, entry.resource))
            if section == Section.MEASURES and entry.category in MEASURES:
                summary.title = str(MEASURES[entry.category].label)
            lines = [Paragraph(f"<b>{_escape(summary.title)}</b>"
                               + (f" — {_escape(summary.when)}" if summary.when else ""), styles["Normal"])]
            lines += [Paragraph(f"{_escape(label)} : {_escape(value)}", styles["Normal"])
                      for label, value in summary.details]
            story.append(KeepTogether([*lines, Spacer(1, 2 * mm)]))
            count += 1
        if not count:
            story.append(Paragraph(_escape(_("Aucune information.")), styles["Normal"]))
    doc.build(story)
    return buffer.getvalue()
