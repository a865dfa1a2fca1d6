"""The pro portal's messaging: the professional's inbox, a conversation, a reply, « Clore l'échange », and
« Écrire au patient » from the patient's page.

Thin views over `carnet.messaging.actions`, which asks the policy (a professional reads and writes only in their
own conversations, not when blocked, on a space open for filing) and records each read and write in the holder's
history. Conversations are addressed by their random uuid; the subject and the text travel in POST bodies only.
"""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from dsfr.forms import DsfrBaseForm

from carnet.messaging import actions
from carnet.messaging.actions import MAX_BODY, MAX_SUBJECT, MessagingError
from carnet.messaging.models import Conversation
from carnet.sharing.events import require
from carnet.sharing.policy import Action, PolicyDenied

from . import services
from .views import _denied, _emergency_context, _patient_or_404, pro_view


class ProReplyForm(DsfrBaseForm):
    body = forms.CharField(label=gettext_lazy("Votre réponse"), max_length=MAX_BODY, strip=True,
                           widget=forms.Textarea(attrs={"rows": 5}))


class ProNewMessageForm(DsfrBaseForm):
    subject = forms.CharField(label=gettext_lazy("Objet"), max_length=MAX_SUBJECT, strip=True)
    body = forms.CharField(label=gettext_lazy("Message"), max_length=MAX_BODY, strip=True,
                           widget=forms.Textarea(attrs={"rows": 8}))


@pro_view
@require_safe
def inbox(request):
    return render(request, "pro/messaging/inbox.html", {
        "title": _("Messagerie"), "conversations": actions.inbox_of(request.professional)})


@pro_view
@require_http_methods(["GET", "POST"])
def write(request, handle):
    """« Écrire au patient »: a new conversation with the patient found (writing needs no authorisation to read)."""
    person = _patient_or_404(request, handle)
    draft = Conversation(person=person, professional=request.professional, started_by_professional=True)
    try:
        require(request.professional, Action.SEND_MESSAGE, draft)  # a denial is recorded at once
    except PolicyDenied as exc:
        return _denied(request, exc, person=person, handle=handle)
    form = ProNewMessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            conversation = actions.start_conversation(request.professional, person, request.professional,
                                                      subject=form.cleaned_data["subject"],
                                                      body=form.cleaned_data["body"])
        except PolicyDenied as exc:
            return _denied(request, exc, person=person, handle=handle)
        except MessagingError as exc:
            form.add_error(exc.field or None, exc.message)
        else:
            messages.success(request, _("Votre message est envoyé. Le patient en est informé, sans son contenu."))
            return redirect("pro:conversation", conversation=conversation.uuid)
    return render(request, "pro/messaging/write.html", {
        "title": _("Écrire au patient"), "form": form, "person": person, "handle": handle,
        **_emergency_context(request, person)}, status=400 if form.errors else 200)


def _own_or_404(request, conversation_uuid) -> Conversation:
    conversation = actions.find(conversation_uuid)
    if conversation is None or conversation.professional_id != request.professional.pk:
        raise Http404  # another professional's conversation: nothing to learn, nothing recorded
    return conversation


def _page(request, conversation: Conversation, form: ProReplyForm | None = None, *, status: int = 200):
    try:
        shown = actions.open_conversation(request.professional, conversation)
    except PolicyDenied as exc:
        return _denied(request, exc)
    person = conversation.person
    return render(request, "pro/messaging/conversation.html", {
        "title": conversation.subject_text, "conversation": conversation, "shown": shown, "person": person,
        "handle": services.remember_patient(request.session, person),
        "form": None if conversation.closed else (form or ProReplyForm()),
        **_emergency_context(request, person)}, status=status)


@pro_view
@require_safe
def conversation(request, conversation):
    return _page(request, _own_or_404(request, conversation))


@pro_view
@require_POST
def reply(request, conversation):
    found = _own_or_404(request, conversation)
    form = ProReplyForm(request.POST)
    if form.is_valid():
        try:
            actions.send_message(request.professional, found, body=form.cleaned_data["body"])
        except PolicyDenied as exc:
            return _denied(request, exc)
        except MessagingError as exc:
            form.add_error("body", exc.message)
        else:
            messages.success(request, _("Votre réponse est envoyée. Le patient en est informé, sans son contenu."))
            return redirect("pro:conversation", conversation=found.uuid)
    return _page(request, found, form, status=400)


@pro_view
@require_POST
def close(request, conversation):
    """« Clore l'échange »: no more messages in it, from either side; both still read it."""
    found = _own_or_404(request, conversation)
    try:
        actions.close_conversation(request.professional, found)
    except PolicyDenied as exc:
        if exc.decision.reason != "conversation_closed":
            return _denied(request, exc)
        messages.info(request, exc.message)
    else:
        messages.success(request, _("L'échange est clos : le patient ne peut plus y répondre."))
    return redirect("pro:conversation", conversation=found.uuid)
