"""Health measures: add, edit, series for the charts, latest values, personal targets.

The BMI is never typed: each weight gets a BMI computed from the latest height measured at or
before it (or within 30 days after, for a first height taken a little later), kept in step when
weights or heights change, and removed with its weight.
"""

import datetime as dt
import uuid as uuid_module
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carnet.identity.models import Person
from carnet.sharing.events import authorise
from carnet.sharing.policy import Action, Role

from ..enums import Section
from ..errors import MedicalError
from ..measures import MEASURES, Measure, bmi
from ..models import MeasureTarget, ProfileEntry
from ..sections import SPECS
from ..sections.observations import MeasureSpec, measure_values
from ..storage import unseal_json
from .entries import EntryNotFound, _store

WEIGHT, HEIGHT, BMI = "poids", "taille", "imc"
HEIGHT_GRACE = dt.timedelta(days=30)


@dataclass
class Point:
    when: dt.datetime
    values: list[float]
    uuid: uuid_module.UUID
    comment: str = ""


def _spec() -> MeasureSpec:
    spec = SPECS[Section.MEASURES]
    assert isinstance(spec, MeasureSpec)
    return spec


def measure_or_error(key: str) -> Measure:
    if key not in MEASURES:
        raise MedicalError(_("Mesure inconnue."), "measure")
    return MEASURES[key]


def add_measure(actor, person: Person, data: dict, *, _decision=None) -> ProfileEntry:
    decision = _decision or authorise(actor, Action.WRITE_RECORD, person)
    spec = _spec()
    built = spec.build(person, data)
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()
        entry = ProfileEntry(person=person, uuid=uuid_module.uuid4(), section=Section.MEASURES, version=1)
        _store(entry, spec, person, built, actor=actor, role=decision.role)
        if built.category in (WEIGHT, HEIGHT):
            recompute_bmi(actor, person, role=decision.role)
    return entry


def update_measure(actor, person: Person, entry: ProfileEntry, data: dict, *, _decision=None) -> ProfileEntry:
    decision = _decision or authorise(actor, Action.WRITE_RECORD, person)
    spec = _spec()
    data = {**data, "measure": entry.category}  # a weight stays a weight
    built = spec.build(person, data)
    entry.version += 1
    _store(entry, spec, person, built, actor=actor, role=decision.role)
    if built.category in (WEIGHT, HEIGHT):
        recompute_bmi(actor, person, role=decision.role)
    return entry


def _values(person: Person, key: str) -> list[tuple[ProfileEntry, dt.datetime, float]]:
    """Each measure of that kind with its date and first value, oldest first (a measure always has a date)."""
    rows = ProfileEntry.objects.filter(person=person, section=Section.MEASURES, category=key).order_by("effective")
    return [(e, e.effective, measure_values(unseal_json(person, e.resource))[0])
            for e in rows if e.effective is not None]


def recompute_bmi(actor, person: Person, *, role=Role.HOLDER) -> None:
    """Bring every weight's BMI in line with the heights; called inside the writer's transaction."""
    spec = _spec()
    heights = _values(person, HEIGHT)
    existing = {e.derived_from_id: e for e in ProfileEntry.objects.filter(
        person=person, section=Section.MEASURES, category=BMI)}
    for weight, weighed, kilos in _values(person, WEIGHT):
        before = [h for h in heights if h[1] <= weighed]
        after = [h for h in heights if weighed < h[1] <= weighed + HEIGHT_GRACE]
        height = before[-1] if before else (after[0] if after else None)
        current = existing.pop(weight.pk, None)
        if height is None:
            if current:
                current.delete()
            continue
        value = bmi(Decimal(str(kilos)), Decimal(str(height[2])))
        if not MEASURES[BMI].low <= value <= MEASURES[BMI].high:
            if current:
                current.delete()
            continue
        if current and Decimal(str(measure_values(unseal_json(person, current.resource))[0])) == value \
                and current.effective == weighed:
            continue
        built = spec.build(person, {"measure": BMI, "value": value, "when": weighed},
                           derived_from=[f"Observation/{weight.uuid}", f"Observation/{height[0].uuid}"])
        entry = current or ProfileEntry(person=person, uuid=uuid_module.uuid4(), section=Section.MEASURES,
                                        version=0, derived_from=weight)
        entry.version += 1
        _store(entry, spec, person, built, actor=actor, role=role)
    for orphan in existing.values():
        orphan.delete()


def series(actor, person: Person, key: str, *, since: dt.datetime | None = None) -> list[Point]:
    """One measure over time, oldest first."""
    measure_or_error(key)
    authorise(actor, Action.READ_RECORD, person)
    rows = ProfileEntry.objects.filter(person=person, section=Section.MEASURES, category=key)
    if since:
        rows = rows.filter(effective__gte=since)
    points = []
    for entry in rows.order_by("effective", "pk"):
        if entry.effective is None:  # never for a measure (its spec requires the date); cannot be plotted
            continue
        resource = unseal_json(person, entry.resource)
        note = "\n".join(n.get("text", "") for n in resource.get("note") or [])
        points.append(Point(entry.effective, measure_values(resource), entry.uuid, note))
    return points


def latest_measures(actor, person: Person) -> dict[str, Point]:
    """The latest value of each measure (the dashboard tiles)."""
    authorise(actor, Action.READ_RECORD, person)
    latest: dict[str, tuple[dt.datetime, ProfileEntry]] = {}
    rows = (ProfileEntry.objects.filter(person=person, section=Section.MEASURES)
            .order_by("category", "-effective", "-pk").defer("resource"))
    for entry in rows:
        if entry.effective is not None:  # never None for a measure (its spec requires the date)
            latest.setdefault(entry.category, (entry.effective, entry))
    out = {}
    for key, (when, entry) in latest.items():
        full = ProfileEntry.objects.get(pk=entry.pk)
        out[key] = Point(when, measure_values(unseal_json(person, full.resource)), full.uuid)
    return out


# --- targets ----------------------------------------------------------------------------------------------


def targets(actor, person: Person) -> dict[str, MeasureTarget]:
    authorise(actor, Action.READ_RECORD, person)
    return {t.measure: t for t in MeasureTarget.objects.filter(person=person)}


def set_target(actor, person: Person, key: str, *, low=None, high=None) -> MeasureTarget:
    """A band (low and high), a ceiling, a floor, or one value (low == high)."""
    measure = measure_or_error(key)
    authorise(actor, Action.WRITE_RECORD, person)
    bounds: list[Decimal | None] = []
    for name, value in (("low", low), ("high", high)):
        if value in (None, ""):
            bounds.append(None)
            continue
        try:
            number = Decimal(str(value).replace(",", "."))
        except ArithmeticError:
            raise MedicalError(_("Indiquez un nombre."), name) from None
        if not measure.low <= number <= measure.high:
            raise MedicalError(_("La valeur doit être comprise entre %(low)s et %(high)s %(unit)s.")
                               % {"low": measure.low, "high": measure.high, "unit": measure.unit_label}, name)
        bounds.append(number)
    if bounds == [None, None]:
        raise MedicalError(_("Indiquez une valeur minimale, une valeur maximale ou les deux."), "low")
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise MedicalError(_("La valeur minimale dépasse la valeur maximale."), "high")
    target, _created = MeasureTarget.objects.update_or_create(
        person=person, measure=key, defaults={"low": bounds[0], "high": bounds[1], "updated_at": timezone.now()})
    return target


def delete_target(actor, person: Person, key: str) -> bool:
    authorise(actor, Action.WRITE_RECORD, person)
    deleted, _rows = MeasureTarget.objects.filter(person=person, measure=key).delete()
    if not deleted:
        raise EntryNotFound()
    return True
