"""Recording and checking access events."""

from django.db import connection, transaction

from carnet.common.rows import insert

from . import channels
from .models import AccessEvent

# The reads of an event write, as plain SQL: built with the ORM, each took longer than PostgreSQL took to run it
# (about 0.4 ms of Python each), and every professional's read and every upload writes an event.
_LOCK_PERSON = 'SELECT 1 FROM "identity_person" WHERE "id" = %s'
_LAST_EVENT = ('SELECT "sequence", "hash" FROM "sharing_accessevent" WHERE "person_id" = %s '
               'ORDER BY "sequence" DESC LIMIT 1')
# The chain head and whether the professional (NULL: nobody) already had an allowed access, read together once
# the person row is locked: one row, (NULL, NULL, false) before the first event.
_HEAD = ('SELECT "head"."sequence", "head"."hash", EXISTS (SELECT 1 FROM "sharing_accessevent" '  # noqa: S608
         'WHERE "person_id" = %s AND "professional_id" = %s AND "allowed") '
         'FROM (SELECT 1 AS "one") AS "anchor" LEFT JOIN (' + _LAST_EVENT + ') AS "head" ON 1 = 1')
# PostgreSQL: the lock and the same read in one call (sharing migration 0008).
_HEAD_FUNCTION = 'SELECT "sequence", "hash", "earlier" FROM carnet_event_head(%s, %s)'


def record(
    person, *, actor, role: str, action: str, allowed: bool = True, reason: str = "", subject: str = ""
) -> AccessEvent:
    """Append an event to `person`'s chain; the person row lock orders that person's events. `actor` is a
    Person (holder, representative) or a Professional of the directory."""
    return _record(person, actor=actor, role=role, action=action, allowed=allowed, reason=reason,
                   subject=subject)[0]


def _record(person, *, actor, role: str, action: str, allowed: bool, reason: str, subject: str
            ) -> tuple[AccessEvent, bool]:
    """`record`, and whether the professional had an allowed access to this space before this event (read under
    the same lock as the chain head, so two concurrent first accesses are told apart: one is the first)."""
    with transaction.atomic(savepoint=False):  # inside a caller's transaction: part of it, no savepoint
        event, earlier = _next(person, actor=actor, role=role, action=action, allowed=allowed, reason=reason,
                               subject=subject)
        insert(event)  # one plain INSERT (carnet/common/rows.py); edits still go through save(), refused
        return event, earlier


def chained(person, *, actor, role: str, action: str, subject: str = "") -> AccessEvent:
    """The next (allowed) event of `person`'s chain, unsaved, for a caller that inserts it in a statement of its
    own, in its transaction (an ITI-65 document: `vault.store_with_row`'s `also`, one round trip less). As
    `record`, the person's row is locked and the head read now, so the caller must insert it before its
    transaction ends, and must be in one."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events.chained() must run inside the transaction that inserts the event")
    return _next(person, actor=actor, role=role, action=action, allowed=True, reason="", subject=subject)[0]


def _next(person, *, actor, role: str, action: str, allowed: bool, reason: str, subject: str
          ) -> tuple[AccessEvent, bool]:
    from .models import Professional
    from .policy import EMERGENCY_REASONS

    professional = actor if isinstance(actor, Professional) else None
    # What a professional does under an emergency opening is shown as an emergency access, however it came.
    channel = channels.EMERGENCY if allowed and reason in EMERGENCY_REASONS.values() else channels.current()
    if professional is not None:
        actor = None
    sequence, previous, earlier = _lock_and_read_head(person.pk, professional.pk if professional else None)
    event = AccessEvent(
        person=person, actor=actor, professional=professional,
        actor_label=(professional or actor).full_name if (professional or actor) else "", actor_role=role,
        action=action, allowed=allowed, reason=reason, subject=subject, channel=channel,
        sequence=(sequence or 0) + 1, previous_hash=previous or "",
    )
    event.hash = event.compute_hash()
    return event, earlier


def _lock_and_read_head(person_id: int, professional_id: int | None) -> tuple[int | None, str | None, bool]:
    """Lock the person row (it orders their events), then read the chain head and the professional's earlier
    allowed access. Two statements, so the read sees what the previous holder of the lock committed (READ
    COMMITTED: each statement its own snapshot; one statement would keep the snapshot it started with). On
    PostgreSQL both run inside `carnet_event_head` (migration 0008: a volatile function, a snapshot per statement):
    one round trip, one prepared statement."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_HEAD_FUNCTION, [person_id, professional_id])
        else:
            cursor.execute(_LOCK_PERSON + (" FOR UPDATE" if connection.features.has_select_for_update else ""),
                           [person_id])
            cursor.execute(_HEAD, [person_id, professional_id, person_id])
        sequence, previous, earlier = cursor.fetchone()
    return sequence, previous, bool(earlier)


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
    from carnet.messaging.models import Conversation
    from carnet.record.models import Document

    from .policy import PolicyDenied, Role, decide

    decision = decide(actor, action, target)
    person = target.person if isinstance(target, Document | Conversation) else target
    if isinstance(target, Document) and not subject:
        subject = f"document:{target.uuid}"
    if isinstance(target, Conversation) and not subject:
        subject = f"conversation:{target.uuid}"
    if person is not None and person.pk and (not decision.allowed or decision.role != Role.HOLDER):
        event, earlier = _record(person, actor=actor, role=decision.role, action=str(action),
                                 allowed=decision.allowed, reason=decision.reason, subject=subject)
        if decision.allowed and decision.role == Role.PROFESSIONAL and not earlier:
            _tell_holder_of_a_first_access(person, event)
    if not decision.allowed:
        raise PolicyDenied(decision)
    return decision


def _tell_holder_of_a_first_access(person, event: AccessEvent) -> None:
    """A professional's first access to a space is notified to the holder (and their representatives): that
    it happened, never who or what (the history says it, behind sign-in). `_record` said it is the first."""
    if event.professional_id is None:
        return
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from carnet.notifications import actions as notifications
    from carnet.notifications.enums import Kind

    notifications.notify(person, kind=Kind.ACCOUNT, code="first_professional_access",
                         title=_("Un professionnel de santé a consulté votre espace pour la première fois. "
                                 "Le détail est dans l'historique des accès."), url=reverse("portal:history"))
