"""Insured persons and their accounts.

`Person` is the registry's view of an insured person and the owner of a space; `Account` is the
login a person creates when activating. Every other table about a person points at `Person`
(the `person_id` of DESIGN.md §4).
"""

import uuid
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carnet.common.dates import age_on, today

from .enums import Channel, OtpPurpose, RepresentationKind, RepresentationStatus, Sex, SpaceStatus

INS_OID = "1.2.250.1.213.1.4.8"


class Person(models.Model):
    """An insured person (assuré) and the state of their space."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    nir = models.CharField(_("NIR"), max_length=15, unique=True)
    vitale_serial = models.CharField(_("numéro de série de la carte Vitale"), max_length=13)
    family_name = models.CharField(_("nom"), max_length=100)
    given_names = models.CharField(_("prénoms"), max_length=150)
    birth_date = models.DateField(_("date de naissance"))
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices)
    email = models.EmailField(_("courriel (registre)"), blank=True)
    phone = models.CharField(_("téléphone (registre)"), max_length=20, blank=True)
    address = models.CharField(_("adresse"), max_length=200, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("commune"), max_length=100, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="attached_children",
        help_text=_("Parent de rattachement dans le registre de l'assurance maladie (pour un mineur)."),
    )
    status = models.CharField(max_length=12, choices=SpaceStatus.choices, default=SpaceStatus.NOTIFIED)
    # A digest of the registry row, to tell "unchanged" from "updated" without comparing every field.
    registry_digest = models.CharField(max_length=64, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    opposition_deadline = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    came_of_age_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("personne")
        indexes = [
            models.Index(fields=["status", "opposition_deadline"]),
            models.Index(fields=["birth_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.given_names.split(' ')[0]} {self.family_name}"

    @property
    def ins(self) -> str:
        """The INS (identité nationale de santé) of a person with a NIR is the NIR itself."""
        return self.nir

    @property
    def first_name(self) -> str:
        return self.given_names.split(" ")[0]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.family_name}"

    def age(self, on=None) -> int:
        return age_on(self.birth_date, on or today())

    def is_minor(self, on=None) -> bool:
        return self.age(on) < 18

    @property
    def has_account(self) -> bool:
        return hasattr(self, "account")


class AccountManager(BaseUserManager["Account"]):
    def create_user(self, username, password=None, **fields):
        account = self.model(username=username, **fields)
        account.set_password(password)
        account.save(using=self._db)
        return account

    def create_superuser(self, username, password=None, **fields):
        """An operator: runs the service, owns no space, never reads health content."""
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(username, password, **fields)


class Account(AbstractBaseUser):
    """The login a person chose at activation (identifiant), or an operator's login."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.OneToOneField(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="account")
    username = models.CharField(_("identifiant"), max_length=64, unique=True)
    email = models.EmailField(_("courriel vérifié"), blank=True)
    phone = models.CharField(_("mobile vérifié"), max_length=20, blank=True)
    otp_channel = models.CharField(max_length=5, choices=Channel.choices, default=Channel.EMAIL)
    terms_accepted_at = models.DateTimeField(null=True, blank=True)
    terms_version = models.CharField(max_length=20, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    is_superuser = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AccountManager()
    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("compte")

    def __str__(self) -> str:
        return self.username

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_active and self.is_superuser

    def has_module_perms(self, app_label) -> bool:
        return self.is_active and self.is_superuser

    def otp_destination(self) -> str:
        return self.phone if self.otp_channel == Channel.SMS else self.email


class ProvisionalCode(models.Model):
    """A code provisoire: single use, expiring, stored only as a keyed hash."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="provisional_codes")
    code_hash = models.CharField(max_length=64)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Who received it: the person, or the parent a minor is attached to.
    sent_to = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["person", "used_at", "revoked_at"])]

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


class Opposition(models.Model):
    """Proof that a person opposed the creation of their space; the only thing kept about them.

    The NIR is kept as a keyed hash so that a later registry import can recognise and skip it.
    """

    nir_digest = models.CharField(max_length=64, unique=True)
    proof_number = models.CharField(max_length=20, unique=True)
    opposed_at = models.DateTimeField(default=timezone.now)
    by_representative = models.BooleanField(default=False)


class Throttle(models.Model):
    """Failed attempts for one key (a NIR digest, a login, an IP) in one scope, with lockout."""

    scope = models.CharField(max_length=32)
    key_digest = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    lockouts = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key_digest"], name="throttle_scope_key")]


class OneTimeCode(models.Model):
    """A 6-digit code sent by email or SMS to prove control of a contact (login, reset, change)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=24, choices=OtpPurpose.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    destination = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)


class RegenerationLink(models.Model):
    """A one-time link, mailed after a Vitale-card check, that issues a fresh provisional code."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class RepresentationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=RepresentationStatus.ACCEPTED)

    def pending(self):
        return self.filter(status=RepresentationStatus.INVITED, expires_at__gt=timezone.now())


class Representation(models.Model):
    """A legal representative's access to another person's space (a child, a protected adult)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="representations")
    representative = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="represents")
    kind = models.CharField(max_length=24, choices=RepresentationKind.choices)
    status = models.CharField(max_length=10, choices=RepresentationStatus.choices)
    invited_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text=_("Fin de validité de l'invitation."))
    responded_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)

    objects = RepresentationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "representative"],
                condition=Q(status__in=["invited", "accepted"]),
                name="one_open_representation",
            )
        ]


class DeviceSession(models.Model):
    """A signed-in device: a browser session or a mobile-app token, listed to the holder."""

    class Kind(models.TextChoices):
        WEB = "web", _("Navigateur")
        API = "api", _("Application mobile")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="devices")
    kind = models.CharField(max_length=3, choices=Kind.choices)
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    def is_open(self) -> bool:
        if self.ended_at:
            return False
        idle = settings.SESSION_COOKIE_AGE if self.kind == self.Kind.WEB else settings.CARNET_API_TOKEN_IDLE_SECONDS
        return (timezone.now() - self.last_seen_at).total_seconds() < idle
