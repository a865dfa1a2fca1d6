"""Messaging through the patient API: list, read, start, reply, recipients; same rules as the portal."""

import pytest

from carnet.messaging.models import Conversation
from carnet.sharing.models import AccessEvent
from tests.api.conftest import sign_in
from tests.messaging.conftest import BODY, SUBJECT, from_doctor

pytestmark = pytest.mark.django_db


def test_the_holder_lists_reads_and_replies(holder, doctor):
    conversation = from_doctor(doctor, holder, subject=SUBJECT, body=BODY)
    api = sign_in(holder.account)
    [listed] = api.get("/api/conversations").json()
    assert listed["id"] == str(conversation.uuid) and listed["subject"] == SUBJECT and listed["unread"] == 1
    detail = api.get(f"/api/conversations/{conversation.uuid}").json()
    assert [m["body"] for m in detail["messages"]] == [BODY]
    assert detail["professional"]["name"] == doctor.full_name
    response = api.post(f"/api/conversations/{conversation.uuid}/messages", {"body": "Bien reçu, merci."})
    assert response.status_code == 201 and response.json()["body"] == "Bien reçu, merci."
    assert api.get("/api/conversations").json()[0]["unread"] == 0


def test_a_caregiver_starts_a_conversation_for_the_person_they_help(holder, caregiver, delegation, doctor,
                                                                    treating):
    api = sign_in(caregiver.account)
    recipients = api.get("/api/conversations/recipients", {"profile_id": str(holder.uuid)}).json()
    assert [r["id"] for r in recipients] == [str(doctor.uuid)]
    response = api.post("/api/conversations", {"professional_id": str(doctor.uuid), "subject": SUBJECT,
                                               "body": BODY, "profile_id": str(holder.uuid)})
    assert response.status_code == 201, response.content
    [message] = response.json()["messages"]
    assert message["footer"] == f"Rédigé par {caregiver.full_name}, aidant(e) de {holder.full_name}"
    events = AccessEvent.objects.filter(person=holder, actor=caregiver, action="message.send")
    assert events.count() == 1  # one act, one event


def test_refusals_are_clear_and_write_nothing(family, holder, doctor, stranger_pro, treating):
    api = sign_in(holder.account)
    response = api.post("/api/conversations", {"professional_id": str(stranger_pro.uuid), "subject": SUBJECT,
                                               "body": BODY})
    assert response.status_code == 403 and "autorisés" in response.json()["detail"]
    response = api.post("/api/conversations", {"professional_id": str(doctor.uuid), "subject": " ", "body": BODY})
    assert response.status_code == 400 and response.json()["field"] == "subject"
    assert not Conversation.objects.exists()
    elsewhere = from_doctor(doctor, family.holder().person)
    assert api.get(f"/api/conversations/{elsewhere.uuid}").status_code == 404
    assert api.post(f"/api/conversations/{elsewhere.uuid}/messages", {"body": "x"}).status_code == 404


def test_a_document_is_joined_through_the_api(holder, doctor, treating):
    from tests.pro.helpers import add_doc

    document = add_doc(holder, title="Bilan sanguin")
    api = sign_in(holder.account)
    response = api.post("/api/conversations", {"professional_id": str(doctor.uuid), "subject": SUBJECT,
                                               "body": BODY, "document_id": str(document.uuid)})
    assert response.status_code == 201, response.content
    assert response.json()["messages"][0]["document_id"] == str(document.uuid)
    conversation_id = response.json()["id"]
    unknown = "00000000-0000-4000-8000-000000000000"
    response = api.post(f"/api/conversations/{conversation_id}/messages", {"body": "Et la suite",
                                                                           "document_id": unknown})
    assert response.status_code == 404


def test_bad_input_gets_a_4xx_and_writes_nothing(holder, doctor, treating):
    """A malformed JSON body, ids that are not uuids or name nothing, an oversized text and an oversized body."""
    api = sign_in(holder.account)
    headers = {"Authorization": f"Bearer {api.token}"}
    broken = api.client.post("/api/conversations", "{not json", content_type="application/json", headers=headers)
    assert 400 <= broken.status_code < 500
    start = {"professional_id": str(doctor.uuid), "subject": SUBJECT, "body": BODY}
    assert 400 <= api.post("/api/conversations", {**start, "professional_id": "12"}).status_code < 500
    unknown = api.post("/api/conversations", {**start, "professional_id": "00000000-0000-4000-8000-000000000000"})
    assert unknown.status_code == 404
    assert 400 <= api.post("/api/conversations", {**start, "document_id": "../etc"}).status_code < 500
    nowhere = api.post("/api/conversations", {**start, "document_id": "00000000-0000-4000-8000-000000000000"})
    assert nowhere.status_code == 404  # not a document of this space: as for any other unknown document
    too_long = api.post("/api/conversations", {**start, "body": "x" * 5001})
    assert too_long.status_code == 400 and too_long.json()["field"] == "body"
    huge = api.post("/api/conversations", {**start, "body": "x" * 3_000_000})  # over Django's 2.5 MB body limit
    assert 400 <= huge.status_code < 500
    assert api.get("/api/conversations/not-a-uuid").status_code in (404, 422)
    assert not Conversation.objects.exists()
    assert not AccessEvent.objects.filter(person=holder, action="message.send", allowed=True).exists()
