"""Sending: every feature calls these; rows are written in the caller's transaction and
delivered by a task once it commits."""

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from carnet.common.rows import Rider

from .enums import MANDATORY_KINDS, Kind, OutboundChannel, OutboundStatus
from .models import Notification, NotificationPreference, OutboundMessage

# What a caregiver receives of the person they help: news of the space (documents, messages, appointments...),
# not the person's account security notices nor their family and sharing invitations, which are theirs alone.
CAREGIVER_KINDS = frozenset(Kind) - {Kind.ACCOUNT, Kind.FAMILY}


def _deliver_after_commit(message_ids: list[int]) -> None:
    from .tasks import deliver_messages

    if message_ids:
        transaction.on_commit(lambda: deliver_messages.enqueue(message_ids))


def send_email(to: str, subject: str, body: str, *, person=None) -> OutboundMessage:
    message = OutboundMessage.objects.create(
        person=person, channel=OutboundChannel.EMAIL, recipient=to, subject=subject, body=body
    )
    _deliver_after_commit([message.pk])
    return message


def send_sms(to: str, text: str, *, person=None) -> OutboundMessage:
    message = OutboundMessage.objects.create(person=person, channel=OutboundChannel.SMS, recipient=to, body=text)
    _deliver_after_commit([message.pk])
    return message


def queue_letter(postal_address: str, subject: str, body: str, *, person=None, batch: str) -> OutboundMessage:
    """A postal letter waits for its batch to be rendered into one print-ready PDF."""
    return OutboundMessage.objects.create(
        person=person, channel=OutboundChannel.LETTER, recipient=postal_address, subject=subject, body=body,
        batch=batch,
    )


def bulk_queue(messages: Iterable[OutboundMessage]) -> list[OutboundMessage]:
    """Many rows in one statement (registry import); emails and SMS are delivered after commit."""
    created = OutboundMessage.objects.bulk_create(list(messages))
    _deliver_after_commit([m.pk for m in created if m.channel != OutboundChannel.LETTER])
    return created


def preferences_for(person) -> dict[str, NotificationPreference]:
    existing = {p.kind: p for p in NotificationPreference.objects.filter(person=person)}
    return {kind: existing.get(kind) or NotificationPreference(person=person, kind=kind) for kind in Kind.values}


def set_preference(person, kind: str, *, email: bool, sms: bool) -> NotificationPreference:
    if kind in MANDATORY_KINDS:
        email, sms = True, sms
    preference, _ = NotificationPreference.objects.update_or_create(
        person=person, kind=kind, defaults={"email": email, "sms": sms}
    )
    return preference


def notify(recipient, *, kind: str, code: str, title: str, url: str = "", about=None,
           occurrences: int = 1) -> Notification:
    """Tell a person that something happened: in-app always, email/SMS as they chose. The legal
    representatives of the person are told too (a child has no login of their own), and so are their
    caregivers (aidants) for news of the space (CAREGIVER_KINDS).

    `title` must say *that* something happened, never any health content; the email only invites
    the person to sign in.
    """
    notification = Notification.objects.create(
        person=recipient, about=about, kind=kind, code=code, title=title, url=url, occurrences=occurrences
    )
    _send_outside(recipient, kind, title)
    if about is None and recipient.pk:
        from carnet.identity.models import Person

        for representative in Person.objects.filter(
            represents__person=recipient, represents__status="accepted"
        ).select_related("account"):
            Notification.objects.create(person=representative, about=recipient, kind=kind, code=code, title=title,
                                        url=url, occurrences=occurrences)
            _send_outside(representative, kind, title)
        if kind in CAREGIVER_KINDS:  # the person's caregivers (aidants), labelled with the first name, by their choices
            from carnet.caregivers.actions import caregiver_recipients

            labelled = f"{recipient.first_name} : {title}"[:200]
            for caregiver in caregiver_recipients(recipient):
                Notification.objects.create(person=caregiver, about=recipient, kind=kind, code=code, title=labelled,
                                            url=url, occurrences=occurrences)
                _send_outside(caregiver, kind, labelled)
    return notification


def coalesce_window():
    """How long a burst of the same news stays one notice (CARNET_NOTICE_COALESCE_MINUTES, 30 by default)."""
    return dt.timedelta(minutes=int(getattr(settings, "CARNET_NOTICE_COALESCE_MINUTES", 30)))


def notify_coalesced(recipient, *, kind: str, code: str, title: str, more_title: str, count: int = 1,
                     url: str = "", ran: Rider | None = None) -> bool:
    """Like `notify`, but a burst is one notice: while the recipient has an unread notice with this `code` younger
    than the window, it is bumped (its count, and `title` becomes `more_title` in it and in the copies of
    representatives and caregivers) in one UPDATE, with no new row and no new email or SMS. Otherwise a new notice
    goes out as `notify` does (`more_title` when `count` > 1). True when a new notice was made. `ran`: the bump
    (`coalesce_rider`) already ran inside another statement of the caller's transaction; its row count decides.

    A caller that files documents in the same transaction holds the person's row lock (the access event takes it),
    so two concurrent documents do not both open a burst; elsewhere two racing first documents may each open one
    (two notices: nothing lost). Plain SQL that SQLite runs too (SUBSTR, REPLACE)."""
    if ran is not None and ran.rowcount is not None:
        if ran.rowcount:
            return False
    elif recipient.pk and coalesce_rider(recipient, code=code, title=title, more_title=more_title, count=count).run():
        return False
    notify(recipient, kind=kind, code=code, title=more_title if count > 1 else title, url=url, occurrences=count)
    return True


def coalesce_rider(recipient, *, code: str, title: str, more_title: str, count: int = 1) -> Rider:
    """`notify_coalesced`'s bump as a statement that can ride in another (`vault.store_with_row`): the caller hands
    it back to `notify_coalesced(..., ran=...)`, which then makes a new notice only if it bumped none."""
    table = Notification._meta.db_table
    since = timezone.now() - coalesce_window()
    return Rider(
        f'UPDATE "{table}" SET "occurrences" = "occurrences" + %s, '  # noqa: S608 - our own table name
        f'"title" = SUBSTR(REPLACE("title", %s, %s), 1, 200) '
        f'WHERE "code" = %s AND "read_at" IS NULL AND "created_at" >= %s '
        f'AND (("person_id" = %s AND "about_id" IS NULL) OR "about_id" = %s) '
        f'AND EXISTS (SELECT 1 FROM "{table}" h WHERE h."person_id" = %s AND h."about_id" IS NULL '
        f'AND h."code" = %s AND h."read_at" IS NULL AND h."created_at" >= %s)',
        [count, title, more_title, code, since, recipient.pk, recipient.pk, recipient.pk, code, since])


def _send_outside(person, kind: str, title: str) -> None:
    """Email and SMS as the person chose for this kind (account notices always reach them)."""
    account = getattr(person, "account", None) if person.pk else None
    if account is None:
        return
    preference = NotificationPreference.objects.filter(person=person, kind=kind).first()
    wants_email = preference.email if preference else True
    wants_sms = preference.sms if preference else False
    if kind in MANDATORY_KINDS:
        wants_email = wants_email or not (wants_sms and account.phone)
    link = settings.CARNET_PUBLIC_URL.rstrip("/") + "/notifications/"
    if wants_email and account.email:
        send_email(
            account.email,
            f"Carnet : {title}",
            f"Bonjour,\n\n{title}.\n\nConnectez-vous à votre espace Carnet pour en savoir plus : {link}\n\n"
            "Ceci est un message automatique, merci de ne pas y répondre.\n",
            person=person,
        )
    if wants_sms and account.phone:
        send_sms(account.phone, f"Carnet : {title}. Connectez-vous à votre espace pour en savoir plus.",
                 person=person)


def mark_read(person, notification_uuid, *, read: bool = True) -> int:
    return Notification.objects.filter(person=person, uuid=notification_uuid).update(
        read_at=timezone.now() if read else None
    )


def mark_all_read(person) -> int:
    return Notification.objects.filter(person=person, read_at__isnull=True).update(read_at=timezone.now())


def delete_notification(person, notification_uuid) -> int:
    return Notification.objects.filter(person=person, uuid=notification_uuid).delete()[0]


def pending_ids(max_attempts: int = 8) -> list[int]:
    """Emails and SMS still waiting (a crash between commit and delivery, a gateway outage)."""
    return list(
        OutboundMessage.objects.filter(
            status=OutboundStatus.PENDING, attempts__lt=max_attempts,
            channel__in=[OutboundChannel.EMAIL, OutboundChannel.SMS],
        ).values_list("pk", flat=True)
    )
