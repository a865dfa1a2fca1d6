from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """What a notification is about; the holder chooses channels per kind (except account)."""

    ACCOUNT = "account", _("Sécurité et compte")
    FAMILY = "family", _("Profils partagés et représentants")
    MESSAGES = "messages", _("Messages")
    DOCUMENTS = "documents", _("Documents")
    APPOINTMENTS = "appointments", _("Rendez-vous (examens et vaccinations)")
    CONNECTED_SERVICES = "connected_services", _("Services connectés")
    SCREENING = "screening", _("Dépistages organisés")


# Security notices always go out: a person must learn that their password changed.
MANDATORY_KINDS = {Kind.ACCOUNT}


class OutboundChannel(models.TextChoices):
    EMAIL = "email", _("Courriel")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Courrier postal")


class OutboundStatus(models.TextChoices):
    PENDING = "pending", _("À envoyer")
    SENT = "sent", _("Envoyé")
    PRINTED = "printed", _("Mis en lot d'impression")
    FAILED = "failed", _("Échec définitif")
