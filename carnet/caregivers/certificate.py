"""The certificate of a delegation (attestation / justificatif d'accès d'aidant), as a PDF.

Written with reportlab's platypus: one page of fixed text, a few per day at most (one at acceptance,
one at the end), so the letters' hand-written PDF writer is not needed here. It names the two people
and the dates, and says what the caregiver may and may not do; no health content.
"""

import io

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer


def _escape(text) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _day(value) -> str:
    return formats.date_format(timezone.localtime(value) if hasattr(value, "tzinfo") and value.tzinfo else value,
                               "j F Y")


def may_do() -> list[str]:
    return [
        _("consulter les documents et le profil médical de la personne aidée ;"),
        _("ajouter des documents et les modifier, compléter et modifier le profil médical ;"),
        _("recevoir les notifications de son espace santé."),
    ]


def may_not_do() -> list[str]:
    return [
        _("gérer les accès des professionnels de santé ni la confidentialité des documents ;"),
        _("modifier l'entourage, la déclaration sur le don d'organes ou les directives anticipées ;"),
        _("supprimer des documents, ni télécharger une copie des données ;"),
        _("modifier l'identifiant, le mot de passe ou les coordonnées de la personne aidée ;"),
        _("inviter d'autres aidants, fermer l'espace santé ou demander sa suppression."),
    ]


def build_certificate_pdf(delegation) -> bytes:
    """The certificate of `delegation` as it stands now (in force, or ended)."""
    styles = getSampleStyleSheet()
    holder, caregiver = delegation.person, delegation.caregiver
    ended = delegation.ended_at is not None
    title = _("Attestation de fin d'accès d'un aidant") if ended else _("Attestation d'accès d'un aidant")
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=title, author="Carnet", lang="fr-FR")
    normal = styles["Normal"]
    story = [
        Paragraph(_escape(title), styles["Title"]),
        Paragraph(_escape(_("Justificatif d'accès établi par Carnet le %(date)s.") % {
            "date": _day(timezone.now())}), styles["Italic"]),
        Spacer(1, 6 * mm),
        Paragraph(_escape(_("Personne aidée : %(name)s, née ou né le %(birth)s.") % {
            "name": holder.full_name, "birth": _day(holder.birth_date)}), normal),
        Paragraph(_escape(_("Aidant : %(name)s, née ou né le %(birth)s.") % {
            "name": caregiver.full_name, "birth": _day(caregiver.birth_date)}), normal),
        Spacer(1, 4 * mm),
        Paragraph(_escape(_("Invitation envoyée le %(date)s, après déclaration sur l'honneur de la personne "
                            "aidée.") % {"date": _day(delegation.declared_at)}), normal),
    ]
    if delegation.responded_at:
        story.append(Paragraph(_escape(_("Accès accordé le %(date)s (invitation acceptée par l'aidant).") % {
            "date": _day(delegation.responded_at)}), normal))
    if ended:
        who = delegation.ended_by.full_name if delegation.ended_by else _("Carnet")
        story.append(Paragraph(_escape(_("Accès terminé le %(date)s, à la demande de %(who)s. L'aidant n'a plus "
                                         "accès à l'espace santé de la personne aidée.") % {
            "date": _day(delegation.ended_at), "who": who}), normal))
    else:
        story.append(Paragraph(_escape(_("L'accès est valable jusqu'à ce que l'aidant ou la personne aidée y mette "
                                         "fin, à tout moment, depuis son espace Carnet.")), normal))
    story += [
        Spacer(1, 4 * mm),
        Paragraph(_escape(_("Pendant l'accès, l'aidant peut :")), styles["Heading3"]),
        ListFlowable([ListItem(Paragraph(_escape(t), normal)) for t in may_do()], bulletType="bullet"),
        Paragraph(_escape(_("L'aidant ne peut pas :")), styles["Heading3"]),
        ListFlowable([ListItem(Paragraph(_escape(t), normal)) for t in may_not_do()], bulletType="bullet"),
        Spacer(1, 4 * mm),
        Paragraph(_escape(_("Chaque action de l'aidant dans l'espace est enregistrée dans l'historique des accès "
                            "de la personne aidée.")), normal),
        Paragraph(_escape(_("Référence de la délégation : %(ref)s") % {"ref": delegation.uuid}), normal),
    ]
    doc.build(story)
    return buffer.getvalue()
