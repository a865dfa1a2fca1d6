"""Data keys and blob records. The bytes themselves live in the `vault` storage, encrypted."""

import uuid

from django.db import models
from django.utils import timezone


class DataKey(models.Model):
    """A person's AES-256 data key, wrapped (AES-GCM) by one of the master keys.

    Only `master_key_id` and the wrapped bytes are stored: rotating the master key rewraps these
    rows and never touches a blob.
    """

    person = models.OneToOneField("identity.Person", on_delete=models.CASCADE, related_name="data_key")
    master_key_id = models.CharField(max_length=64)
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    rewrapped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["master_key_id"], name="datakey_master_idx")]


class Blob(models.Model):
    """One stored plaintext of one person, addressed by its SHA-256 (the same content is kept once)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="blobs",
                               db_index=False)  # the (person, sha256) constraint starts with it
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    storage_name = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "sha256"], name="blob_person_sha256")]

    def __str__(self) -> str:
        return f"blob {self.uuid}"
