"""The medical profile (carnet.medical) as FHIR resources: the stored resource JSON, read through the
medical app's own accessors, with `id` and `meta` set from the entry row.

Search parameters keep their R4 names for each type (`clinical-status` on Condition, `vaccine-code` on
Immunization...). `patient`, `_id` and `_lastUpdated` filter in the database; the others match the
resource JSON itself, so they mean exactly what FHIR says rather than what our search columns hold.
A profile is small (tens to hundreds of entries per person), so filtering those in memory, within
one person's space, is cheap; only the requested page is returned.

Professionals see only the sections a professional may ever see (`PROFESSIONAL_VISIBLE_SECTIONS`:
vaccinations, entourage...); the rest is the holder's private notebook. This is a rule about the
*section*, not the person: the policy decides on the space (authorised, blocked...) and this face then
keeps private sections out — an empty searchset, or a 403 `private_section` on read (recorded as a
denial). It belongs in `sharing.policy` once the policy knows profile sections as targets.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.utils.translation import gettext as _

from carnet.sharing.events import authorise, record
from carnet.sharing.policy import Action, decide

from .http import FhirError, forbidden, not_found
from .params import DateRange, Search, Token, instant, parse_date, parse_uuid, split_or
from .resources import ID, LAST_UPDATED, PATIENT, Context, Handler, Param, date_filter, id_filter, target_space

FAR_PAST = dt.datetime.min.replace(tzinfo=dt.UTC)
FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class JsonParam:
    """A search parameter matched on the resource JSON: 'token' or 'date', at one or more paths."""

    kind: str
    paths: tuple[str, ...]
    documentation: str

    def declared(self) -> Param:
        return Param(self.kind, self.documentation)


def _walk(value: Any, path: list[str]) -> list[Any]:
    """Every value at a dotted path, flattening lists on the way (`condition.code`)."""
    if not path:
        return value if isinstance(value, list) else [value]
    if isinstance(value, list):
        return [found for item in value for found in _walk(item, path)]
    if isinstance(value, dict) and path[0] in value:
        return _walk(value[path[0]], path[1:])
    return []


def _codes(value: Any) -> list[tuple[str | None, str | None]]:
    """(system, code) pairs of a CodeableConcept, a Coding or a bare `code` element."""
    if isinstance(value, str):
        return [(None, value)]
    if isinstance(value, dict):
        if "coding" in value:
            return [(c.get("system"), c.get("code")) for c in value["coding"]]
        if "code" in value:
            return [(value.get("system"), value.get("code"))]
    return []


def _ranges(value: Any) -> list[tuple[dt.datetime, dt.datetime]]:
    """The time range a date, dateTime or Period covers (a partial date covers its whole year or month)."""
    def bounds(text: str) -> DateRange | None:
        try:
            return parse_date("date", text[:29])
        except FhirError:  # a stored value we cannot read simply does not match
            return None

    if isinstance(value, str):
        found = bounds(value)
        return [(found.low, found.high)] if found else []
    if isinstance(value, dict) and ("start" in value or "end" in value):
        start = bounds(value["start"]) if value.get("start") else None
        end = bounds(value["end"]) if value.get("end") else None
        return [(start.low if start else FAR_PAST, end.high if end else FAR_FUTURE)]
    return []


def _token_matches(resource: dict, param: JsonParam, alternatives: list[Token]) -> bool:
    pairs = [pair for path in param.paths for value in _walk(resource, path.split(".")) for pair in _codes(value)]
    return any(token.matches(system, code) for token in alternatives for system, code in pairs)


def _date_matches(resource: dict, param: JsonParam, alternatives: list[DateRange]) -> bool:
    spans = [span for path in param.paths for value in _walk(resource, path.split(".")) for span in _ranges(value)]
    return any(wanted.matches(low, high) for wanted in alternatives for low, high in spans)


def _date(paths: tuple[str, ...], documentation: str) -> JsonParam:
    return JsonParam("date", paths, documentation + " Avec préfixe eq, ne, gt, lt, ge ou le.")


def _token(paths: tuple[str, ...], documentation: str) -> JsonParam:
    return JsonParam("token", paths, documentation + " system|code ou code.")


# The reason code of a read refused because the section is private (not a policy reason: see the docstring).
PRIVATE_SECTION = "private_section"
EFFECTIVE = ("effectiveDateTime", "effectivePeriod", "effectiveInstant")
PROFILE_PARAMS: dict[str, dict[str, JsonParam]] = {
    "AllergyIntolerance": {
        "code": _token(("code",), "Substance ou produit (code)."),
        "category": _token(("category",), "food | medication | environment | biologic."),
        "type": _token(("type",), "allergy | intolerance."),
        "clinical-status": _token(("clinicalStatus",), "Statut clinique (active, inactive, resolved)."),
        "date": _date(("recordedDate",), "Date d'enregistrement (recordedDate)."),
    },
    "Condition": {
        "code": _token(("code",), "La maladie ou le problème (code)."),
        "category": _token(("category",), "Catégorie (problem-list-item...)."),
        "clinical-status": _token(("clinicalStatus",), "Statut clinique (active, resolved...)."),
        "onset-date": _date(("onsetDateTime", "onsetPeriod"), "Début (onset[x])."),
        "recorded-date": _date(("recordedDate",), "Date d'enregistrement."),
    },
    "FamilyMemberHistory": {
        "code": _token(("condition.code",), "La maladie du proche (condition.code)."),
        "relationship": _token(("relationship",), "Lien de parenté (v3-RoleCode)."),
        "status": _token(("status",), "partial | completed | entered-in-error | health-unknown."),
        "date": _date(("date",), "Date de l'enregistrement."),
    },
    "MedicationStatement": {
        "code": _token(("medicationCodeableConcept",), "Le médicament (CIP13...)."),
        "category": _token(("category",), "Catégorie."),
        "status": _token(("status",), "active | completed | stopped | ..."),
        "effective": _date(EFFECTIVE, "Période de prise (effective[x])."),
    },
    "Immunization": {
        "vaccine-code": _token(("vaccineCode",), "Le vaccin (vaccineCode)."),
        "status": _token(("status",), "completed | entered-in-error | not-done."),
        "date": _date(("occurrenceDateTime",), "Date de la vaccination (occurrence[x])."),
    },
    "Observation": {
        "code": _token(("code",), "Ce qui est mesuré ou observé (LOINC...)."),
        "category": _token(("category",), "Catégorie (vital-signs, social-history...)."),
        "status": _token(("status",), "final | amended | ..."),
        "date": _date(EFFECTIVE, "Date de la mesure (effective[x])."),
    },
    "RelatedPerson": {
        "relationship": _token(("relationship",), "Rôle du proche (personne de confiance, à prévenir...)."),
    },
}


class ProfileHandler(Handler):
    """One resource type of the profile; an instance per type (the params differ)."""

    def __init__(self, resource_type: str):
        self.type = resource_type
        self.json_params = PROFILE_PARAMS[resource_type]
        self.params = {"patient": PATIENT, "_id": ID, "_lastUpdated": LAST_UPDATED,
                       **{name: p.declared() for name, p in self.json_params.items()}}
        self.documentation = ("Profil médical ; id = UUID public de l'entrée. Un professionnel de santé ne voit que "
                              "les rubriques partagées avec les professionnels (vaccinations, entourage) : ailleurs, "
                              "recherche vide et lecture refusée (403, private_section).")

    def read(self, ctx: Context, resource_id: str) -> dict[str, Any]:
        from carnet.medical.actions.entries import EntryNotFound, locate_entry

        wanted = parse_uuid(resource_id)
        if wanted is None:
            raise not_found()
        if ctx.professional is not None:
            return self._resource(self._professional_entry(ctx, wanted))
        try:
            entry = locate_entry(ctx.actor, wanted)  # asks the policy about the entry's owner (traced)
        except EntryNotFound:
            raise not_found() from None
        if entry.resource_type != self.type:
            raise not_found()
        return self._resource(entry)

    def _professional_entry(self, ctx: Context, wanted: uuid.UUID) -> Any:
        """An entry a professional may read: the policy decides on the space (one event, the entry as
        subject); an entry of a private section is then refused with `private_section`, recorded as a
        denial instead of the read the policy alone would have allowed."""
        from carnet.medical.enums import PROFESSIONAL_VISIBLE_SECTIONS
        from carnet.medical.models import ProfileEntry

        entry = (ProfileEntry.objects.filter(uuid=wanted, resource_type=self.type).select_related("person")
                 .first())
        if entry is None:
            raise not_found()
        subject = f"profile:{entry.uuid}"
        if entry.section in PROFESSIONAL_VISIBLE_SECTIONS:
            authorise(ctx.actor, Action.READ_RECORD, entry.person, subject=subject)  # raises PolicyDenied
            return entry
        decision = decide(ctx.actor, Action.READ_RECORD, entry.person)
        if not decision.allowed:  # the policy's own denial comes first (no_authorisation, blocked...)
            authorise(ctx.actor, Action.READ_RECORD, entry.person, subject=subject)  # records it, raises
        record(entry.person, actor=ctx.actor, role=decision.role, action=str(Action.READ_RECORD), allowed=False,
               reason=PRIVATE_SECTION, subject=subject)
        raise forbidden(PRIVATE_SECTION, _("Cette rubrique du profil médical est réservée au titulaire : elle "
                                           "n'est pas partagée avec les professionnels de santé."))

    def search(self, ctx: Context, search: Search) -> tuple[int, list[dict[str, Any]]]:
        from carnet.medical.models import ProfileEntry

        person, _decision = target_space(ctx, search)
        rows = (ProfileEntry.objects.filter(person=person, resource_type=self.type)
                .filter(id_filter(search) & date_filter(search, "_lastUpdated", "last_updated"))
                .select_related("person").order_by("-last_updated", "-pk"))
        if ctx.professional is not None:  # private sections stay out (see the module docstring)
            from carnet.medical.enums import PROFESSIONAL_VISIBLE_SECTIONS

            rows = rows.filter(section__in=PROFESSIONAL_VISIBLE_SECTIONS)
        wanted = {name: values for name, values in search.params.items() if name in self.json_params}
        if not wanted:
            total = rows.count()
            return total, [self._resource(e) for e in rows[search.offset:search.offset + search.count]]
        matching = [r for r in (self._resource(e) for e in rows) if self._matches(r, wanted)]
        return len(matching), matching[search.offset:search.offset + search.count]

    def _matches(self, resource: dict, wanted: dict[str, list[str]]) -> bool:
        for name, values in wanted.items():
            param = self.json_params[name]
            for value in values:  # AND between occurrences
                parts = split_or(value)
                if param.kind == "date":
                    ok = _date_matches(resource, param, [parse_date(name, p) for p in parts])
                else:
                    ok = _token_matches(resource, param, [Token.parse(p) for p in parts])
                if not ok:
                    return False
        return True

    def _resource(self, entry) -> dict[str, Any]:
        return entry_resource(entry)


def entry_resource(entry) -> dict[str, Any]:
    """A medical-profile entry as this face serves it (and the holder's export writes it): the stored resource with
    its id, meta and patient reference."""
    from carnet.medical.actions.entries import view

    resource = dict(view(entry).resource)
    resource["id"] = str(entry.uuid)
    resource["meta"] = {**(resource.get("meta") or {}), "versionId": str(entry.version),
                        "lastUpdated": instant(entry.last_updated)}
    subject = "patient" if "patient" in mapping_subjects(entry.resource_type) else "subject"
    resource.setdefault(subject, {"reference": f"Patient/{entry.person.uuid}"})
    return resource


def mapping_subjects(resource_type: str) -> set[str]:
    """The element naming the patient: `patient` on these types, `subject` elsewhere."""
    if resource_type in {"AllergyIntolerance", "FamilyMemberHistory", "Immunization", "RelatedPerson"}:
        return {"patient"}
    return {"subject"}


def medical_available() -> bool:
    return apps.is_installed("carnet.medical")


def profile_handlers() -> dict[str, Handler]:
    """Declared only when the medical app is installed: the CapabilityStatement says what really works."""
    if not medical_available():
        return {}
    return {name: ProfileHandler(name) for name in PROFILE_PARAMS}

