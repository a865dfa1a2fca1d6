"""Messaging in the pro portal: « Écrire au patient » from the patient's page, the inbox, a conversation with a
caregiver's footer, a reply, « Clore l'échange »; another professional's conversation is a 404; a blocked
professional is refused (recorded); every read is in the holder's history."""

import pytest

from carnet.messaging import actions
from carnet.messaging.models import Conversation, Message
from carnet.notifications.models import Notification
from carnet.sharing import actions as sharing_actions
from carnet.sharing.models import AccessEvent
from tests.messaging.conftest import (  # noqa: F401 - fixtures
    BODY,
    SUBJECT,
    caregiver,
    delegation,
    doctor,
    from_doctor,
    holder,
    stranger_pro,
    treating,
)
from tests.pro.conftest import pro_sign_in
from tests.pro.helpers import found, text

pytestmark = pytest.mark.django_db


def test_the_doctor_writes_to_a_patient_found_without_authorisation(client, holder, doctor):  # noqa: F811
    pro_sign_in(client, doctor)
    patient_url = found(client, holder)
    assert "Écrire au patient" in text(client.get(patient_url))
    write_url = patient_url + "ecrire/"
    assert client.get(write_url).status_code == 200
    response = client.post(write_url, {"subject": SUBJECT, "body": BODY})
    conversation = Conversation.objects.get(person=holder)
    assert response.status_code == 302 and response["Location"] == f"/pro/messagerie/{conversation.uuid}/"
    assert conversation.started_by_professional and actions.subject_of(conversation) == SUBJECT
    assert Notification.objects.filter(person=holder, code="new_message").exists()
    assert AccessEvent.objects.filter(person=holder, professional=doctor, action="message.send").exists()


def test_an_empty_message_is_refused(client, holder, doctor):  # noqa: F811
    pro_sign_in(client, doctor)
    response = client.post(found(client, holder) + "ecrire/", {"subject": SUBJECT, "body": ""})
    assert response.status_code == 400 and not Conversation.objects.exists()


def test_the_doctor_reads_the_caregivers_message_with_its_footer_replies_and_closes(
        client, holder, caregiver, delegation, doctor, treating):  # noqa: F811
    conversation = actions.start_conversation(caregiver, holder, doctor, subject=SUBJECT, body=BODY)
    pro_sign_in(client, doctor)
    inbox = text(client.get("/pro/messagerie/"))
    assert SUBJECT in inbox and holder.full_name in inbox and "1 non lu" in inbox
    url = f"/pro/messagerie/{conversation.uuid}/"
    page = text(client.get(url))
    assert BODY in page and f"Rédigé par {caregiver.full_name}, aidant(e) de {holder.full_name}" in page
    assert AccessEvent.objects.filter(person=holder, professional=doctor, action="message.read").exists()
    assert client.post(url + "repondre/", {"body": "Passez au cabinet demain matin."}).status_code == 302
    assert Message.objects.filter(conversation=conversation, from_professional=True).count() == 1
    assert Notification.objects.filter(person=caregiver, about=holder, code="new_message").exists()
    assert client.post(url + "clore/").status_code == 302
    assert Conversation.objects.get(pk=conversation.pk).closed
    assert "Cet échange est clos" in text(client.get(url))
    assert AccessEvent.objects.filter(person=holder, professional=doctor, action="message.close").exists()


def test_another_professionals_conversation_is_a_404(client, holder, doctor, stranger_pro):  # noqa: F811
    conversation = from_doctor(doctor, holder)
    pro_sign_in(client, stranger_pro)
    url = f"/pro/messagerie/{conversation.uuid}/"
    assert client.get(url).status_code == 404
    assert client.post(url + "repondre/", {"body": "x"}).status_code == 404
    assert client.post(url + "clore/").status_code == 404
    assert SUBJECT not in text(client.get("/pro/messagerie/"))


def test_a_blocked_doctor_no_longer_reads_nor_writes(client, holder, doctor):  # noqa: F811
    conversation = from_doctor(doctor, holder)
    sharing_actions.block(holder, holder, doctor)
    pro_sign_in(client, doctor)
    assert "Votre prochain rendez-vous" not in text(client.get("/pro/messagerie/"))
    response = client.get(f"/pro/messagerie/{conversation.uuid}/")
    assert response.status_code == 403 and "vous a bloqué" in text(response)
    assert client.get(found(client, holder) + "ecrire/").status_code == 403
    denials = AccessEvent.objects.filter(person=holder, professional=doctor, allowed=False, reason="blocked")
    assert set(denials.values_list("action", flat=True)) == {"message.read", "message.send"}
