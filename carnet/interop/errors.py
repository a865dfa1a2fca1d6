"""The refusal every upload check raises: a short code for programs, a French sentence for people."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "empty": _("Le fichier est vide."),
    "too_large": _("Le fichier est trop volumineux."),
    "unknown_format": _("Ce format de fichier n'est pas accepté. Formats acceptés : PDF, JPEG, PNG, texte, "
                        "document CDA et imagerie DICOM (fichier ou archive ZIP)."),
    "html": _("Les pages web (HTML) et les images SVG ne sont pas acceptées."),
    "pdf_javascript": _("Ce PDF contient du code (JavaScript, actions automatiques ou formulaire scripté) et ne "
                        "peut pas être accepté. Enregistrez-le de nouveau au format PDF/A ou imprimez-le en PDF."),
    "pdf_action": _("Ce PDF peut lancer un programme ou envoyer des données et ne peut pas être accepté."),
    "pdf_embedded_file": _("Ce PDF contient des fichiers joints ou du contenu multimédia et ne peut pas être "
                           "accepté."),
    "pdf_encrypted": _("Ce PDF est protégé par un mot de passe : déposez une version non protégée."),
    "pdf_unreadable": _("Ce PDF est endommagé ou illisible."),
    "xml_entities": _("Ce fichier XML contient une déclaration de type de document (DOCTYPE) ou des entités, "
                      "refusées pour des raisons de sécurité."),
    "xml_invalid": _("Ce fichier XML est mal formé."),
    "xml_too_large": _("Ce document XML contient un élément trop volumineux (pièce jointe de plus de 7 Mo)."),
    "xml_not_cda": _("Seuls les documents XML au format CDA R2 (volet CI-SIS) sont acceptés."),
    "cda_attachment": _("Ce document CDA contient une pièce jointe dans un format non accepté ou dangereux."),
    "image_invalid": _("Cette image est endommagée ou illisible."),
    "image_too_large": _("Cette image a trop de pixels."),
    "dicom_polyglot": _("Ce fichier DICOM contient un en-tête suspect et ne peut pas être accepté."),
    "zip_bomb": _("Cette archive ZIP est anormalement compressée ou trop volumineuse une fois décompressée."),
    "zip_nested": _("Cette archive ZIP contient une autre archive : déposez les fichiers DICOM directement."),
    "zip_unsafe_name": _("Cette archive ZIP contient des chemins de fichiers dangereux."),
    "zip_encrypted": _("Cette archive ZIP est protégée par un mot de passe."),
    "zip_invalid": _("Cette archive ZIP est endommagée ou illisible."),
    "zip_not_dicom": _("Une archive ZIP ne peut contenir que des fichiers d'imagerie DICOM."),
    "text_invalid": _("Ce fichier texte contient des caractères non autorisés ou n'est pas encodé en UTF-8."),
}


class UnsupportedFormat(ValueError):
    """A refused upload. ``code`` is for programs and logs, ``message`` for people (French, translatable); neither
    ever contains file content."""

    def __init__(self, code: str, message: Any = None):
        self.code = code
        self.message = message if message is not None else MESSAGES.get(code, MESSAGES["unknown_format"])
        super().__init__(code)
