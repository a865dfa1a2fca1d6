"""Checking the access-event chains (`carnet verify_audit`), anchoring their heads, and the FHIR
AuditEvent form of an event (the history export).

Each person's events form a chain: event n° k stores `sequence = k`, `previous_hash` = the hash of
n° k-1 ("" for n° 1) and `hash` = SHA-256 of its own fields, `sequence` and `previous_hash` included
(`AccessEvent.compute_hash`). Walking one person's events in stored `sequence` order, each event `e`
after `prev` (and `prev2` before that) is checked, and every anomaly is a `Break` that says where:

- **altered** (*modifié*): `e.compute_hash() != e.hash` — a hashed field was changed after the event
  was written (an UPDATE that bypassed the model's append-only `save`), and changing `sequence` alone
  does not explain it (see *reordered*).
- **removed** (*supprimé*): `e.sequence > prev.sequence + 1` (or the first event is not n° 1) — the
  missing numbers are named; or, with no gap, `e.previous_hash` is the hash of no event of this chain —
  the event `e` was chained to has disappeared (deleted and the rest renumbered, or replaced).
  Deleting the *last* events leaves no trace in the chain itself: only an **anchor** of the chain head
  taken earlier and kept elsewhere (`chain_heads`, `carnet verify_audit --write-anchors`, DESIGN.md §4)
  reveals it, as a removal after the current head.
- **reordered** (*déplacé*): the stored hash matches the event's fields with another sequence number
  (the row's `sequence` was changed: "était n° j"); or `e.previous_hash` is the hash of another event of
  the chain than `prev` (it points elsewhere); or `e.at` is earlier than `prev.at` by more than
  `CLOCK_TOLERANCE` (events of one person are written one at a time under a lock, so time only moves
  forward, give or take the clock skew between servers) — the last one catches a chain rewritten with
  recomputed hashes in another order.
- **inserted** (*inséré*): `e.previous_hash` is the hash of `prev2`: the chain skips `prev`, which was
  slipped in between two genuine events.

Reporting follows the cause rather than every consequence: an event already reported is not reported
again for the link its successor no longer finds, and a link that breaks because of a gap is the gap.

What the chain cannot see: whoever can write to the database can recompute every hash from a point
onwards (SHA-256 has no key). Comparing the heads with an anchor kept outside the database bounds that
to what happened since the anchor; the time check catches rewrites that disorder events.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Exists, OuterRef

from carnet.identity.models import Person

from .models import AccessEvent

CLOCK_TOLERANCE = dt.timedelta(seconds=60)
# How far from its current number a moved event's original number is looked for.
RESEQUENCE_WINDOW = 32


class BreakKind(StrEnum):
    ALTERED = "altered"
    REMOVED = "removed"
    REORDERED = "reordered"
    INSERTED = "inserted"


@dataclass(frozen=True)
class Break:
    """One place where a person's chain is not what was written.

    `sequence` is the event number concerned (for a removal: the first missing number, or the
    number of the event whose predecessor vanished); `event` the event's uuid (for a removal: the
    event found just after it; None when nothing follows); `last` the last missing number of a gap;
    `was` the original number of a moved event.
    """

    person: uuid.UUID
    sequence: int
    event: uuid.UUID | None
    kind: BreakKind
    last: int | None = None
    was: int | None = None
    detail: str = ""

    def describe(self) -> str:
        """Plain French, no health content: 'événement n° 12 modifié'."""
        n = self.sequence
        if self.kind == BreakKind.ALTERED:
            return f"événement n° {n} modifié" + (f" ({self.detail})" if self.detail else "")
        if self.kind == BreakKind.REORDERED:
            where = f"était n° {self.was}" if self.was else self.detail
            return f"événement n° {n} déplacé" + (f" ({where})" if where else "")
        if self.kind == BreakKind.INSERTED:
            return f"événement n° {n} inséré (la chaîne passe de son prédécesseur à son successeur)"
        if self.last is not None and self.last > n:
            return f"événements n° {n} à {self.last} supprimés"
        if self.last is not None:
            return f"événement n° {n} supprimé"
        return f"événement supprimé ou remplacé juste avant le n° {n}"

    def line(self) -> str:
        return f"personne {self.person} : {self.describe()}"


@dataclass(frozen=True)
class Anchor:
    """A chain head recorded at some time and kept outside the database."""

    person: uuid.UUID
    sequence: int
    hash: str


@dataclass
class ChainReport:
    person: uuid.UUID
    events: int = 0
    breaks: list[Break] = field(default_factory=list)


def _hash_with_sequence(event: AccessEvent, sequence: int) -> str:
    original = event.sequence
    event.sequence = sequence
    try:
        return event.compute_hash()
    finally:
        event.sequence = original


def _original_sequence(event: AccessEvent) -> int | None:
    """The number under which the event was hashed, when only `sequence` was changed."""
    low = max(1, event.sequence - RESEQUENCE_WINDOW)
    for candidate in range(low, event.sequence + RESEQUENCE_WINDOW + 1):
        if candidate != event.sequence and _hash_with_sequence(event, candidate) == event.hash:
            return candidate
    return None


def check_person(person: Person, anchor: Anchor | None = None) -> ChainReport:
    """Walk `person`'s events in sequence order (streamed) and report the breaks, as the module says."""
    report = ChainReport(person=person.uuid)
    breaks: dict[tuple[int, BreakKind], Break] = {}
    flagged: set[int] = set()  # sequences already reported as altered, moved or inserted

    def add(brk: Break) -> None:
        breaks.setdefault((brk.sequence, brk.kind), brk)
        if brk.kind != BreakKind.REMOVED:
            flagged.add(brk.sequence)

    def holder_of(digest: str) -> AccessEvent | None:  # only on a broken link: rare
        if not digest:
            return None
        return AccessEvent.objects.filter(person_id=person.pk, hash=digest).only("sequence", "uuid").first()

    prev: AccessEvent | None = None
    prev2: AccessEvent | None = None
    events = AccessEvent.objects.filter(person_id=person.pk).order_by("sequence")
    for event in events.iterator(chunk_size=2000):
        report.events += 1
        expected = prev.sequence + 1 if prev else 1
        gap = event.sequence > expected
        if gap:
            add(Break(person.uuid, expected, event.uuid, BreakKind.REMOVED, last=event.sequence - 1))
        if event.compute_hash() != event.hash:
            was = _original_sequence(event)
            if was is not None:
                add(Break(person.uuid, event.sequence, event.uuid, BreakKind.REORDERED, was=was))
            else:
                add(Break(person.uuid, event.sequence, event.uuid, BreakKind.ALTERED))
        expected_link = prev.hash if prev else ""
        if event.previous_hash != expected_link:
            target = holder_of(event.previous_hash)
            if target is None:
                # The hash it was chained to is nowhere: its predecessor vanished or was replaced —
                # unless that predecessor is already reported (this is then a consequence) or a gap says so.
                if not gap and not (prev is not None and prev.sequence in flagged):
                    add(Break(person.uuid, event.sequence, event.uuid, BreakKind.REMOVED))
            elif prev2 is not None and target.sequence == prev2.sequence and prev is not None:
                if prev.sequence not in flagged:
                    add(Break(person.uuid, prev.sequence, prev.uuid, BreakKind.INSERTED))
            elif not ({event.sequence, target.sequence} | ({prev.sequence} if prev else set())) & flagged:
                add(Break(person.uuid, event.sequence, event.uuid, BreakKind.REORDERED,
                          detail=f"chaîné après le n° {target.sequence}"))
        if prev is not None and event.at < prev.at - CLOCK_TOLERANCE and event.sequence not in flagged:
            add(Break(person.uuid, event.sequence, event.uuid, BreakKind.REORDERED,
                      detail=f"antérieur au n° {prev.sequence}"))
        prev2, prev = prev, event
    if anchor is not None:
        _check_anchor(person, anchor, prev, add)
    report.breaks = sorted(breaks.values(), key=lambda b: (b.sequence, b.kind != BreakKind.REMOVED))
    return report


def _check_anchor(person: Person, anchor: Anchor, head: AccessEvent | None, add) -> None:
    """The anchored head must still be there, unchanged; events after it are new, not suspicious."""
    if head is None or head.sequence < anchor.sequence:
        first = head.sequence + 1 if head else 1
        add(Break(person.uuid, first, None, BreakKind.REMOVED, last=anchor.sequence))
        return
    anchored = AccessEvent.objects.filter(person_id=person.pk, sequence=anchor.sequence).only("hash", "uuid").first()
    if anchored is not None and anchored.hash != anchor.hash:
        add(Break(person.uuid, anchor.sequence, anchored.uuid, BreakKind.ALTERED,
                  detail="différent de l'ancrage : chaîne réécrite"))


def verify_person(person: Person, anchor: Anchor | None = None) -> list[Break]:
    """Every break in `person`'s chain (empty: complete and unaltered as far as the chain can tell)."""
    return check_person(person, anchor).breaks


def persons_with_events(batch: int = 500, *, start_after: uuid.UUID | None = None) -> Iterator[Person]:
    """Persons who have events, by uuid (the anchors' order), fetched `batch` at a time (keyset)."""
    has_events = Exists(AccessEvent.objects.filter(person_id=OuterRef("pk")))
    last = start_after
    while True:
        rows = Person.objects.filter(has_events).order_by("uuid").only("pk", "uuid")
        if last is not None:
            rows = rows.filter(uuid__gt=last)
        chunk = list(rows[:batch])
        yield from chunk
        if len(chunk) < batch:
            return
        last = chunk[-1].uuid


def verify_all(batch: int = 500, anchors: Iterable[Anchor] = ()) -> Iterator[ChainReport]:
    """One report per person with events, streamed: memory holds one batch of persons and one
    person's current events. `anchors` must come sorted by person uuid (as `chain_heads` writes them)."""
    pending = iter(anchors)
    anchor = next(pending, None)
    for person in persons_with_events(batch):
        while anchor is not None and anchor.person < person.uuid:
            yield from _emptied(anchor)
            anchor = next(pending, None)
        mine = anchor if anchor is not None and anchor.person == person.uuid else None
        if mine is not None:
            anchor = next(pending, None)
        yield check_person(person, mine)
    while anchor is not None:
        yield from _emptied(anchor)
        anchor = next(pending, None)


def _emptied(anchor: Anchor) -> Iterator[ChainReport]:
    """An anchored person who has no event any more: all removed — unless the person row itself is gone
    (a destroyed space is purged with its events; the lifecycle records that elsewhere)."""
    if Person.objects.filter(uuid=anchor.person).exists():
        yield ChainReport(anchor.person, 0, [Break(anchor.person, 1, None, BreakKind.REMOVED, last=anchor.sequence)])


def chain_heads(batch: int = 500) -> Iterator[Anchor]:
    """The current head of every chain, by person uuid: what to anchor outside the database."""
    for person in persons_with_events(batch):
        head = AccessEvent.objects.filter(person_id=person.pk).order_by("-sequence").only("sequence", "hash").first()
        if head is not None:
            yield Anchor(person.uuid, head.sequence, head.hash)


ANCHOR_COLUMNS = ["person", "sequence", "hash"]


def write_anchors(stream, anchors: Iterable[Anchor]) -> int:
    writer = csv.writer(stream)
    writer.writerow(ANCHOR_COLUMNS)
    count = 0
    for anchor in anchors:
        writer.writerow([anchor.person, anchor.sequence, anchor.hash])
        count += 1
    return count


def read_anchors(stream) -> Iterator[Anchor]:
    """Anchors from a file written by `write_anchors` (header row, sorted by person uuid)."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header != ANCHOR_COLUMNS:
        raise ValueError("en-tête attendu : " + ",".join(ANCHOR_COLUMNS))
    previous: uuid.UUID | None = None
    for line, row in enumerate(reader, start=2):
        try:
            anchor = Anchor(uuid.UUID(row[0]), int(row[1]), row[2])
        except (IndexError, ValueError):
            raise ValueError(f"ligne {line} invalide") from None
        if previous is not None and anchor.person <= previous:
            raise ValueError(f"ligne {line} : les ancrages doivent être triés par personne")
        previous = anchor.person
        yield anchor


# -- The FHIR AuditEvent form of an event (the history export) --------------------------------------------------

CARNET_CODES = "https://carnet.sante.fr/fhir/CodeSystem/"
ACTION_SYSTEM = CARNET_CODES + "access-action"  # our action codes ("document.add", "record.read", ...)
ROLE_SYSTEM = CARNET_CODES + "access-role"  # the role the policy gave the actor ("holder", "representative", ...)
DCM = "http://dicom.nema.org/resources/ontology/DCM"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"

# Event type (DICOM audit message, as FHIR AuditEvent.type expects) by action prefix or code.
_AUTHENTICATION = (DCM, "110114", "User Authentication")
_SECURITY_ATTRIBUTES = (DCM, "110137", "User Security Attributes Changed")
_SECURITY_ROLES = (DCM, "110136", "Security Roles Changed")
_PATIENT_RECORD = (DCM, "110110", "Patient Record")
EVENT_TYPES = {
    "account.login": _AUTHENTICATION, "account.sign_out_everywhere": _AUTHENTICATION,
    "account.password_change": _SECURITY_ATTRIBUTES, "account.password_reset": _SECURITY_ATTRIBUTES,
    "account.email_change": _SECURITY_ATTRIBUTES, "account.phone_change": _SECURITY_ATTRIBUTES,
    "representative.": _SECURITY_ROLES, "representatives.manage": _SECURITY_ROLES,
}
# AuditEvent.action: Create, Read, Update, Delete, Execute.
CRUDE = {"record.read": "R", "space.view": "R", "document.add": "C", "document.edit": "U", "document.mask": "U",
         "document.unmask": "U", "record.write": "U", "settings.confidentiality": "U", "document.delete": "D",
         "care_history.import": "C"}


def _event_type(action: str) -> tuple[str, str, str]:
    if action in EVENT_TYPES:
        return EVENT_TYPES[action]
    prefix = action.split(".", 1)[0] + "."
    return EVENT_TYPES.get(prefix, _PATIENT_RECORD)


def _coding(system: str, code: str, display: str = "") -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def audit_event_resource(event: AccessEvent, *, person_uuid: uuid.UUID, who: str, action_display: str = "",
                         role_display: str = "", reason_display: str = "") -> dict:
    """A FHIR R4 AuditEvent (plain JSON) for one access event: what (type/subtype), when (recorded), who
    (agent, the requestor, with the role the policy gave them), on whose space (entity Patient) and on
    what (entity DocumentReference when the event names a document), and the decision (outcome)."""
    system, code, display = _event_type(event.action)
    resource: dict = {
        "resourceType": "AuditEvent",
        "id": str(event.uuid),
        "type": _coding(system, code, display),
        "subtype": [_coding(ACTION_SYSTEM, event.action, action_display)],
        "action": CRUDE.get(event.action, "E"),
        "recorded": event.at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "outcome": "0" if event.allowed else "4",
        "agent": [{
            "type": {"coding": [_coding(ROLE_SYSTEM, event.actor_role, role_display)]},
            "who": {"display": who},
            "requestor": True,
        }],
        "source": {"observer": {"display": f"Carnet ({event.channel})" if event.channel else "Carnet"},
                   "type": [_coding(SOURCE_TYPE, "4", "Application Server")]},
        "entity": [{
            "what": {"reference": f"Patient/{person_uuid}"},
            "type": _coding(ENTITY_TYPE, "1", "Person"),
            "role": _coding(OBJECT_ROLE, "1", "Patient"),
        }],
    }
    if not event.allowed and (reason_display or event.reason):
        resource["outcomeDesc"] = reason_display or event.reason
    kind, _, target = event.subject.partition(":")
    if kind == "document" and target:
        resource["entity"].append({
            "what": {"reference": f"DocumentReference/{target}"},
            "type": _coding(ENTITY_TYPE, "2", "System Object"),
            "role": _coding(OBJECT_ROLE, "4", "Domain Resource"),
        })
    return resource
