from django.db import models
from django.utils.translation import gettext_lazy as _


class DelegationStatus(models.TextChoices):
    """DelegationInvitationStatus of the inventory, plus the end of an accepted delegation."""

    PENDING = "pending", _("Invitation en attente")
    ACCEPTED = "accepted", _("En cours")
    REFUSED = "refused", _("Refusée")
    EXPIRED = "expired", _("Invitation expirée")
    ENDED = "ended", _("Terminée")


class EndReason(models.TextChoices):
    BY_CAREGIVER = "by_caregiver", _("Fin demandée par l'aidant")
    BY_HOLDER = "by_holder", _("Fin demandée par la personne aidée")
    CANCELLED = "cancelled", _("Invitation annulée")
