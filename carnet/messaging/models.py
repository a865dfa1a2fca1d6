"""Conversations between a person's space and one professional of the directory, and their messages.

Subjects and bodies are health content: sealed with the person's key (`carnet.vault.seal`), bound to the row's
uuid, never in clear in the database, a log or a URL. Read them through `carnet.messaging.actions`, which asks the
policy first.
"""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    """An exchange (échange) between the person whose space it is and one professional. Closed by the
    professional, it takes no more messages (as in Mon Espace Santé)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="conversations")
    professional = models.ForeignKey("sharing.Professional", on_delete=models.PROTECT, related_name="+")
    subject = models.BinaryField(help_text=_("L'objet, scellé avec la clé de la personne."))
    started_by_professional = models.BooleanField()
    # Who started it on the person's side (the holder, a representative or a caregiver); empty for a professional.
    started_by = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set by the actions that read it, never stored: the subject in clear, the messages the reader has not read.
    subject_text: str
    unread: int

    class Meta:
        verbose_name = _("conversation")
        indexes = [models.Index(fields=["person", "-last_message_at"], name="conversation_person_last"),
                   models.Index(fields=["professional", "-last_message_at"], name="conversation_pro_last")]

    def __str__(self) -> str:
        return f"conversation {self.uuid}"

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


class Message(models.Model):
    """One message. `from_professional` is the sender side; on the person's side, `author` is who wrote it and
    `author_role` in which capacity (holder, representative, caregiver: a caregiver's message carries a footer
    naming them). `read_at` is when the other side first read it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    from_professional = models.BooleanField()
    author = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    author_label = models.CharField(max_length=200, blank=True)  # the author's name when they wrote
    author_role = models.CharField(max_length=32, blank=True)  # policy.Role of a person-side author
    body = models.BinaryField(help_text=_("Le texte, scellé avec la clé de la personne."))
    # One of the person's documents, joined by the person's side when the professional may read it (the policy).
    document = models.ForeignKey("record.Document", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set by `actions.open_conversation`, never stored: the text in clear, the caregiver's footer, the reader's side,
    # the joined document when this reader may open it.
    text: str
    footer: str
    mine: bool
    attachment: object

    class Meta:
        verbose_name = _("message")
        ordering = ["sent_at", "pk"]
        indexes = [models.Index(fields=["person", "conversation", "sent_at"], name="message_person_conv")]

    def __str__(self) -> str:
        return f"message {self.uuid}"
