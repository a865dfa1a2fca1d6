"""Profil médical for the mobile app: the same operations as the portal. Path parameters are only
UUIDs: the section (`kind`) and the measure (`key`) travel as query parameters. Entries are returned as
their FHIR R4 resource plus a readable summary; bodies use the fields of the portal forms (dates
as YYYY, YYYY-MM or YYYY-MM-DD). `?person=<uuid>` acts on a represented person's profile."""

import datetime as dt
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from carnet.medical import medicines, vaccines
from carnet.medical.actions import care, entries, measures
from carnet.medical.enums import PROFESSIONAL_VISIBLE_SECTIONS, UNCONCERNED_SECTIONS, CareCategory, Section
from carnet.medical.errors import MedicalError
from carnet.medical.measures import MEASURES
from carnet.sharing.policy import Action

from ..access import me, profile
from ..schemas import Error

router = Router()
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error}
KINDS = [*[s.value for s in Section if s != Section.MEASURES], "organ_donation"]


class EntryIn(Schema):
    """The fields of one section (see each section's form); unknown fields are ignored."""

    fields: dict[str, Any] = Field(description="Par exemple {\"label\": \"Arachide\", \"category\": \"food\"}")


class EntryOut(Schema):
    id: UUID
    section: str
    kind: str
    version: int
    last_updated: dt.datetime
    author_kind: str
    title: str
    when: str
    details: list[tuple[str, str]]
    resource: dict[str, Any] = Field(description="La ressource FHIR R4")


class SectionOut(Schema):
    section: str
    label: str
    count: int
    unconcerned_since: dt.datetime | None
    visible_to_professionals: bool


class MeasureIn(Schema):
    value: float
    value2: float | None = Field(None, description="Pression diastolique (tension)")
    when: dt.datetime
    comment: str = ""


class PointOut(Schema):
    id: UUID
    when: dt.datetime
    values: list[float]
    comment: str


class MeasureOut(Schema):
    key: str
    loinc: str
    label: str
    unit: str
    computed: bool
    target_low: float | None
    target_high: float | None
    points: list[PointOut]


class TargetIn(Schema):
    low: float | None = None
    high: float | None = None


class MedicineOut(Schema):
    cis: str
    cip7: str
    cip13: str
    name: str
    presentation: str


class EpisodeOut(Schema):
    id: UUID
    date: dt.date
    category: str
    code_system: str
    code: str
    quantity: int | None
    label: str
    prescriber: str
    performer: str


def entry_out(shown: entries.EntryView) -> dict:
    summary = shown.summary
    e = shown.entry
    return {"id": e.uuid, "section": e.section, "kind": shown.kind, "version": e.version,
            "last_updated": e.last_updated, "author_kind": e.author_kind, "title": summary.title,
            "when": summary.when, "details": [(str(a), str(b)) for a, b in summary.details],
            "resource": shown.resource}


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise MedicalError("Rubrique inconnue.", "section", code="not_found")
    return kind


@router.get("/medical/sections", response={200: list[SectionOut], **ERRORS}, summary="Rubriques du profil médical")
def sections(request: HttpRequest, person: UUID | None = None):
    target, actor = profile(request, person, Action.READ_RECORD), me(request)
    out = []
    for s in Section:
        rows = entries.list_entries(actor, target, s)
        declared = entries.unconcerned_declaration(actor, target, s) if s in UNCONCERNED_SECTIONS else None
        out.append({"section": s.value, "label": str(s.label), "count": len(rows),
                    "unconcerned_since": declared.entry.last_updated if declared else None,
                    "visible_to_professionals": s in PROFESSIONAL_VISIBLE_SECTIONS})
    return out


@router.get("/medical/entries", response={200: list[EntryOut], **ERRORS}, summary="Entrées d'une rubrique")
def list_entries(request: HttpRequest, kind: str, person: UUID | None = None):
    target = profile(request, person, Action.READ_RECORD)
    if _kind(kind) == "organ_donation":
        single = entries.single_entry(me(request), target, kind)
        return [entry_out(single)] if single else []
    return [entry_out(v) for v in entries.list_entries(me(request), target, kind)]


@router.post("/medical/entries", response={201: EntryOut, **ERRORS}, summary="Ajouter une entrée")
def create_entry(request: HttpRequest, kind: str, payload: EntryIn, person: UUID | None = None):
    target = profile(request, person, Action.WRITE_RECORD)
    entry = entries.add_entry(me(request), target, _kind(kind), payload.fields)
    return Status(201, entry_out(entries.get_entry(me(request), target, entry.uuid)))


@router.get("/medical/entry/{entry_id}", response={200: EntryOut, **ERRORS}, summary="Lire une entrée")
def read_entry(request: HttpRequest, entry_id: UUID):
    entry = entries.locate_entry(me(request), entry_id, Action.READ_RECORD)
    return entry_out(entries.get_entry(me(request), entry.person, entry.uuid))


@router.put("/medical/entry/{entry_id}", response={200: EntryOut, **ERRORS}, summary="Modifier une entrée")
def update_entry(request: HttpRequest, entry_id: UUID, payload: EntryIn):
    entry = entries.locate_entry(me(request), entry_id, Action.WRITE_RECORD)
    entries.update_entry(me(request), entry.person, entry.uuid, payload.fields)
    return entry_out(entries.get_entry(me(request), entry.person, entry.uuid))


@router.delete("/medical/entry/{entry_id}", response={204: None, **ERRORS}, summary="Supprimer une entrée")
def delete_entry(request: HttpRequest, entry_id: UUID):
    entry = entries.locate_entry(me(request), entry_id, Action.WRITE_RECORD)
    entries.delete_entry(me(request), entry.person, entry.uuid)
    return Status(204, None)


@router.put("/medical/unconcerned", response={200: EntryOut, **ERRORS},
            summary="Déclarer « je n'en ai pas »")
def declare_unconcerned(request: HttpRequest, section: str, person: UUID | None = None):
    target = profile(request, person, Action.WRITE_RECORD)
    entry = entries.declare_unconcerned(me(request), target, section)
    return entry_out(entries.get_entry(me(request), target, entry.uuid))


@router.delete("/medical/unconcerned", response={204: None, **ERRORS},
               summary="Retirer la déclaration « je n'en ai pas »")
def withdraw_unconcerned(request: HttpRequest, section: str, person: UUID | None = None):
    entries.withdraw_unconcerned(me(request), profile(request, person, Action.WRITE_RECORD), section)
    return Status(204, None)


def _measure_out(actor, target, key: str) -> dict:
    definition = measures.measure_or_error(key)
    target_row = measures.targets(actor, target).get(key)
    return {"key": key, "loinc": definition.loinc, "label": str(definition.label), "unit": definition.unit,
            "computed": definition.computed,
            "target_low": float(target_row.low) if target_row and target_row.low is not None else None,
            "target_high": float(target_row.high) if target_row and target_row.high is not None else None,
            "points": [{"id": p.uuid, "when": p.when, "values": p.values, "comment": p.comment}
                       for p in measures.series(actor, target, key)]}


@router.get("/medical/measures", response={200: list[MeasureOut], **ERRORS}, summary="Mesures et objectifs")
def measure_list(request: HttpRequest, person: UUID | None = None):
    target = profile(request, person, Action.READ_RECORD)
    return [_measure_out(me(request), target, key) for key in MEASURES]


@router.get("/medical/measures/series", response={200: MeasureOut, **ERRORS}, summary="Une mesure dans le temps")
def measure_detail(request: HttpRequest, key: str, person: UUID | None = None):
    return _measure_out(me(request), profile(request, person, Action.READ_RECORD), key)


@router.post("/medical/measures/values", response={201: EntryOut, **ERRORS}, summary="Ajouter une mesure")
def measure_add(request: HttpRequest, key: str, payload: MeasureIn, person: UUID | None = None):
    target = profile(request, person, Action.WRITE_RECORD)
    entry = measures.add_measure(me(request), target, {**payload.dict(), "measure": key})
    return Status(201, entry_out(entries.get_entry(me(request), target, entry.uuid)))


@router.put("/medical/measures/target", response={200: MeasureOut, **ERRORS}, summary="Fixer un objectif")
def target_set(request: HttpRequest, key: str, payload: TargetIn, person: UUID | None = None):
    target = profile(request, person, Action.WRITE_RECORD)
    measures.set_target(me(request), target, key, low=payload.low, high=payload.high)
    return _measure_out(me(request), target, key)


@router.delete("/medical/measures/target", response={204: None, **ERRORS}, summary="Supprimer un objectif")
def target_delete(request: HttpRequest, key: str, person: UUID | None = None):
    measures.delete_target(me(request), profile(request, person, Action.WRITE_RECORD), key)
    return Status(204, None)


@router.get("/medical/vaccines", response={200: dict[str, Any], 401: Error}, summary="Liste française des vaccins")
def vaccine_reference(request: HttpRequest):
    return vaccines.reference()


class MedicineSearchIn(Schema):
    q: str


@router.post("/medical/medicines/search", response={200: list[MedicineOut], **ERRORS},
             summary="Chercher un médicament (CIP13, CIP7, CIS ou début du nom)")
def medicine_search(request: HttpRequest, payload: MedicineSearchIn):
    """POST: what one looks for is health content and never goes into a URL."""
    if len(payload.q) > 60:
        raise MedicalError("Recherche trop longue.", "q")
    return [m.__dict__ for m in medicines.find_medicine(payload.q)]


@router.get("/medical/care-episodes", response={200: list[EpisodeOut], **ERRORS}, summary="Mon histoire de santé")
def care_episodes(request: HttpRequest, category: str = "", person: UUID | None = None):
    target = profile(request, person, Action.READ_RECORD)
    if category and category not in CareCategory.values:
        raise MedicalError("Catégorie inconnue.", "category")
    days = care.care_timeline(me(request), target, category=category)
    return [{"id": e.uuid, "date": e.date, "category": e.category, "code_system": e.code_system, "code": e.code,
             "quantity": e.quantity, "label": e.label, "prescriber": e.prescriber, "performer": e.performer}
            for _day, group in days for e in group]


@router.post("/medical/care-episodes/{episode_id}/treatment", response={201: EntryOut, **ERRORS},
             summary="Ajouter un médicament délivré à mes traitements")
def care_to_treatment(request: HttpRequest, episode_id: UUID, person: UUID | None = None):
    target = profile(request, person, Action.WRITE_RECORD)
    entry = care.add_episode_to_treatments(me(request), target, episode_id)
    return Status(201, entry_out(entries.get_entry(me(request), target, entry.uuid)))
