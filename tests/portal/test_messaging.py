"""Messagerie in the holder's portal: the list (newest first, unread marker), a conversation and a reply, a new
message to a professional of the holder's list, a caregiver acting for the person they help (footer, history),
closed conversations, and other spaces' conversations (404)."""

import html

import pytest

from carnet.messaging import actions
from carnet.messaging.models import Conversation, Message
from carnet.portal.profiles import SESSION_KEY
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
from tests.portal.helpers import post_form, sign_in

pytestmark = pytest.mark.django_db


def page(response) -> str:
    return html.unescape(response.content.decode())


def acting_for(client, person) -> None:
    session = client.session
    session[SESSION_KEY] = str(person.uuid)
    session.save()


def test_the_list_shows_newest_first_with_an_unread_marker(client, holder, doctor, stranger_pro):  # noqa: F811
    from_doctor(stranger_pro, holder, subject="Vaccin de la grippe")
    from_doctor(doctor, holder, subject="Résultats de prise de sang")
    sign_in(client, holder.account)
    response = client.get("/messagerie/")
    assert response.status_code == 200
    text = page(response)
    assert text.index("Résultats de prise de sang") < text.index("Vaccin de la grippe")
    assert text.count("1 non lu") == 2
    assert 'href="/messagerie/"' in text and "Messagerie" in text  # in the navigation


def test_the_holder_reads_and_replies(csrf_client, holder, doctor):  # noqa: F811
    conversation = from_doctor(doctor, holder, subject=SUBJECT, body=BODY)
    sign_in(csrf_client, holder.account)
    url = f"/messagerie/{conversation.uuid}/"
    response = csrf_client.get(url)
    assert response.status_code == 200 and BODY in page(response) and doctor.full_name in page(response)
    response = post_form(csrf_client, url, {"body": "Merci docteur, j'y vais demain."},
                         action=f"{url}repondre/")
    assert response.status_code == 302 and response["Location"] == url
    reply = Message.objects.filter(conversation=conversation).latest("sent_at")
    assert not reply.from_professional and actions.body_of(reply, holder) == "Merci docteur, j'y vais demain."
    assert "non lu" not in page(csrf_client.get("/messagerie/"))  # read once opened


def test_an_empty_reply_is_refused_with_a_message(client, holder, doctor):  # noqa: F811
    conversation = from_doctor(doctor, holder)
    sign_in(client, holder.account)
    response = client.post(f"/messagerie/{conversation.uuid}/repondre/", {"body": "   "})
    assert response.status_code == 400 and "Ce champ est obligatoire" in page(response)
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_a_new_message_goes_to_a_professional_of_the_list_only(client, holder, doctor, treating,  # noqa: F811
                                                               stranger_pro):  # noqa: F811
    sign_in(client, holder.account)
    response = client.get("/messagerie/nouveau/")
    assert response.status_code == 200
    assert doctor.full_name in page(response) and stranger_pro.full_name not in page(response)
    refused = client.post("/messagerie/nouveau/", {"professional": str(stranger_pro.uuid), "subject": SUBJECT,
                                                   "body": BODY})
    assert refused.status_code == 400 and not Conversation.objects.exists()
    sent = client.post("/messagerie/nouveau/", {"professional": str(doctor.uuid), "subject": SUBJECT, "body": BODY})
    conversation = Conversation.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/messagerie/{conversation.uuid}/"
    assert SUBJECT not in sent["Location"]


def test_without_anyone_on_the_list_the_page_explains(client, holder):  # noqa: F811
    sign_in(client, holder.account)
    response = client.get("/messagerie/nouveau/")
    assert response.status_code == 200 and "paramètres de confidentialité" in page(response)


def test_a_caregiver_writes_for_the_person_they_help(client, holder, caregiver, delegation, doctor,  # noqa: F811
                                                     treating):  # noqa: F811
    sign_in(client, caregiver.account)
    acting_for(client, holder)
    response = client.get("/messagerie/")
    assert response.status_code == 200 and "en tant qu'aidant" in page(response)
    sent = client.post("/messagerie/nouveau/", {"professional": str(doctor.uuid), "subject": SUBJECT, "body": BODY})
    assert sent.status_code == 302
    conversation = Conversation.objects.get(person=holder)
    shown = page(client.get(sent["Location"]))
    assert f"Rédigé par {caregiver.full_name}, aidant(e) de {holder.full_name}" in shown
    assert AccessEvent.objects.filter(person=holder, actor=caregiver, action="message.send",
                                      subject=f"conversation:{conversation.uuid}").exists()

    sign_in(client, holder.account)
    history = page(client.get("/historique/"))
    assert f"Message écrit à {doctor.full_name}" in history and caregiver.full_name in history


def test_a_conversation_of_another_space_is_a_404(client, family, holder, doctor):  # noqa: F811
    other = family.holder().person
    conversation = from_doctor(doctor, other)
    sign_in(client, holder.account)
    assert client.get(f"/messagerie/{conversation.uuid}/").status_code == 404
    assert client.post(f"/messagerie/{conversation.uuid}/repondre/", {"body": "x"}).status_code == 404


def test_a_closed_conversation_has_no_reply_form(client, holder, doctor):  # noqa: F811
    conversation = from_doctor(doctor, holder)
    actions.close_conversation(doctor, conversation)
    sign_in(client, holder.account)
    url = f"/messagerie/{conversation.uuid}/"
    shown = page(client.get(url))
    assert "a clos cet échange" in shown and "repondre/" not in shown
    response = client.post(f"{url}repondre/", {"body": "Encore une question"}, follow=True)
    assert "a clos cet échange" in page(response)
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_a_document_is_joined_from_the_form_or_refused_with_a_message(client, holder, doctor, treating,  # noqa: F811
                                                                     stranger_pro):  # noqa: F811
    from carnet.sharing import actions as sharing_actions
    from tests.pro.helpers import add_doc

    document = add_doc(holder, title="Bilan sanguin de mars")
    masked = add_doc(holder, title="Compte rendu confidentiel", masked=True)
    sharing_actions.authorise_professional(holder, holder, stranger_pro, until=None)
    sign_in(client, holder.account)
    assert "Bilan sanguin de mars" in page(client.get("/messagerie/nouveau/"))
    refused = client.post("/messagerie/nouveau/", {"professional": str(stranger_pro.uuid), "subject": SUBJECT,
                                                   "body": BODY, "document": str(masked.uuid)})
    assert refused.status_code == 400 and "ne peut pas être joint" in page(refused)
    assert not Conversation.objects.exists()
    sent = client.post("/messagerie/nouveau/", {"professional": str(doctor.uuid), "subject": SUBJECT, "body": BODY,
                                                "document": str(document.uuid)}, follow=True)
    assert "Document joint" in page(sent) and f'href="/documents/{document.uuid}/"' in page(sent)
