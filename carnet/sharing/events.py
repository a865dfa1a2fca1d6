"""Recording and checking access events."""

from django.db import transaction

from carnet.identity.models import Person

from . import channels
from .models import AccessEvent


def record(
    person, *, actor, role: str, action: str, allowed: bool = True, reason: str = "", subject: str = ""
) -> AccessEvent:
    """Append an event to `person`'s chain; the person row lock orders that person's events. `actor` is a
    Person (holder, representative) or a Professional of the directory."""
    from .models import Professional

    professional = actor if isinstance(actor, Professional) else None
    if professional is not None:
        actor = None
    with transaction.atomic(savepoint=False):  # inside a caller's transaction: part of it, no savepoint
        Person.objects.select_for_update().filter(pk=person.pk).values_list("pk", flat=True).first()
        last = AccessEvent.objects.filter(person=person).order_by("-sequence").only("sequence", "hash").first()
        event = AccessEvent(
            person=person, actor=actor, professional=professional,
            actor_label=(professional or actor).full_name if (professional or actor) else "", actor_role=role,
            action=action, allowed=allowed, reason=reason, subject=subject, channel=channels.current(),
            sequence=(last.sequence + 1) if last else 1, previous_hash=last.hash if last else "",
        )
        event.hash = event.compute_hash()
        event.save()
        return event


def verify_chain(person) -> bool:
    """True when the person's events are complete and unaltered."""
    previous, expected_sequence = "", 1
    for event in AccessEvent.objects.filter(person=person).order_by("sequence").iterator():
        if event.sequence != expected_sequence or event.previous_hash != previous:
            return False
        if event.compute_hash() != event.hash:
            return False
        previous, expected_sequence = event.hash, expected_sequence + 1
    return True


def require(actor, action, target, *, subject: str = ""):
    """Ask the policy before a write: a denial is recorded (and raised) at once, outside the caller's write
    transaction; an allowed act is traced by the caller, with what it did, inside that transaction."""
    from .policy import PolicyDenied, decide

    decision = decide(actor, action, target)
    if not decision.allowed:
        authorise(actor, action, target, subject=subject)  # records the denial
        raise PolicyDenied(decision)  # not reached: authorise raised already
    return decision


def authorise(actor, action, target, *, subject: str = ""):
    """Ask the policy and record the decision where the rules say: every non-holder act, every denial."""
    from carnet.record.models import Document

    from .policy import PolicyDenied, Role, decide

    decision = decide(actor, action, target)
    person = target.person if isinstance(target, Document) else target
    if isinstance(target, Document) and not subject:
        subject = f"document:{target.uuid}"
    if person is not None and person.pk and (not decision.allowed or decision.role != Role.HOLDER):
        event = record(person, actor=actor, role=decision.role, action=str(action), allowed=decision.allowed,
                       reason=decision.reason, subject=subject)
        if decision.allowed and decision.role == Role.PROFESSIONAL:
            _tell_holder_of_a_first_access(person, event)
    if not decision.allowed:
        raise PolicyDenied(decision)
    return decision


def _tell_holder_of_a_first_access(person, event: AccessEvent) -> None:
    """A professional's first access to a space is notified to the holder (and their representatives): that
    it happened, never who or what (the history says it, behind sign-in)."""
    if event.professional_id is None:
        return
    earlier = AccessEvent.objects.filter(person=person, professional_id=event.professional_id, allowed=True
                                         ).exclude(pk=event.pk).exists()
    if earlier:
        return
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from carnet.notifications import actions as notifications
    from carnet.notifications.enums import Kind

    notifications.notify(person, kind=Kind.ACCOUNT, code="first_professional_access",
                         title=_("Un professionnel de santé a consulté votre espace pour la première fois. "
                                 "Le détail est dans l'historique des accès."), url=reverse("portal:history"))
