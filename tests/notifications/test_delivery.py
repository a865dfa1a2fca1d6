"""Outbound messages: recorded, delivered through a real SMTP exchange, retried, then erased."""

import logging
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from carnet.cli.daily import run_daily
from carnet.common.dates import today
from carnet.notifications import actions
from carnet.notifications.delivery import MAX_ATTEMPTS, deliver
from carnet.notifications.enums import Kind
from carnet.notifications.models import Notification, OutboundMessage

pytestmark = pytest.mark.django_db


class Collect(Message):
    def __init__(self):
        super().__init__()
        self.received = []

    def handle_message(self, message):
        self.received.append(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    # aiosmtpd's thread logs each connection at INFO, sometimes after pytest has closed the captured stream the
    # root handler writes to ("--- Logging error ---"): its warnings and errors still show.
    quiet = logging.getLogger("mail.log")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", controller.port, False
    yield handler
    controller.stop()
    quiet.setLevel(level)


def test_an_email_row_is_delivered_over_smtp_and_its_body_erased(smtp_server):
    message = actions.send_email("lea@example.org", "Carnet : test", "Votre code provisoire : ABCD-EFGH-JKMN")

    assert deliver(message.pk) == "sent"

    [received] = smtp_server.received
    assert received["To"] == "lea@example.org" and received["Subject"] == "Carnet : test"
    assert "ABCD-EFGH-JKMN" in received.get_payload(decode=True).decode()
    message.refresh_from_db()
    assert message.status == "sent" and message.body == "" and message.body_erased
    assert deliver(message.pk) == "skipped"  # never sent twice
    assert len(smtp_server.received) == 1


def test_demo_mode_keeps_the_body_for_the_dev_outbox(smtp_server, settings):
    settings.CARNET_DEMO = True
    message = actions.send_email("lea@example.org", "Carnet : test", "corps")
    deliver(message.pk)
    message.refresh_from_db()
    assert message.status == "sent" and message.body == "corps"


def test_a_failed_delivery_stays_pending_and_the_daily_job_retries_it(settings, smtp_server):
    real_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nobody listens there
    message = actions.send_email("lea@example.org", "Carnet : test", "corps")

    assert deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert message.status == "pending" and message.attempts == 1
    assert message.last_error == "ConnectionRefusedError"  # the class only, never the content

    settings.EMAIL_PORT = real_port
    run_daily(today())
    message.refresh_from_db()
    assert message.status == "sent" and len(smtp_server.received) == 1


def test_a_message_that_keeps_failing_is_marked_failed(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    message = actions.send_email("lea@example.org", "s", "b")
    for _ in range(MAX_ATTEMPTS):
        deliver(message.pk)
    message.refresh_from_db()
    assert message.status == "failed" and message.pk not in actions.pending_ids()


def test_sms_goes_through_the_configured_gateway(settings):
    sent = []

    class Recorder:
        def send(self, number, text):
            sent.append((number, text))

    import carnet.notifications.sms as sms

    sms.RecorderForTest = Recorder
    settings.CARNET_SMS_BACKEND = "carnet.notifications.sms.RecorderForTest"
    message = actions.send_sms("+33612345678", "Votre code : 123456")
    assert deliver(message.pk) == "sent"
    assert sent == [("+33612345678", "Votre code : 123456")]
    del sms.RecorderForTest


def test_notify_respects_preferences_and_carries_no_content(family, mailoutbox):
    account = family.holder()
    person = account.person
    actions.set_preference(person, Kind.DOCUMENTS, email=False, sms=True)

    actions.notify(person, kind=Kind.DOCUMENTS, code="AJOUT_DOCUMENT", title="Un nouveau document est disponible")
    actions.notify(person, kind=Kind.MESSAGES, code="RECEPTION_MESSAGE", title="Vous avez reçu un message")

    assert Notification.objects.filter(person=person).count() == 2
    rows = OutboundMessage.objects.filter(person=person).order_by("pk")
    assert [m.channel for m in rows] == ["sms", "email"]
    assert rows[1].subject == "Carnet : Vous avez reçu un message"


def test_account_notices_cannot_be_switched_off_by_email(family):
    account = family.holder()
    actions.set_preference(account.person, Kind.ACCOUNT, email=False, sms=False)
    actions.notify(account.person, kind=Kind.ACCOUNT, code="X", title="Le mot de passe a été modifié")
    assert OutboundMessage.objects.filter(person=account.person, channel="email").exists()


def test_notification_centre_actions_only_touch_my_own(family):
    me, other = family.holder().person, family.holder().person
    mine = actions.notify(me, kind=Kind.ACCOUNT, code="X", title="t")
    theirs = actions.notify(other, kind=Kind.ACCOUNT, code="X", title="t")

    assert actions.mark_read(me, mine.uuid) == 1
    assert actions.mark_read(me, theirs.uuid) == 0
    assert actions.delete_notification(me, theirs.uuid) == 0
    assert Notification.objects.filter(person=me).unread().count() == 0
    assert actions.mark_read(me, mine.uuid, read=False) == 1
    assert actions.mark_all_read(me) == 1


def test_a_childs_notifications_reach_its_legal_representatives(family):
    from carnet.identity import actions as identity

    parent = family.holder()
    child = family.person(age=8, parent=parent.person, email=False)
    identity.activate_child(parent.person, child, certify=True)

    actions.notify(child, kind=Kind.DOCUMENTS, code="AJOUT_DOCUMENT", title="Un nouveau document est disponible")

    copy = Notification.objects.get(person=parent.person, code="AJOUT_DOCUMENT")
    assert copy.about == child
    assert OutboundMessage.objects.filter(recipient=parent.email, subject__contains="nouveau document").exists()
