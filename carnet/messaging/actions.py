"""Messaging use cases, shared by the holder's portal, the pro portal and the patient API (decision 0013).

Every function asks the policy (`Action.SEND_MESSAGE`, `READ_MESSAGES`, `CLOSE_CONVERSATION`, decided by
`carnet.sharing.policy._decide_conversation`); a denial is recorded at once, an allowed act by anyone but the
holder is recorded with what it did, in the same transaction as the write. Subjects and bodies are sealed with the
person's key. Notices say that a message arrived, never what it says or who it is about.
"""

import uuid
from collections.abc import Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carnet.identity.errors import ActionRefused
from carnet.identity.models import Person
from carnet.notifications import actions as notifications
from carnet.notifications.enums import Kind
from carnet.record.models import Document
from carnet.record.visibility import visible_documents
from carnet.sharing.events import authorise, record, require
from carnet.sharing.models import Authorisation, CareRole, Professional
from carnet.sharing.policy import Action, Decision, PolicyDenied, Role, decide
from carnet.vault import services as vault

from .models import Conversation, Message

MAX_SUBJECT = 150
MAX_BODY = 5000


class MessagingError(ActionRefused):
    """A message refused for its content (empty, too long), with a message the writer can act on."""


# --- sealed content ---------------------------------------------------------------------------------------------


def _subject_purpose(conversation: Conversation) -> str:
    return f"messaging.subject:{conversation.uuid}"


def _body_purpose(message: Message) -> str:
    return f"messaging.body:{message.uuid}"


def subject_of(conversation: Conversation) -> str:
    """The subject in clear, for a caller that asked the policy."""
    return vault.unseal(conversation.person, conversation.subject, purpose=_subject_purpose(conversation)).decode()


def body_of(message: Message, person: Person) -> str:
    return vault.unseal(person, message.body, purpose=_body_purpose(message)).decode()


def footer_of(message: Message, person: Person) -> str:
    """A caregiver's message says who wrote it, for whom (the inventory's « rédigé par X, l'aidant de Y »)."""
    if message.from_professional or message.author_role != Role.CAREGIVER:
        return ""
    return _("Rédigé par %(caregiver)s, aidant(e) de %(holder)s") % {
        "caregiver": message.author_label, "holder": person.full_name}


def _clean(value: str, *, field: str, limit: int, label: str) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if not text:
        raise MessagingError(_("Indiquez %(what)s.") % {"what": label}, field=field)
    if len(text) > limit:
        raise MessagingError(_("%(what)s ne peut pas dépasser %(limit)s caractères.") % {
            "what": label[0].upper() + label[1:], "limit": limit}, field=field)
    return text


# --- who may be written to --------------------------------------------------------------------------------------


def _draft(person: Person, professional: Professional) -> Conversation:
    """An unsaved conversation the person's side would start: what the policy is asked about."""
    return Conversation(person=person, professional=professional, started_by_professional=False)


def recipients(actor: Person, person: Person) -> list[Professional]:
    """The professionals `actor` may start a conversation with for `person`: those the holder authorised on their
    own name or gave a role, as the policy allows (active, not blocked). Care teams and establishments authorised
    as a whole are not listed one member at a time (the policy would allow them)."""
    now = timezone.now()
    authorised = Authorisation.objects.filter(
        person=person, revoked_at__isnull=True, professional__isnull=False).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)).values("professional_id")
    roles = CareRole.objects.filter(person=person, ended_at__isnull=True).values("professional_id")
    candidates = Professional.objects.filter(Q(pk__in=authorised) | Q(pk__in=roles), active=True).order_by(
        "family_name", "given_names")
    return [p for p in candidates if decide(actor, Action.SEND_MESSAGE, _draft(person, p)).allowed]


def attachable_documents(person: Person, role: Role):
    """The person's documents this side may join to a message: those it sees itself, newest first."""
    return visible_documents(person, role).order_by("-created_at", "-pk")


def _attachment(conversation: Conversation, decision: Decision, document_uuid) -> Document | None:
    """The document to join, if any: one this side sees, and that the professional may read (READ_DOCUMENT, asked
    without recording: nothing is read yet). Otherwise refused with a message, before anything is written."""
    if not document_uuid:
        return None
    try:
        wanted = uuid.UUID(str(document_uuid))
    except ValueError:
        wanted = None
    document = attachable_documents(conversation.person, decision.role).filter(uuid=wanted).select_related(
        "person").first() if wanted else None
    if document is None:
        raise MessagingError(_("Ce document n'est pas dans l'espace santé."), field="document", code="not_found")
    if not decide(conversation.professional, Action.READ_DOCUMENT, document).allowed:
        raise MessagingError(_("%(name)s n'a pas le droit de consulter ce document (type de document, masquage ou "
                               "autorisation) : il ne peut pas être joint.")
                             % {"name": conversation.professional.full_name}, field="document")
    return document


# --- writing ----------------------------------------------------------------------------------------------------


def _is_professional(actor) -> bool:
    return isinstance(actor, Professional)


def _new_message(actor, conversation: Conversation, decision: Decision, text: str,
                 document: Document | None = None) -> Message:
    person = conversation.person
    professional = _is_professional(actor)
    message = Message(person=person, conversation=conversation, from_professional=professional,
                      author=None if professional else actor, author_label=actor.full_name,
                      author_role="" if professional else str(decision.role), document=document)
    message.body = vault.seal(person, text.encode(), purpose=_body_purpose(message))
    message.save()
    return message


def _trace(actor, conversation: Conversation, decision: Decision, action: Action) -> None:
    """Everything but the holder's own acts is in the holder's history (the holder's are theirs)."""
    if decision.role != Role.HOLDER:
        record(conversation.person, actor=actor, role=decision.role, action=str(action), reason=decision.reason,
               subject=f"conversation:{conversation.uuid}")


def _tell_the_other_side(actor, conversation: Conversation, message: Message) -> None:
    """The person's side hears of a professional's message in the app and by their preferences (representatives
    and caregivers too, `notify`); the professional gets an email at their directory address. Neither says what
    the message is about; a burst of messages is one notice (the person's) or one email (the professional's)."""
    if _is_professional(actor):
        notifications.notify_coalesced(
            conversation.person, kind=Kind.MESSAGES, code="new_message",
            title=_("Vous avez reçu un nouveau message d'un professionnel de santé"),
            more_title=_("Vous avez reçu de nouveaux messages de professionnels de santé"),
            url=reverse("portal:messages"))
        return
    professional = conversation.professional
    if not professional.email:
        return
    since = timezone.now() - notifications.coalesce_window()
    waiting = Message.objects.filter(conversation__professional=professional, from_professional=False,
                                     read_at__isnull=True, sent_at__gte=since).exclude(pk=message.pk)
    if waiting.exists():
        return  # an email about an unread message went out a moment ago
    link = settings.CARNET_PUBLIC_URL.rstrip("/") + reverse("pro:messages")
    notifications.send_email(
        professional.email, _("Carnet : vous avez un nouveau message"),
        _("Bonjour,\n\nVous avez un nouveau message sur Carnet.\n\nConnectez-vous au portail des professionnels de "
          "santé pour le lire : %(link)s\n\nCeci est un message automatique, merci de ne pas y répondre.\n")
        % {"link": link})


def start_conversation(actor, person: Person, professional: Professional, *, subject: str, body: str,
                       document=None) -> Conversation:
    """A new conversation with its first message. `actor` is the professional (with the person found), or a
    person acting for `person`'s space (holder, representative, caregiver) writing to `professional`, who may join
    one of the space's documents (its uuid) that the professional may read."""
    subject = _clean(subject, field="subject", limit=MAX_SUBJECT, label=_("l'objet du message"))
    body = _clean(body, field="body", limit=MAX_BODY, label=_("le texte du message"))
    by_professional = _is_professional(actor)
    conversation = Conversation(person=person, professional=professional, started_by_professional=by_professional,
                                started_by=None if by_professional else actor)
    decision = require(actor, Action.SEND_MESSAGE, conversation)  # a denial is recorded at once
    attached = None if by_professional else _attachment(conversation, decision, document)
    with transaction.atomic():
        conversation.subject = vault.seal(person, subject.encode(), purpose=_subject_purpose(conversation))
        conversation.save()
        message = _new_message(actor, conversation, decision, body, attached)
        _trace(actor, conversation, decision, Action.SEND_MESSAGE)
        _tell_the_other_side(actor, conversation, message)
    return conversation


def send_message(actor, conversation: Conversation, *, body: str, document=None) -> Message:
    """A reply in an existing conversation (the professional's, or the person's side, which may join a document)."""
    body = _clean(body, field="body", limit=MAX_BODY, label=_("le texte du message"))
    decision = require(actor, Action.SEND_MESSAGE, conversation)
    attached = None if _is_professional(actor) else _attachment(conversation, decision, document)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.closed_at is not None:  # closed between the check and now: refused like a closed one
            raise PolicyDenied(Decision(False, "conversation_closed", decision.role))
        message = _new_message(actor, conversation, decision, body, attached)
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.sent_at)
        _trace(actor, conversation, decision, Action.SEND_MESSAGE)
        _tell_the_other_side(actor, conversation, message)
    return message


def close_conversation(professional: Professional, conversation: Conversation) -> Conversation:
    """« Clore l'échange »: the professional ends it; nobody writes in it any more, both sides still read it."""
    decision = require(professional, Action.CLOSE_CONVERSATION, conversation)
    with transaction.atomic():
        now = timezone.now()
        if Conversation.objects.filter(pk=conversation.pk, closed_at__isnull=True).update(closed_at=now):
            conversation.closed_at = now
            _trace(professional, conversation, decision, Action.CLOSE_CONVERSATION)
    return conversation


# --- reading ----------------------------------------------------------------------------------------------------


def find(conversation_uuid, *, person: Person | None = None) -> Conversation | None:
    """A conversation by its public id (within `person`'s space when given); callers ask the policy next."""
    rows = Conversation.objects.select_related("person", "professional").filter(uuid=conversation_uuid)
    if person is not None:
        rows = rows.filter(person=person)
    return rows.first()


def _with_subjects(conversations: list[Conversation], *, unread_from_professional: bool) -> list[Conversation]:
    for conversation in conversations:
        conversation.subject_text = subject_of(conversation)
        conversation.unread = conversation.messages.filter(
            from_professional=unread_from_professional, read_at__isnull=True).count()
    return conversations


def conversations_of(actor: Person, person: Person) -> list[Conversation]:
    """The space's conversations, newest first, each with `subject_text` and `unread` (messages from
    professionals not read yet). Asks READ_MESSAGES on the space: a representative's or caregiver's look is
    recorded, a denial too."""
    authorise(actor, Action.READ_MESSAGES, person)
    rows = list(Conversation.objects.filter(person=person).select_related("person", "professional")
                .order_by("-last_message_at", "-pk"))
    return _with_subjects(rows, unread_from_professional=True)


def inbox_of(professional: Professional, *, limit: int = 200) -> list[Conversation]:
    """The professional's conversations the policy still lets them read (not blocked, space open), newest first.
    A list of their own exchanges reads nothing of the space: opening one is the recorded access."""
    rows = Conversation.objects.filter(professional=professional).select_related("person", "professional").order_by(
        "-last_message_at", "-pk")[:limit]
    readable = [c for c in rows if decide(professional, Action.READ_MESSAGES, c).allowed]
    return _with_subjects(readable, unread_from_professional=False)


def unread_count_for_professional(professional: Professional) -> int:
    return Message.objects.filter(conversation__professional=professional, from_professional=False,
                                  read_at__isnull=True).count()


def open_conversation(actor, conversation: Conversation) -> list[Message]:
    """The messages of a conversation, oldest first, each with `text`, `footer`, `mine` (sent by the reader's
    side) and `attachment` (the joined document, when this reader may open it now: the holder may have masked it
    since); the other side's messages become read. The read is recorded unless the holder reads their own."""
    decision = authorise(actor, Action.READ_MESSAGES, conversation)
    person = conversation.person
    from_professional = _is_professional(actor)
    messages = list(conversation.messages.filter(person=person).select_related("document", "document__person")
                    .order_by("sent_at", "pk"))
    joined = [m.document for m in messages if m.document is not None]
    if from_professional:
        readable = {d.pk for d in joined if decide(actor, Action.READ_DOCUMENT, d).allowed}
    else:
        readable = set(attachable_documents(person, decision.role).filter(pk__in=[d.pk for d in joined])
                       .values_list("pk", flat=True)) if joined else set()
    for message in messages:
        message.text = body_of(message, person)
        message.footer = footer_of(message, person)
        message.mine = message.from_professional == from_professional
        message.attachment = message.document if message.document_id in readable else None
    Message.objects.filter(person=person, conversation=conversation, from_professional=not from_professional,
                           read_at__isnull=True).update(read_at=timezone.now())
    conversation.subject_text = subject_of(conversation)
    return messages


def professional_names(subjects) -> dict[str, str]:
    """For the history: "conversation:<uuid>" subjects → the professional's name (no health content)."""
    ids = {s.partition(":")[2] for s in subjects if s.startswith("conversation:")}
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(value))
        except ValueError:
            continue
    rows = Conversation.objects.filter(uuid__in=valid).select_related("professional")
    return {f"conversation:{c.uuid}": c.professional.full_name for c in rows}


def for_export(space: Person) -> Iterator[tuple[Conversation, list[Message]]]:
    """Every conversation of the space, oldest first, with `subject_text` and its messages with `text` and
    `footer`: the holder's export ("messagerie" is one of its fragments). The caller asked the policy
    (`EXPORT_SPACE`) for the whole space; nothing is marked read."""
    rows = Conversation.objects.filter(person=space).select_related("person", "professional").order_by(
        "opened_at", "pk")
    for conversation in rows.iterator(chunk_size=100):
        conversation.subject_text = subject_of(conversation)
        messages = list(conversation.messages.filter(person=space).select_related("document").order_by("sent_at", "pk"))
        for message in messages:
            message.text = body_of(message, space)
            message.footer = footer_of(message, space)
        yield conversation, messages
