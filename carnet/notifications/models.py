"""Notification rows: what the person sees in-app, and every email/SMS/letter the service sends.

Outbound messages are rows first and sent by a task after commit, so nothing is lost on a restart;
a message's body is erased once delivered (it may carry a provisional code), except in demo mode
where the dev outbox shows it.
"""

import uuid

from django.db import models
from django.utils import timezone

from .enums import Kind, OutboundChannel, OutboundStatus


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An entry of the in-app notification centre. Says that something happened, never what."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="notifications",
                               db_index=False)  # the (person, -created_at) index starts with it
    # The profile concerned, when the recipient is notified as a representative.
    about = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    code = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # How many events this entry stands for: a burst of documents is one notice, bumped while it is unread.
    occurrences = models.PositiveIntegerField(default=1)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["person", "-created_at"])]
        ordering = ["-created_at", "-id"]


class NotificationPreference(models.Model):
    """Per person and kind: which channels besides the in-app centre (email on, SMS off by default)."""

    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.BooleanField(default=True)
    sms = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "kind"], name="one_preference_per_kind")]


class OutboundMessage(models.Model):
    """One email, SMS or postal letter, recorded before it is sent."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=6, choices=OutboundChannel.choices)
    recipient = models.TextField(help_text="Adresse électronique, numéro de mobile ou adresse postale.")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=OutboundStatus.choices, default=OutboundStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    batch = models.CharField(max_length=100, blank=True, help_text="Lot d'impression des courriers.")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    body_erased = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["status", "channel"]),
            models.Index(fields=["batch"]),
        ]
        ordering = ["-created_at", "-id"]
