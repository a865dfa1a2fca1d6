"""Access events: append-only and hash-chained per person (DESIGN.md §1, §4)."""

import hashlib
import json
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessEvent(models.Model):
    """Something done on a person's space, by whom, for whom, allowed or denied.

    Each event carries the hash of the same person's previous event, so any edit or deletion
    breaks the chain (`verify_chain`); chains are per person so writes never contend globally.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: the (person, sequence) constraint starts with it.
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="access_events",
                               db_index=False)
    # Set for a person's acts only (a holder, a representative): indexed where set (see Meta).
    actor = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              db_index=False)
    actor_label = models.CharField(max_length=200, blank=True)
    actor_role = models.CharField(max_length=32)
    action = models.CharField(max_length=64)
    allowed = models.BooleanField()
    reason = models.CharField(max_length=64, blank=True)
    # What was acted on, without health content: e.g. "document:<uuid>" (the history links it).
    subject = models.CharField(max_length=100, blank=True)
    # A professional actor (from the directory); `actor` stays for persons (holders, representatives).
    professional = models.ForeignKey("sharing.Professional", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    # How: portal, api, fhir, system (jobs, imports), emergency (carnet/sharing/channels.py).
    channel = models.CharField(max_length=16, blank=True, default="", db_default="")
    at = models.DateTimeField(default=timezone.now)
    sequence = models.PositiveIntegerField()
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "sequence"], name="access_event_person_sequence")]
        indexes = [
            # "Has this professional had an allowed access to this space before?", asked on every professional's
            # act (the first one is notified): one probe, where two single-column indexes made PostgreSQL read
            # every event of the person and of the professional (a lab's millions) on each event written.
            models.Index(fields=["person", "professional"], name="access_event_pro_seen",
                         condition=Q(allowed=True, professional__isnull=False)),
            models.Index(fields=["actor"], name="access_event_actor", condition=Q(actor__isnull=False)),
        ]
        ordering = ["-at", "-sequence"]

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("access events are append-only")
        super().save(*args, **kwargs)

    def compute_hash(self) -> str:
        fields = {
            "person": self.person_id, "sequence": self.sequence, "actor": self.actor_id,
            "actor_label": self.actor_label, "actor_role": self.actor_role, "action": self.action,
            "allowed": self.allowed, "reason": self.reason, "at": self.at.isoformat(),
            "previous": self.previous_hash, "uuid": str(self.uuid),
        }
        if self.subject:  # added later: events without one keep their original hash
            fields["subject"] = self.subject
        if self.professional_id:
            fields["professional"] = self.professional_id
        if self.channel:
            fields["channel"] = self.channel
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


# -- The directory: reference tables, nobody's health data (no person_id; Citus reference tables) ---------------


class Establishment(models.Model):
    """An establishment of the FINESS register (établissement), where professionals practise."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    finess = models.CharField(max_length=9, unique=True)
    name = models.CharField(max_length=200, blank=True)  # a directory extract gives the number only
    # A SAMU's call-handling centre (centre de réception et de régulation des appels, "centre 15", CSP L6311-2):
    # a médecin practising here is a médecin régulateur (emergency.is_samu_regulator). Set by the operator.
    samu_regulation = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.finess} {self.name}".strip()


class Professional(models.Model):
    """A health professional of the directory, identified by the RPPS number (national identifier "8" + RPPS).

    Loaded by `carnet import_directory` (`directory.import_directory`), upserted by RPPS; `directory_digest`
    is the digest of the identity columns last imported, so an unchanged row is not rewritten.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rpps = models.CharField(max_length=11, unique=True)
    family_name = models.CharField(max_length=100)
    given_names = models.CharField(max_length=150)
    profession_code = models.CharField(max_length=4)  # TRE_G15, e.g. "10" médecin
    specialty_code = models.CharField(max_length=8, blank=True)  # TRE_R38, e.g. "SM54" médecine générale
    email = models.EmailField(blank=True)
    active = models.BooleanField(default=True)
    directory_digest = models.CharField(max_length=64, blank=True)
    establishments: "models.ManyToManyField[Establishment, ActivityPlace]" = models.ManyToManyField(
        Establishment, through="ActivityPlace", related_name="professionals")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.full_name} ({self.rpps})"

    @property
    def national_id(self) -> str:
        """Identifiant national de professionnel de santé (IDNPS): "8" + RPPS (system RPPS_SYSTEM)."""
        return f"8{self.rpps}"

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_name}".strip()

    @property
    def profession_label(self) -> str:
        from .professions import profession_label

        return profession_label(self.profession_code)

    @property
    def specialty_label(self) -> str:
        from .professions import specialty_label

        return specialty_label(self.specialty_code)


class ActivityPlace(models.Model):
    """A place where a professional practises (lieu d'exercice): the finess column of the directory extract."""

    professional = models.ForeignKey(Professional, on_delete=models.CASCADE, related_name="activity_places")
    establishment = models.ForeignKey(Establishment, on_delete=models.CASCADE, related_name="activity_places")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["professional", "establishment"],
                                               name="activity_place_unique")]


class CareTeam(models.Model):
    """A named group of professionals the holder can authorise at once (équipe de soins), e.g. a maison de santé."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    establishment = models.ForeignKey(Establishment, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="care_teams")
    members: "models.ManyToManyField[Professional, CareTeamMember]" = models.ManyToManyField(
        Professional, through="CareTeamMember", related_name="care_teams")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class CareTeamMember(models.Model):
    team = models.ForeignKey(CareTeam, on_delete=models.CASCADE, related_name="memberships")
    professional = models.ForeignKey(Professional, on_delete=models.CASCADE, related_name="team_memberships")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "professional"], name="care_team_member_unique")]


class ProfessionalToken(models.Model):
    """A bearer token by which clinical software acts for a professional; only its keyed hash is kept.

    Short-lived (settings.CARNET_PRO_TOKEN_SECONDS, one hour by default) and revocable: `tokens.py`.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    professional = models.ForeignKey(Professional, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def is_valid(self, at=None) -> bool:
        return self.revoked_at is None and (at or timezone.now()) < self.expires_at


# -- What the holder decides: authorisations, blocks, roles of professionals on their list --------------------


class CareRoleKind(models.TextChoices):
    MEDECIN_TRAITANT = "medecin_traitant", _("Médecin traitant")
    SAGE_FEMME_REFERENTE = "sage_femme_referente", _("Sage-femme référente")
    PHARMACIEN_CORRESPONDANT = "pharmacien_correspondant", _("Pharmacien correspondant")
    ADMINISTRATEUR_SANTE = "administrateur_sante", _("Administrateur de santé")


class Authorisation(models.Model):
    """The holder's consent that a professional, a care team or an establishment reads the space
    ("autorisation d'accès"): permanent or until a date, revocable; or declared by the professional at first
    access ("le patient a donné son accord"), shown to the holder who can revoke it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="authorisations")
    professional = models.ForeignKey(Professional, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    care_team = models.ForeignKey(CareTeam, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    establishment = models.ForeignKey(Establishment, null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="+")
    granted_by = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    declared_by_professional = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(professional__isnull=False, care_team__isnull=True, establishment__isnull=True)
                           | models.Q(professional__isnull=True, care_team__isnull=False, establishment__isnull=True)
                           | models.Q(professional__isnull=True, care_team__isnull=True,
                                      establishment__isnull=False)),
                name="authorisation_one_grantee",
            ),
        ]
        indexes = [models.Index(fields=["person", "professional"], name="authorisation_person_pro")]


class Block(models.Model):
    """A professional the holder blocked: overrides every authorisation, except for what they authored."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="blocks")
    professional = models.ForeignKey(Professional, on_delete=models.CASCADE, related_name="+")
    blocked_by = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    # The holder's administrateur de santé, when they blocked on the holder's behalf (blocked_by is then empty).
    blocked_by_professional = models.ForeignKey(Professional, null=True, blank=True, on_delete=models.SET_NULL,
                                                related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["person", "professional"], name="block_person_pro")]


class CareRole(models.Model):
    """A role the holder gives a professional on their list (médecin traitant, sage-femme référente,
    pharmacien correspondant, administrateur de santé)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="care_roles")
    professional = models.ForeignKey(Professional, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=CareRoleKind.choices)
    assigned_by = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["person", "professional"], name="care_role_person_pro")]


# -- Emergency access (bris de glace, SAMU régulateur): carnet/sharing/emergency.py --------------------------------


class EmergencyKind(models.TextChoices):
    SAMU = "samu", _("Médecin régulateur du SAMU (centre 15)")
    BREAK_GLASS = "break_glass", _("Professionnel de santé en situation d'urgence (bris de glace)")


class EmergencySettings(models.Model):
    """The holder's three emergency choices ("Accès en cas d'urgence"), independent of each other. Without a row,
    the defaults apply (`DEFAULTS`): both accesses allowed, since the law opens the DMP in an emergency unless the
    person expressly opposed it (CSP L1111-17 I); masked documents not shown, since masking is the holder's
    explicit wish to keep a document from professionals."""

    DEFAULTS = {"samu_allowed": True, "break_glass_allowed": True, "masked_visible": False}

    person = models.OneToOneField("identity.Person", on_delete=models.CASCADE, related_name="emergency_settings")
    samu_allowed = models.BooleanField(default=DEFAULTS["samu_allowed"])
    break_glass_allowed = models.BooleanField(default=DEFAULTS["break_glass_allowed"])
    masked_visible = models.BooleanField(default=DEFAULTS["masked_visible"])
    updated_at = models.DateTimeField(auto_now=True)


class EmergencyAccess(models.Model):
    """One opening of a space in an emergency by a professional, with the reason they stated (sealed with the
    person's key: it may describe their state), in force from `opened_at` until `expires_at`."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="emergency_accesses")
    professional = models.ForeignKey(Professional, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=EmergencyKind.choices)
    reason_sealed = models.BinaryField()
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["person", "professional", "expires_at"], name="emergency_person_pro")]

    def in_force(self, at=None) -> bool:
        return self.opened_at <= (at or timezone.now()) < self.expires_at
