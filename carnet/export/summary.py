"""The human-readable summary of one space, in French (reportlab, as ``medical.synthesis`` and the caregivers'
certificate): identity, medical profile, vaccinations, list of documents, access history.

reportlab lays a document out in memory, so this part is not streamed: the documents are listed one line each
and the history is cut to its latest ``HISTORY_LINES`` events (the FHIR Bundle beside it holds all of them).
"""

from __future__ import annotations

import io
from typing import IO

from django.apps import apps
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from carnet.identity.models import Person
from carnet.interop import terminology
from carnet.sharing.models import AccessEvent

from .labels import action_label, role_label, who

HISTORY_LINES = 1000


def _escape(text) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")


def _when(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        return formats.date_format(timezone.localtime(value), "j F Y à H:i")
    return formats.date_format(value, "j F Y")


def _profile(space: Person, story: list, styles, *, vaccinations: bool) -> None:
    """Every entry of the profile (or only the vaccinations), as its section's summary says it."""
    from carnet.medical.actions.entries import view
    from carnet.medical.enums import Section
    from carnet.medical.models import ProfileEntry

    sections: list[str] = [Section.VACCINATIONS] if vaccinations else [
        s for s in Section.values if s != Section.VACCINATIONS]
    count = 0
    for section in sections:
        rows = (ProfileEntry.objects.filter(person=space, section=section).exclude(category="unconcerned")
                .select_related("person").order_by("category", "-effective", "-pk"))
        first = True
        for entry in rows.iterator(chunk_size=200):
            if first and not vaccinations:
                story.append(Paragraph(_escape(Section(section).label), styles["Heading3"]))
                first = False
            found = view(entry).summary
            story.append(Paragraph(f"<b>{_escape(found.title)}</b>" + (f" — {_escape(found.when)}" if found.when
                                                                       else ""), styles["Normal"]))
            for label, value in found.details:
                story.append(Paragraph(f"{_escape(label)} : {_escape(value)}", styles["Normal"]))
            count += 1
    if not count:
        story.append(Paragraph(_escape(_("Aucune information.")), styles["Normal"]))


def _messaging(space: Person, story: list, styles) -> None:
    """One line per conversation (when, with whom, about what, how many messages); the texts are in the FHIR file."""
    if not apps.is_installed("carnet.messaging"):
        return
    from carnet.messaging.actions import for_export

    story.append(Paragraph(_escape(_("Messagerie")), styles["Heading2"]))
    count = 0
    for conversation, messages in for_export(space):
        line = _("%(date)s — %(professional)s — « %(subject)s » — %(count)s message(s)") % {
            "date": _when(conversation.opened_at), "professional": conversation.professional.full_name,
            "subject": conversation.subject_text, "count": len(messages)}
        if conversation.closed:
            line += " " + _("(échange clos)")
        story.append(Paragraph(_escape(line), styles["Normal"]))
        count += 1
    if not count:
        story.append(Paragraph(_escape(_("Aucun message.")), styles["Normal"]))


def build_summary(space: Person, documents, *, requester: Person) -> bytes:
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    title = _("Synthèse de l'espace santé")
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=title, author="Carnet", lang="fr-FR")
    normal = styles["Normal"]
    story: list = [
        Paragraph(_escape(title), styles["Title"]),
        Paragraph(_escape(_("Export demandé par %(name)s, établi le %(date)s.") % {
            "name": requester.full_name, "date": _when(timezone.now())}), styles["Italic"]),
        Spacer(1, 4 * mm),
        Paragraph(_escape(_("Identité")), styles["Heading2"]),
        Paragraph(_escape(_("Nom de naissance : %(value)s") % {"value": space.family_name}), normal),
        Paragraph(_escape(_("Prénoms : %(value)s") % {"value": space.given_names}), normal),
        Paragraph(_escape(_("Date de naissance : %(value)s") % {"value": _when(space.birth_date)}), normal),
        Paragraph(_escape(_("Sexe : %(value)s") % {"value": space.get_sex_display()}), normal),
        Paragraph(_escape(_("Identifiant national de santé (INS) : %(value)s") % {"value": space.ins}), normal),
        Paragraph(_escape(_("Profil médical")), styles["Heading2"]),
    ]
    medical = apps.is_installed("carnet.medical")
    if medical:
        _profile(space, story, styles, vaccinations=False)
    story.append(Paragraph(_escape(_("Vaccinations")), styles["Heading2"]))
    if medical:
        _profile(space, story, styles, vaccinations=True)
    story.append(Paragraph(_escape(_("Documents")), styles["Heading2"]))
    count = 0
    for document in documents.iterator(chunk_size=200):
        known = terminology.document_type(document.type_code)
        line = _("%(title)s — %(type)s, du %(date)s, par %(author)s") % {
            "title": document.title, "type": known.label if known else document.type_code,
            "date": _when(document.act_date or document.created_at), "author": document.author_label or "—"}
        if document.status != "current":
            line += " " + _("(version remplacée)")
        story.append(Paragraph(_escape(line), normal))
        count += 1
    if not count:
        story.append(Paragraph(_escape(_("Aucun document.")), normal))
    _messaging(space, story, styles)
    story.append(Paragraph(_escape(_("Historique des accès")), styles["Heading2"]))
    events = AccessEvent.objects.filter(person=space).order_by("-sequence")
    total = events.count()
    if total > HISTORY_LINES:
        story.append(Paragraph(_escape(_("Les %(shown)s accès les plus récents sur %(total)s ; l'historique complet "
                                         "est dans le fichier FHIR.") % {"shown": HISTORY_LINES, "total": total}),
                               styles["Italic"]))
    for event in events[:HISTORY_LINES].iterator(chunk_size=500):
        outcome = _("autorisé") if event.allowed else _("refusé")
        story.append(Paragraph(_escape(f"{_when(event.at)} — {who(event)} ({role_label(event.actor_role)}) — "
                                       f"{action_label(event)} — {outcome}"), normal))
    if not total:
        story.append(Paragraph(_escape(_("Aucun accès enregistré.")), normal))
    doc.build(story)
    return buffer.getvalue()


def write_summary(out: IO[bytes], space: Person, documents, *, requester: Person) -> None:
    out.write(build_summary(space, documents, requester=requester))
