"""Delegations between a holder (aidé) and a caregiver (aidant).

One row per invitation: it is pending until the invitee answers or it expires, then accepted (the
caregiver acts on the holder's space until either side ends it), refused, expired or ended. Rows are
never deleted: they are the record behind the certificates filed in the holder's documents.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .enums import DelegationStatus


class DelegationQuerySet(models.QuerySet):
    def active(self):
        """Accepted and not ended: the caregiver may act on the holder's space."""
        return self.filter(status=DelegationStatus.ACCEPTED, ended_at__isnull=True)

    def pending(self, now=None):
        """Invitations still open to an answer."""
        return self.filter(status=DelegationStatus.PENDING, expires_at__gt=now or timezone.now())

    def open(self, now=None):
        """What counts against the limits: accepted delegations and invitations still pending."""
        now = now or timezone.now()
        return self.filter(Q(status=DelegationStatus.ACCEPTED, ended_at__isnull=True)
                           | Q(status=DelegationStatus.PENDING, expires_at__gt=now))


class Delegation(models.Model):
    """A caregiver's (aidant's) access to a holder's (aidé's) space, from invitation to end."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="caregiver_delegations",
                               help_text=_("La personne aidée, titulaire de l'espace."))
    caregiver = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="helped_delegations")
    status = models.CharField(max_length=10, choices=DelegationStatus.choices, default=DelegationStatus.PENDING)
    declared_at = models.DateTimeField(help_text=_("Déclaration sur l'honneur de la personne aidée."))
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text=_("Fin de validité de l'invitation."))
    responded_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    end_reason = models.CharField(max_length=16, blank=True)
    # The last certificate (justificatif d'accès) filed in the holder's documents.
    certificate = models.ForeignKey("record.Document", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    objects = DelegationQuerySet.as_manager()

    class Meta:
        verbose_name = _("délégation d'aidant")
        indexes = [
            models.Index(fields=["person", "status"], name="delegation_person_status"),
            models.Index(fields=["caregiver", "status"], name="delegation_caregiver_status"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["person", "caregiver"], condition=Q(status__in=["pending", "accepted"]),
                                    name="one_open_delegation"),
            models.CheckConstraint(condition=~Q(person=models.F("caregiver")), name="delegation_not_to_oneself"),
        ]

    def __str__(self) -> str:
        return f"délégation {self.uuid}"

    def is_pending(self, now=None) -> bool:
        return self.status == DelegationStatus.PENDING and self.expires_at > (now or timezone.now())
