"""The messaging use cases: sealed storage, the caregiver's footer, notices without content (through a real SMTP
exchange), read marks, closing, and the access events the holder sees."""

import pytest
from django.db import connection

from carnet.messaging import actions
from carnet.messaging.actions import MessagingError
from carnet.messaging.models import Conversation, Message
from carnet.notifications.delivery import deliver
from carnet.notifications.enums import Kind
from carnet.notifications.models import Notification, OutboundMessage
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import PolicyDenied
from tests.messaging.conftest import BODY, SUBJECT, from_doctor
from tests.notifications.test_delivery import smtp_server  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def raw_rows(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - our own table names
        return repr(cursor.fetchall())


def test_subject_and_body_are_sealed_with_the_persons_key(holder, doctor, treating):
    conversation = actions.start_conversation(holder, holder, doctor, subject=SUBJECT, body=BODY)
    for table in ("messaging_conversation", "messaging_message"):
        dump = raw_rows(table)
        assert "glycémie" not in dump and "hypoglycémique" not in dump
    message = Message.objects.get(conversation=conversation)
    assert SUBJECT.encode() not in bytes(conversation.subject) and BODY.encode() not in bytes(message.body)
    assert actions.subject_of(conversation) == SUBJECT
    assert actions.body_of(message, holder) == BODY


def test_a_caregivers_message_carries_the_footer_naming_them(holder, caregiver, delegation, doctor, treating):
    conversation = actions.start_conversation(caregiver, holder, doctor, subject=SUBJECT, body=BODY)
    [shown] = actions.open_conversation(doctor, conversation)
    assert shown.footer == f"Rédigé par {caregiver.full_name}, aidant(e) de {holder.full_name}"
    assert shown.author == caregiver and shown.author_role == "caregiver"
    assert conversation.started_by == caregiver


def test_the_holders_own_message_has_no_footer(holder, doctor, treating):
    conversation = actions.start_conversation(holder, holder, doctor, subject=SUBJECT, body=BODY)
    [shown] = actions.open_conversation(doctor, conversation)
    assert shown.footer == "" and shown.text == BODY


def test_the_professional_is_emailed_without_subject_nor_text(smtp_server, holder, caregiver,  # noqa: F811
                                                              delegation, doctor, treating):
    actions.start_conversation(caregiver, holder, doctor, subject=SUBJECT, body=BODY)
    email = OutboundMessage.objects.get(recipient=doctor.email)
    assert deliver(email.pk) == "sent"
    [received] = smtp_server.received
    text = received.get_payload(decode=True).decode()
    assert received["To"] == doctor.email
    assert "nouveau message sur Carnet" in text and "/pro/messagerie/" in text
    for secret in (SUBJECT, BODY, "glycémie", holder.family_name, holder.first_name, caregiver.family_name):
        assert secret not in text and secret not in received["Subject"]


def test_a_burst_to_a_professional_is_one_email(holder, doctor, treating):
    conversation = actions.start_conversation(holder, holder, doctor, subject=SUBJECT, body=BODY)
    actions.send_message(holder, conversation, body="Et aussi : la tension est à 15.")
    assert OutboundMessage.objects.filter(recipient=doctor.email).count() == 1


def test_the_holder_and_their_caregiver_are_told_without_content(holder, caregiver, delegation, doctor):
    from_doctor(doctor, holder, subject=SUBJECT, body=BODY)
    notice = Notification.objects.get(person=holder, code="new_message")
    copy = Notification.objects.get(person=caregiver, code="new_message")
    assert notice.kind == Kind.MESSAGES and notice.url == "/messagerie/" and copy.about == holder
    emails = OutboundMessage.objects.filter(person__in=[holder, caregiver], channel="email")
    assert {m.recipient for m in emails} == {holder.account.email, caregiver.account.email}
    for item in [notice, copy, *emails]:
        dump = f"{getattr(item, 'title', '')} {getattr(item, 'subject', '')} {getattr(item, 'body', '')}"
        assert SUBJECT not in dump and "hypoglyc" not in dump and doctor.family_name not in dump


def test_a_caregivers_message_is_in_the_holders_history(holder, caregiver, delegation, doctor, treating):
    conversation = actions.start_conversation(caregiver, holder, doctor, subject=SUBJECT, body=BODY)
    event = AccessEvent.objects.filter(person=holder, action="message.send").latest("sequence")
    assert (event.actor, event.actor_role, event.allowed) == (caregiver, "caregiver", True)
    assert event.subject == f"conversation:{conversation.uuid}"
    assert SUBJECT not in str(event.__dict__)


def test_the_holders_own_acts_are_not_events_but_a_professionals_read_is(holder, doctor, treating):
    conversation = actions.start_conversation(holder, holder, doctor, subject=SUBJECT, body=BODY)
    actions.open_conversation(holder, conversation)
    assert not AccessEvent.objects.filter(person=holder, action__startswith="message.").exists()
    actions.open_conversation(doctor, conversation)
    event = AccessEvent.objects.get(person=holder, action="message.read")
    assert event.professional == doctor and event.allowed


def test_every_denial_is_recorded(family, holder, caregiver, delegation, doctor, stranger_pro, treating):
    conversation = from_doctor(doctor, holder)
    with pytest.raises(PolicyDenied):
        actions.start_conversation(holder, holder, stranger_pro, subject=SUBJECT, body=BODY)
    with pytest.raises(PolicyDenied):
        actions.open_conversation(stranger_pro, conversation)
    with pytest.raises(PolicyDenied):
        actions.send_message(family.holder().person, conversation, body=BODY)
    actions.close_conversation(doctor, conversation)
    with pytest.raises(PolicyDenied):
        actions.close_conversation(doctor, conversation)
    with pytest.raises(PolicyDenied):
        actions.send_message(caregiver, conversation, body=BODY)
    denials = list(AccessEvent.objects.filter(person=holder, allowed=False).order_by("sequence")
                   .values_list("action", "reason"))
    assert denials == [("message.send", "not_on_list"), ("message.read", "no_relationship"),
                       ("message.send", "no_relationship"), ("message.close", "conversation_closed"),
                       ("message.send", "conversation_closed")]
    assert Message.objects.filter(conversation=conversation).count() == 1  # nothing half-written


def test_replies_mark_reads_and_order_the_list(holder, doctor, stranger_pro, treating):
    older = from_doctor(stranger_pro, holder)
    newer = actions.start_conversation(holder, holder, doctor, subject=SUBJECT, body=BODY)
    listed = actions.conversations_of(holder, holder)
    assert [c.uuid for c in listed] == [newer.uuid, older.uuid]
    assert [c.unread for c in listed] == [0, 1]
    actions.send_message(holder, older, body="Merci, c'est noté.")
    assert [c.uuid for c in actions.conversations_of(holder, holder)] == [older.uuid, newer.uuid]
    actions.open_conversation(holder, older)
    assert actions.conversations_of(holder, holder)[0].unread == 0
    inbox = actions.inbox_of(stranger_pro)
    assert [(c.uuid, c.unread, c.subject_text) for c in inbox] == [(older.uuid, 1, "Votre prochain rendez-vous")]


def test_closing_stops_replies(holder, doctor):
    conversation = from_doctor(doctor, holder)
    actions.close_conversation(doctor, conversation)
    assert Conversation.objects.get(pk=conversation.pk).closed
    with pytest.raises(PolicyDenied) as refused:
        actions.send_message(holder, Conversation.objects.get(pk=conversation.pk), body="Encore une question")
    assert "clos" in refused.value.message


@pytest.mark.parametrize(("subject", "body", "field"), [("", BODY, "subject"), ("  ", BODY, "subject"),
                                                        (SUBJECT, "", "body"), ("x" * 151, BODY, "subject"),
                                                        (SUBJECT, "x" * 5001, "body")])
def test_empty_or_too_long_content_is_refused_and_nothing_written(holder, doctor, treating, subject, body, field):
    with pytest.raises(MessagingError) as refused:
        actions.start_conversation(holder, holder, doctor, subject=subject, body=body)
    assert refused.value.field == field
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_recipients_are_the_holders_list_as_the_policy_sees_it(holder, caregiver, delegation, doctor, treating,
                                                               stranger_pro):
    from carnet.sharing import actions as sharing_actions

    assert actions.recipients(caregiver, holder) == [doctor]
    sharing_actions.authorise_professional(holder, holder, stranger_pro, until=None)
    assert actions.recipients(holder, holder) == [doctor, stranger_pro]
