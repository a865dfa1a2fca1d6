"""Delivering one outbound row through the email backend or the SMS gateway."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from .enums import OutboundChannel, OutboundStatus
from .models import OutboundMessage
from .sms import get_backend

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


def deliver(message_id: int) -> str:
    """Send one pending message; the row is locked so two workers never send it twice."""
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != OutboundStatus.PENDING:
            return "skipped"
        message.attempts += 1
        try:
            if message.channel == OutboundChannel.EMAIL:
                EmailMessage(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.recipient]).send()
            elif message.channel == OutboundChannel.SMS:
                get_backend().send(message.recipient, message.body)
            else:
                return "skipped"
        except Exception as exc:  # noqa: BLE001 - any gateway failure is retried later
            # The error's class only: a message may carry a code and must not reach the logs.
            message.last_error = type(exc).__name__
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboundStatus.FAILED
            message.save(update_fields=["attempts", "last_error", "status"])
            log.warning("outbound message %s not delivered (%s)", message.uuid, message.last_error)
            return "failed"
        message.status = OutboundStatus.SENT
        message.sent_at = timezone.now()
        fields = ["attempts", "status", "sent_at", "last_error"]
        message.last_error = ""
        if not settings.CARNET_DEMO:
            message.body, message.body_erased = "", True
            fields += ["body", "body_erased"]
        message.save(update_fields=fields)
        return "sent"
