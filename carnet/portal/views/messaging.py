"""Messagerie: the conversations of the profile shown with healthcare professionals, one conversation, a reply,
a new message to a professional of the holder's list.

Thin views over `carnet.messaging.actions` (which asks the policy and records the access events): a
representative or a caregiver shown the helped person's profile reads and writes for that space, and a caregiver's
message carries the footer naming them.
"""

from typing import cast

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from dsfr.forms import DsfrBaseForm

from carnet.identity.models import Person
from carnet.messaging import actions
from carnet.messaging.actions import MAX_BODY, MAX_SUBJECT, MessagingError
from carnet.sharing.events import require
from carnet.sharing.policy import Action, PolicyDenied, Role

from ..profiles import current_profile, current_role
from .family import deny, me_or_404

MAX_LISTED_DOCUMENTS = 100


class AttachmentMixin:
    """An optional document of the space to join; whether the professional may read it is the action's question."""

    def set_documents(self, documents) -> None:
        form = cast(forms.BaseForm, self)  # always mixed into a form
        form.fields["document"].choices = [("", _("Aucun document"))] + [  # type: ignore[attr-defined]  # a ChoiceField
            (str(d.uuid), f"{d.title or _('Document sans titre')} — {d.created_at:%d/%m/%Y}")
            for d in documents[:MAX_LISTED_DOCUMENTS]]


class ReplyForm(AttachmentMixin, DsfrBaseForm):
    body = forms.CharField(label=gettext_lazy("Votre réponse"), max_length=MAX_BODY, strip=True,
                           widget=forms.Textarea(attrs={"rows": 5}))
    document = forms.ChoiceField(label=gettext_lazy("Joindre un document (facultatif)"), required=False)

    def __init__(self, *args, documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.set_documents(documents)


class NewMessageForm(AttachmentMixin, DsfrBaseForm):
    professional = forms.ChoiceField(label=gettext_lazy("Destinataire"))
    subject = forms.CharField(label=gettext_lazy("Objet"), max_length=MAX_SUBJECT, strip=True)
    body = forms.CharField(label=gettext_lazy("Message"), max_length=MAX_BODY, strip=True,
                           widget=forms.Textarea(attrs={"rows": 8}))
    document = forms.ChoiceField(label=gettext_lazy("Joindre un document (facultatif)"), required=False,
                                 help_text=gettext_lazy("Seulement un document que ce professionnel a le droit de "
                                                        "consulter."))

    def __init__(self, *args, professionals=(), documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.professionals = {str(p.uuid): p for p in professionals}
        self.fields["professional"].choices = [("", _("Choisissez un professionnel"))] + [
            (str(p.uuid), f"{p.full_name} — {p.profession_label}") for p in professionals]
        self.set_documents(documents)


def _context(request) -> dict:
    role = current_role(request)
    return {"profile": current_profile(request), "acting_role": role, "is_me": role == Role.HOLDER}


@require_safe
def inbox(request):
    me = me_or_404(request)
    profile = cast(Person, current_profile(request))  # me_or_404 passed: at least their own space
    try:
        conversations = actions.conversations_of(me, profile)
    except PolicyDenied as exc:
        return deny(request, exc)
    return render(request, "portal/messaging/inbox.html", {
        "title": _("Messagerie"), "conversations": conversations, **_context(request)})


@require_http_methods(["GET", "POST"])
def new(request):
    me = me_or_404(request)
    profile = cast(Person, current_profile(request))  # me_or_404 passed: at least their own space
    try:
        decision = require(me, Action.SEND_MESSAGE, profile)  # a caregiver or representative may; a denial is recorded
    except PolicyDenied as exc:
        return deny(request, exc)
    professionals = actions.recipients(me, profile)
    form = NewMessageForm(request.POST or None, professionals=professionals,
                          documents=actions.attachable_documents(profile, decision.role),
                          initial={"professional": request.GET.get("a", "")})
    if request.method == "POST" and form.is_valid():
        try:
            conversation = actions.start_conversation(
                me, profile, form.professionals[form.cleaned_data["professional"]],
                subject=form.cleaned_data["subject"], body=form.cleaned_data["body"],
                document=form.cleaned_data["document"] or None)
        except PolicyDenied as exc:
            form.add_error("professional", exc.message)
        except MessagingError as exc:
            form.add_error(exc.field or None, exc.message)
        else:
            messages.success(request, _("Votre message est envoyé. Le professionnel est prévenu par courriel, "
                                        "sans son contenu."))
            return redirect("portal:conversation", conversation=conversation.uuid)
    return render(request, "portal/messaging/new.html", {
        "title": _("Nouveau message"), "form": form, "professionals": professionals, **_context(request)},
        status=400 if form.errors else 200)


def _conversation_or_404(request, conversation_uuid):
    """(me, conversation) of the profile shown; an id of another space is a 404 (nothing to learn)."""
    me = me_or_404(request)
    profile = current_profile(request)
    conversation = actions.find(conversation_uuid, person=profile)
    if conversation is None:
        raise Http404
    return me, conversation


def _reply_form(request, data=None) -> ReplyForm:
    profile = cast(Person, current_profile(request))  # callers passed me_or_404: at least their own space
    return ReplyForm(data, documents=actions.attachable_documents(profile, current_role(request)))


def _conversation_page(request, me, conversation, form: ReplyForm | None = None, *, status: int = 200):
    try:
        shown = actions.open_conversation(me, conversation)
    except PolicyDenied as exc:
        return deny(request, exc)
    return render(request, "portal/messaging/conversation.html", {
        "title": conversation.subject_text, "conversation": conversation, "shown": shown,
        "form": None if conversation.closed else (form or _reply_form(request)), **_context(request)},
        status=status)


@require_safe
def conversation(request, conversation):
    me, found = _conversation_or_404(request, conversation)
    return _conversation_page(request, me, found)


@require_POST
def reply(request, conversation):
    me, found = _conversation_or_404(request, conversation)
    form = _reply_form(request, request.POST)
    if form.is_valid():
        try:
            actions.send_message(me, found, body=form.cleaned_data["body"],
                                 document=form.cleaned_data["document"] or None)
        except PolicyDenied as exc:
            if exc.decision.reason == "conversation_closed":
                messages.error(request, exc.message)
                return redirect("portal:conversation", conversation=found.uuid)
            return deny(request, exc)
        except MessagingError as exc:
            form.add_error(exc.field or "body", exc.message)
        else:
            messages.success(request, _("Votre réponse est envoyée."))
            return redirect("portal:conversation", conversation=found.uuid)
    return _conversation_page(request, me, found, form, status=400)
