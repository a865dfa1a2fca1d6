"""Joining one of the space's documents to a message: only one the professional may read (the policy's
READ_DOCUMENT for the recipient), refused with a clear message otherwise, nothing half-written."""

import uuid

import pytest

from carnet.messaging import actions
from carnet.messaging.actions import MessagingError
from carnet.messaging.models import Conversation, Message
from carnet.record import actions as record_actions
from carnet.sharing import actions as sharing_actions
from carnet.sharing.models import AccessEvent
from tests.messaging.conftest import BODY, SUBJECT, from_doctor
from tests.pro.conftest import pro_sign_in
from tests.pro.helpers import add_doc, text

pytestmark = pytest.mark.django_db


def test_a_readable_document_is_joined_and_the_professional_opens_it(client, holder, doctor, treating):
    document = add_doc(holder, title="Bilan sanguin de mars")
    conversation = actions.start_conversation(holder, holder, doctor, subject=SUBJECT, body=BODY,
                                              document=document.uuid)
    assert Message.objects.get(conversation=conversation).document == document
    pro_sign_in(client, doctor)
    page = text(client.get(f"/pro/messagerie/{conversation.uuid}/"))
    assert "Bilan sanguin de mars" in page
    link = page.split("Document joint :")[1].split('href="')[1].split('"')[0]
    assert client.get(link).status_code == 200
    assert AccessEvent.objects.filter(person=holder, professional=doctor, action="document.read").exists()


def test_a_document_the_professional_may_not_read_is_refused(holder, stranger_pro):
    sharing_actions.authorise_professional(holder, holder, stranger_pro, until=None)
    masked = add_doc(holder, title="Compte rendu psychiatrique", masked=True)
    with pytest.raises(MessagingError) as refused:
        actions.start_conversation(holder, holder, stranger_pro, subject=SUBJECT, body=BODY, document=masked.uuid)
    assert refused.value.field == "document" and "ne peut pas être joint" in refused.value.message
    assert not Conversation.objects.exists()
    conversation = from_doctor(stranger_pro, holder)
    with pytest.raises(MessagingError):
        actions.send_message(holder, conversation, body=BODY, document=masked.uuid)
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_an_unknown_or_other_spaces_document_is_not_found(family, holder, doctor, treating):
    elsewhere = add_doc(family.holder().person)
    for wanted in (uuid.uuid4(), elsewhere.uuid, "pas-un-uuid"):
        with pytest.raises(MessagingError) as refused:
            actions.start_conversation(holder, holder, doctor, subject=SUBJECT, body=BODY, document=wanted)
        assert refused.value.code == "not_found"


def test_a_document_masked_later_is_no_longer_offered_to_the_professional(holder, stranger_pro):
    sharing_actions.authorise_professional(holder, holder, stranger_pro, until=None)
    document = add_doc(holder, title="Échographie")
    conversation = actions.start_conversation(holder, holder, stranger_pro, subject=SUBJECT, body=BODY,
                                              document=document.uuid)
    record_actions.set_confidentiality(holder, holder, document, masked=True)
    [shown] = actions.open_conversation(stranger_pro, conversation)
    assert shown.attachment is None and shown.document_id == document.pk
    [mine] = actions.open_conversation(holder, conversation)
    assert mine.attachment == document
