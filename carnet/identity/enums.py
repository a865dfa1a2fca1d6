from django.db import models
from django.utils.translation import gettext_lazy as _


class SpaceStatus(models.TextChoices):
    """Where a space is in its life (DESIGN.md §2)."""

    NOTIFIED = "notified", _("Notifié (délai d'opposition en cours)")
    CREATED = "created", _("Créé, non activé")
    ACTIVE = "active", _("Activé")
    ARCHIVED = "archived", _("Clôturé (archivé)")
    DESTROYED = "destroyed", _("Supprimé")


class Sex(models.TextChoices):
    MALE = "M", _("Homme")
    FEMALE = "F", _("Femme")


class Channel(models.TextChoices):
    EMAIL = "email", _("Courriel")
    SMS = "sms", _("SMS")


class OtpPurpose(models.TextChoices):
    LOGIN = "login", _("Connexion")
    ACTIVATION_CONTACT = "activation_contact", _("Vérification du contact à l'activation")
    PASSWORD_RESET = "password_reset", _("Réinitialisation du mot de passe")
    CONTACT_CHANGE = "contact_change", _("Changement de contact")


class RepresentationKind(models.TextChoices):
    ATTACHED_PARENT = "attached_parent", _("Parent de rattachement")
    LEGAL_REPRESENTATIVE = "legal_representative", _("Second représentant légal")
    GUARDIAN = "guardian", _("Tuteur ou tutrice")


class RepresentationStatus(models.TextChoices):
    INVITED = "invited", _("Invitation en attente")
    ACCEPTED = "accepted", _("Accepté")
    REFUSED = "refused", _("Refusé")
    ENDED = "ended", _("Terminé")
