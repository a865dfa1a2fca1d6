"""Provisional codes: issue, regenerate through a mailed one-time link."""

import datetime as dt
import hmac

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from carnet.common.dates import today
from carnet.common.secrets import keyed_hash, new_provisional_code, new_token, normalise_code
from carnet.notifications import actions as notifications
from carnet.notifications.models import OutboundMessage

from .. import notices, throttle
from ..enums import SpaceStatus
from ..models import Person, ProvisionalCode, RegenerationLink
from ..validators import normalise_nir, normalise_serial

CODE_PURPOSE = "provisional-code"
LINK_PURPOSE = "regeneration-link"


def code_recipient(person: Person) -> Person:
    """A minor's code goes to the parent they are attached to."""
    if person.parent_id and person.is_minor() and person.parent is not None:  # never None with a parent_id
        return person.parent
    return person


def new_code_row(person: Person, recipient: Person, now=None) -> tuple[ProvisionalCode, str]:
    now = now or timezone.now()
    code = new_provisional_code()
    row = ProvisionalCode(
        person=person, sent_to=recipient, code_hash=keyed_hash(normalise_code(code), CODE_PURPOSE),
        issued_at=now, expires_at=now + dt.timedelta(days=settings.CARNET_PROVISIONAL_CODE_DAYS),
    )
    return row, code


def contact_email(person: Person) -> str:
    """Where notices go: the verified address of the account, else the registry's."""
    if person.has_account and person.account.email:
        return person.account.email
    return person.email


def notice_message(person: Person, recipient: Person, code: str, expires_at, *, batch: str,
                   coming_of_age: bool = False, email: str | None = None) -> OutboundMessage:
    """The notice as an outbound row: an email when the recipient has an address, else a letter."""
    subject, body = notices.provisional_code_notice(
        person, recipient, code, expires=timezone.localdate(expires_at),
        opposition_deadline=person.opposition_deadline if person.status == SpaceStatus.NOTIFIED else None,
        coming_of_age=coming_of_age,
    )
    email = contact_email(recipient) if email is None else email
    if email:
        return OutboundMessage(person=person, channel="email", recipient=email, subject=subject, body=body)
    return OutboundMessage(
        person=person, channel="letter", recipient=notices.postal_address(recipient), subject=subject, body=body,
        batch=batch,
    )


def issue_provisional_code(person: Person, *, batch: str = "", coming_of_age: bool = False,
                           notify: bool = True) -> str:
    """Revoke the person's earlier codes, issue a fresh one and send the notice; returns the code."""
    now = timezone.now()
    recipient = person if coming_of_age else code_recipient(person)
    with transaction.atomic():
        ProvisionalCode.objects.filter(person=person, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now
        )
        row, code = new_code_row(person, recipient, now)
        row.save()
        if notify:
            # Single letters join the day's print batch, rendered by the daily job.
            message = notice_message(person, recipient, code, row.expires_at,
                                     batch=batch or f"courriers-{today():%Y%m%d}", coming_of_age=coming_of_age)
            notifications.bulk_queue([message])
    return code


def usable_code(person: Person, code: str) -> ProvisionalCode | None:
    """The person's usable code matching `code`, compared in constant time over every candidate."""
    digest = keyed_hash(normalise_code(code), CODE_PURPOSE)
    found = None
    for row in ProvisionalCode.objects.filter(person=person, used_at__isnull=True, revoked_at__isnull=True):
        if hmac.compare_digest(row.code_hash, digest) and row.is_usable():
            found = row
    return found


REGENERABLE = {SpaceStatus.NOTIFIED, SpaceStatus.CREATED, SpaceStatus.ACTIVE}


def request_new_code(nir: str, serial: str, birth_date: dt.date, *, ip: str = "") -> None:
    """"Générer un nouveau code provisoire". Returns nothing, whatever happened: no answer may reveal
    whether a NIR exists. A match mails a one-time link (or, without email, posts a new code)."""
    nir = normalise_nir(nir)
    try:
        throttle.check("regeneration", nir)
        if ip:
            throttle.check("regeneration-ip", ip)
    except throttle.Locked:
        return
    person = Person.objects.filter(nir=nir).select_related("parent").first()
    if person is None or not (
        person.status in REGENERABLE and not person.has_account
        and person.vitale_serial == normalise_serial(serial) and person.birth_date == birth_date
    ):
        throttle.fail("regeneration", nir)
        if ip:
            throttle.fail("regeneration-ip", ip, limit=50)
        return
    recipient = code_recipient(person)
    email = contact_email(recipient)
    with transaction.atomic():
        if not email:
            issue_provisional_code(person)
            return
        token = new_token()
        RegenerationLink.objects.create(
            person=person, token_hash=keyed_hash(token, LINK_PURPOSE),
            expires_at=timezone.now() + dt.timedelta(seconds=settings.CARNET_LINK_TTL_SECONDS),
        )
        link = settings.CARNET_PUBLIC_URL.rstrip("/") + f"/code-provisoire/lien/{token}/"
        subject, body = notices.regeneration_link_email(recipient, link)
        notifications.send_email(email, subject, body, person=person)


def redeem_regeneration_link(token: str) -> tuple[Person, str] | None:
    """Consume a link and issue a fresh code, shown on the page that opened it."""
    with transaction.atomic():
        link = (
            RegenerationLink.objects.select_for_update()
            .filter(token_hash=keyed_hash(token, LINK_PURPOSE), used_at__isnull=True, expires_at__gt=timezone.now())
            .select_related("person")
            .first()
        )
        if link is None:
            return None
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        code = issue_provisional_code(link.person, notify=False)
        return link.person, code
