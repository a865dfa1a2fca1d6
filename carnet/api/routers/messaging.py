"""Messaging for apps: the space's conversations, one conversation, a new conversation, a reply, and the
professionals one may write to. Same rules as the portal (`carnet.messaging.actions` asks the policy): a
representative or a caregiver passes the helped person's `profile_id`; a caregiver's messages carry their footer.
Subjects and texts travel in JSON bodies only."""

import datetime as dt
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema, Status

from carnet.messaging import actions
from carnet.sharing.events import require
from carnet.sharing.models import Professional
from carnet.sharing.policy import Action

from ..access import me, not_found, person_or_404
from ..schemas import Error

router = Router()
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error}


class ProfessionalOut(Schema):
    id: UUID
    name: str
    profession: str


class ConversationOut(Schema):
    id: UUID
    subject: str
    professional: ProfessionalOut
    started_by_professional: bool
    opened_at: dt.datetime
    last_message_at: dt.datetime
    closed_at: dt.datetime | None
    unread: int


class MessageOut(Schema):
    id: UUID
    from_professional: bool
    author: str
    sent_at: dt.datetime
    read_at: dt.datetime | None
    body: str
    footer: str
    document_id: UUID | None  # the joined document, when the caller may open it (GET /api/documents/{id})


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]


class NewConversationIn(Schema):
    professional_id: UUID
    subject: str
    body: str
    document_id: UUID | None = None  # one of the space's documents the professional may read
    profile_id: UUID | None = None  # a represented or helped person's space; empty: one's own


class MessageIn(Schema):
    body: str
    document_id: UUID | None = None


def professional_out(professional: Professional) -> dict:
    return {"id": professional.uuid, "name": professional.full_name, "profession": professional.profession_label}


def conversation_out(conversation, unread: int | None = None) -> dict:
    return {"id": conversation.uuid, "subject": conversation.subject_text,
            "professional": professional_out(conversation.professional),
            "started_by_professional": conversation.started_by_professional, "opened_at": conversation.opened_at,
            "last_message_at": conversation.last_message_at, "closed_at": conversation.closed_at,
            "unread": conversation.unread if unread is None else unread}


def message_out(message) -> dict:
    return {"id": message.uuid, "from_professional": message.from_professional, "author": message.author_label,
            "sent_at": message.sent_at, "read_at": message.read_at, "body": message.text, "footer": message.footer,
            "document_id": message.attachment.uuid if message.attachment else None}


def _space(request: HttpRequest, profile_id: UUID | None):
    """The space asked for (one's own by default); the messaging action asks the policy about it and records."""
    mine = me(request)
    return mine if profile_id is None or profile_id == mine.uuid else person_or_404(profile_id)


def _conversation(request: HttpRequest, conversation_id: UUID):
    conversation = actions.find(conversation_id)
    if conversation is None:
        raise not_found()
    return conversation


def _detail(request: HttpRequest, conversation) -> dict:
    shown = actions.open_conversation(me(request), conversation)  # asks the policy, records a non-holder's read
    return {**conversation_out(conversation, unread=0), "messages": [message_out(m) for m in shown]}


@router.get("/conversations", response={200: list[ConversationOut], **ERRORS}, summary="Conversations de l'espace")
def list_conversations(request: HttpRequest, profile_id: UUID | None = None):
    return [conversation_out(c) for c in actions.conversations_of(me(request), _space(request, profile_id))]


@router.get("/conversations/recipients", response={200: list[ProfessionalOut], **ERRORS},
            summary="Professionnels à qui écrire")
def list_recipients(request: HttpRequest, profile_id: UUID | None = None):
    target = _space(request, profile_id)
    require(me(request), Action.SEND_MESSAGE, target)  # only a denial is recorded: listing writes nothing
    return [professional_out(p) for p in actions.recipients(me(request), target)]


@router.post("/conversations", response={201: ConversationDetailOut, **ERRORS},
             summary="Écrire à un professionnel (nouvelle conversation)")
def start_conversation(request: HttpRequest, payload: NewConversationIn):
    target = _space(request, payload.profile_id)
    professional = Professional.objects.filter(uuid=payload.professional_id).first()
    if professional is None:
        raise not_found()
    conversation = actions.start_conversation(me(request), target, professional,
                                              subject=payload.subject, body=payload.body,
                                              document=payload.document_id)
    return Status(201, _detail(request, conversation))


@router.get("/conversations/{conversation_id}", response={200: ConversationDetailOut, **ERRORS},
            summary="Une conversation et ses messages")
def read_conversation(request: HttpRequest, conversation_id: UUID):
    return _detail(request, _conversation(request, conversation_id))


@router.post("/conversations/{conversation_id}/messages", response={201: MessageOut, **ERRORS},
             summary="Répondre dans une conversation")
def reply(request: HttpRequest, conversation_id: UUID, payload: MessageIn):
    conversation = _conversation(request, conversation_id)
    message = actions.send_message(me(request), conversation, body=payload.body, document=payload.document_id)
    message.text = actions.body_of(message, conversation.person)
    message.attachment = message.document
    message.footer = actions.footer_of(message, conversation.person)
    return Status(201, message_out(message))
