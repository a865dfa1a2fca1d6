"""Access events: append-only and hash-chained per person (DESIGN.md §1, §4)."""

import hashlib
import json
import uuid

from django.db import models
from django.utils import timezone


class AccessEvent(models.Model):
    """Something done on a person's space, by whom, for whom, allowed or denied.

    Each event carries the hash of the same person's previous event, so any edit or deletion
    breaks the chain (`verify_chain`); chains are per person so writes never contend globally.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="access_events")
    actor = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, blank=True)
    actor_role = models.CharField(max_length=32)
    action = models.CharField(max_length=64)
    allowed = models.BooleanField()
    reason = models.CharField(max_length=64, blank=True)
    # What was acted on, without health content: e.g. "document:<uuid>" (the history links it).
    subject = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField(default=timezone.now)
    sequence = models.PositiveIntegerField()
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "sequence"], name="access_event_person_sequence")]
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
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
