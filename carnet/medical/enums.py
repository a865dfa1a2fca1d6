"""Vocabularies of the medical profile (sections, authors, care categories)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Section(models.TextChoices):
    """The sections of the profil médical (one FHIR resource type each, mostly)."""

    DISEASES = "diseases", _("Maladies et sujets de santé")
    ALLERGIES = "allergies", _("Allergies et intolérances")
    HOSPITALISATIONS = "hospitalisations", _("Hospitalisations et chirurgie")
    FAMILY_HISTORY = "family_history", _("Antécédents familiaux")
    TREATMENTS = "treatments", _("Traitements")
    VACCINATIONS = "vaccinations", _("Vaccinations")
    DISABILITIES = "disabilities", _("Handicaps")
    LIFESTYLE = "lifestyle", _("Habitudes de vie")
    BLOOD_GROUP = "blood_group", _("Groupe sanguin")
    MEASURES = "measures", _("Mesures de santé")
    ENTOURAGE = "entourage", _("Entourage et volontés")


# Sections that a professional may ever see (the sharing issue decides who and when); the other
# sections stay the holder's private notebook unless a PDF synthesis is published as a document.
PROFESSIONAL_VISIBLE_SECTIONS: frozenset[str] = frozenset({
    Section.VACCINATIONS, Section.ENTOURAGE, "care_history", "advance_directives", "documents",
})

# Sections where "je n'en ai pas" can be declared (SectionUriEnum of the inventory).
UNCONCERNED_SECTIONS: frozenset[str] = frozenset({
    Section.ALLERGIES, Section.TREATMENTS, Section.FAMILY_HISTORY, Section.HOSPITALISATIONS,
    Section.DISEASES, Section.DISABILITIES,
})


class AuthorKind(models.TextChoices):
    HOLDER = "holder", _("Titulaire")
    REPRESENTATIVE = "representative", _("Représentant légal")
    PROFESSIONAL = "professional", _("Professionnel de santé")
    APP = "app", _("Application")
    INSURER = "insurer", _("Assurance maladie")


class CareCategory(models.TextChoices):
    """Kinds of care episode in "Mon histoire de santé" (EpisodeCategory of the inventory)."""

    CONSULTATION = "consultation", _("Consultations")
    BIOLOGY = "biology", _("Analyses de biologie")
    MEDICINE = "medicine", _("Médicaments")
    DENTAL = "dental", _("Soins dentaires")
    HOSPITALISATION = "hospitalisation", _("Hospitalisations")
    RADIOLOGY = "radiology", _("Imagerie")
    MEDICAL_DEVICE = "medical_device", _("Dispositifs médicaux")
    VACCINE = "vaccine", _("Vaccins")
