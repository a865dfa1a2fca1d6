"""An export request and its result: one encrypted ZIP in the vault, under the requester's key."""

import uuid

from django.db import models
from django.utils import timezone

from .enums import ExportStatus


class Export(models.Model):
    """What one person asked to extract ("extraire mes données"): their space (`person`) and, if they chose, the
    spaces they represent (`spaces` keeps the public ids that were included). Only the requester downloads it,
    until `expires_at`; the daily purge then deletes the file."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: the composite index below starts with person.
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="+", db_index=False)
    target = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="+")
    include_represented = models.BooleanField(default=False)
    spaces = models.JSONField(default=list, blank=True)  # [uuid, ...] of the spaces in the file
    status = models.CharField(max_length=12, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    blob = models.ForeignKey("vault.Blob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    size = models.BigIntegerField(default=0)
    document_count = models.PositiveIntegerField(default=0)
    failure = models.CharField(max_length=64, blank=True)  # a code, never content

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["person", "-requested_at"], name="export_person_requested"),
                   models.Index(fields=["status", "expires_at"], name="export_status_expiry")]

    def __str__(self) -> str:
        return f"export {self.uuid}"

    @property
    def downloadable(self) -> bool:
        return self.status == ExportStatus.READY and self.expires_at is not None and self.expires_at > timezone.now()
