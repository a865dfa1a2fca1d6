"""Rows of the medical profile.

Every entry is one FHIR R4 resource, sealed with the person's key (`carnet.vault`); only codes
and dates sit in clear, indexed columns for the searches the portal and the API need.
"""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .enums import AuthorKind, CareCategory, Section


class ProfileEntry(models.Model):
    """One FHIR resource of a person's profil médical (AllergyIntolerance, Observation, ...)."""

    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="profile_entries")
    uuid = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True,
                            help_text=_("Identifiant public et id FHIR."))
    section = models.CharField(max_length=20, choices=Section.choices)
    resource_type = models.CharField(max_length=40)
    # Search columns: codes and dates only, never free text.
    code_system = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=64, blank=True)
    effective = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=32, blank=True)
    category = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)
    last_updated = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    author_kind = models.CharField(max_length=16, choices=AuthorKind.choices, default=AuthorKind.HOLDER)
    # A computed entry (the BMI) points at the entry it was computed from, and goes with it.
    derived_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="derived")
    resource = models.BinaryField(help_text=_("La ressource FHIR en JSON, scellée avec la clé de la personne."))

    class Meta:
        verbose_name = _("entrée du profil médical")
        constraints = [models.UniqueConstraint(fields=["person", "uuid"], name="profile_entry_person_uuid")]
        indexes = [
            models.Index(fields=["person", "section", "effective"]),
            models.Index(fields=["person", "code_system", "code", "effective"]),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.uuid}"


class MeasureTarget(models.Model):
    """A personal target for one measure: a band (low..high) or a single value (low == high)."""

    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="measure_targets")
    uuid = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    measure = models.CharField(max_length=32)
    low = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    high = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "measure"], name="measure_target_person_measure")]


class CareEpisode(models.Model):
    """One line of "Mon histoire de santé", built from the insurer's reimbursement data.

    Labels and the names of prescribers and performers are health content: sealed in `details`.
    """

    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="care_episodes")
    uuid = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    date = models.DateField()
    category = models.CharField(max_length=20, choices=CareCategory.choices)
    code_system = models.CharField(max_length=16, blank=True, help_text=_("CIP13, CCAM, NABM, LPP..."))
    code = models.CharField(max_length=32, blank=True)
    quantity = models.PositiveIntegerField(null=True, blank=True)
    source_ref = models.CharField(max_length=100, help_text=_("Référence de la ligne chez l'assureur."))
    details = models.BinaryField()
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "source_ref"], name="care_episode_person_source"),
            models.UniqueConstraint(fields=["person", "uuid"], name="care_episode_person_uuid"),
        ]
        indexes = [models.Index(fields=["person", "date", "category"])]


class MedicinePresentation(models.Model):
    """One presentation (box) of the public BDPM: reference data, nobody's health data (no person_id).

    Loaded by `carnet import_medicines CIS_bdpm.txt CIS_CIP_bdpm.txt` (`medicines.import_bdpm`); one row per
    CIP13, the speciality's columns repeated on each of its presentations. A presentation that is no longer in
    the files is kept with `withdrawn_at` set, so that the code of an old box or of a past delivery still resolves.
    """

    cip13 = models.CharField(max_length=13, unique=True)
    cip7 = models.CharField(max_length=7, blank=True, db_index=True)
    cis = models.CharField(max_length=8, db_index=True)
    name = models.TextField(help_text=_("Dénomination de la spécialité (CIS_bdpm, colonne 2)."))
    name_folded = models.CharField(max_length=200, help_text=_("Le nom en majuscules sans accents (recherche)."))
    presentation = models.TextField(help_text=_("Libellé de la présentation (CIS_CIP_bdpm, colonne 3)."))
    form = models.TextField(blank=True)
    routes = models.TextField(blank=True)
    authorisation_status = models.CharField(max_length=100, blank=True)
    presentation_status = models.CharField(max_length=100, blank=True)
    marketing_status = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("présentation de médicament (BDPM)")
        indexes = [
            models.Index(fields=["name_folded"], opclasses=["varchar_pattern_ops"], name="medicine_name_prefix"),
        ]

    def __str__(self) -> str:
        return f"{self.cip13} {self.name}"
