from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentStatus(models.TextChoices):
    """XDS availability status, as FHIR DocumentReference.status."""

    CURRENT = "current", _("En vigueur")
    SUPERSEDED = "superseded", _("Remplacé par une nouvelle version")
    DELETED = "deleted", _("Supprimé")


class DocumentSource(models.TextChoices):
    """Where a document came from; only what the holder deposited is theirs to edit or delete."""

    HOLDER = "holder", _("Vous ou un proche")
    PROFESSIONAL = "professional", _("Un professionnel de santé")
    MIGRATION = "migration", _("Ancien DMP")
    APP = "app", _("Une application")
    INSURER = "insurer", _("L'Assurance Maladie")


class AuthorKind(models.TextChoices):
    HOLDER = "holder", _("Titulaire")
    REPRESENTATIVE = "representative", _("Représentant légal")
    PROFESSIONAL = "professional", _("Professionnel de santé")
    ORGANISATION = "organisation", _("Établissement")
    APP = "app", _("Application")
    INSURER = "insurer", _("Assurance Maladie")


class DocumentFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    CDA = "cda", "CDA R2"
    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"
    DICOM = "dicom", "DICOM"
    DICOM_ZIP = "dicom-zip", _("Étude DICOM (zip)")
    TEXT = "text", _("Texte")
