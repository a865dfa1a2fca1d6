"""Observations: lifestyle (social-history), blood group (LOINC 882-1) and health measures."""

import datetime as dt
from typing import TypedDict

from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..enums import Section
from ..errors import MedicalError
from ..measures import DIASTOLIC, LOINC, MEASURES, OBSERVATION_CATEGORY, SYSTOLIC, UCUM, Measure
from .base import (
    LOCAL,
    Built,
    SectionSpec,
    Summary,
    choice,
    clean,
    code_of,
    coding,
    comment,
    concept,
    decimal,
    integer,
    label_of,
    note_text,
    notes,
)

SNOMED = "http://snomed.info/sct"
LIFESTYLE_SYSTEM = LOCAL + "lifestyle"


class LifestyleDomain(TypedDict):
    label: Promise
    code: tuple[str, str]  # (system, code)
    answers: list[tuple[str, Promise]]
    count: tuple[Promise, str, int, int] | None  # (label, UCUM unit, low, high)


# Each domain: its code (LOINC where one fits, else ours), its answers, and an optional count.
LIFESTYLE: dict[str, LifestyleDomain] = {
    "food": {
        "label": gettext_lazy("Alimentation"), "code": (LIFESTYLE_SYSTEM, "food"),
        "answers": [("balanced", gettext_lazy("Variée et équilibrée")), ("vegetarian", gettext_lazy("Végétarienne")),
                    ("vegan", gettext_lazy("Végétalienne")), ("diet", gettext_lazy("Régime particulier")),
                    ("irregular", gettext_lazy("Irrégulière"))],
        "count": None,
    },
    "physical_activity": {
        "label": gettext_lazy("Activité physique"), "code": (LIFESTYLE_SYSTEM, "physical-activity"),
        "answers": [("none", gettext_lazy("Aucune")), ("low", gettext_lazy("Faible")),
                    ("moderate", gettext_lazy("Modérée")), ("high", gettext_lazy("Intense"))],
        "count": (gettext_lazy("Minutes par semaine"), "min/wk", 0, 5000),
    },
    "sleep": {
        "label": gettext_lazy("Sommeil"), "code": (LIFESTYLE_SYSTEM, "sleep"),
        "answers": [("good", gettext_lazy("Bon")), ("average", gettext_lazy("Moyen")),
                    ("poor", gettext_lazy("Mauvais"))],
        "count": (gettext_lazy("Heures par nuit"), "h", 0, 24),
    },
    "screens": {
        "label": gettext_lazy("Écrans"), "code": (LIFESTYLE_SYSTEM, "screens"),
        "answers": [("low", gettext_lazy("Moins de 2 heures par jour")), ("medium", gettext_lazy("De 2 à 4 heures")),
                    ("high", gettext_lazy("Plus de 4 heures par jour"))],
        "count": (gettext_lazy("Heures par jour"), "h/d", 0, 24),
    },
    "alcohol": {
        "label": gettext_lazy("Alcool"), "code": (LOINC, "11331-6"),
        "answers": [("never", gettext_lazy("Jamais")), ("occasional", gettext_lazy("Occasionnellement")),
                    ("regular", gettext_lazy("Régulièrement")), ("daily", gettext_lazy("Tous les jours")),
                    ("former", gettext_lazy("J'ai arrêté"))],
        "count": (gettext_lazy("Verres par semaine"), "/wk", 0, 500),
    },
    "tobacco": {
        "label": gettext_lazy("Tabac"), "code": (LOINC, "72166-2"),
        "answers": [("never", gettext_lazy("Je n'ai jamais fumé")), ("former", gettext_lazy("J'ai arrêté")),
                    ("occasional", gettext_lazy("Je fume occasionnellement")),
                    ("daily", gettext_lazy("Je fume tous les jours"))],
        "count": (gettext_lazy("Cigarettes par jour"), "/d", 0, 200),
    },
}
LIFESTYLE_DOMAINS = [(k, v["label"]) for k, v in LIFESTYLE.items()]
# SNOMED CT smoking statuses used with LOINC 72166-2 (to verify against the US Core value set).
TOBACCO_SNOMED = {"never": "266919005", "former": "8517006", "daily": "449868002"}


class LifestyleSpec(SectionSpec):
    """One answer about a habit; every answer is kept, the latest per domain is the current one."""

    key = Section.LIFESTYLE
    resource_type = "Observation"

    def build(self, person, data):
        domain = choice(data, "domain", LIFESTYLE_DOMAINS, required=True, label=_("Thème"))
        spec = LIFESTYLE[domain]
        answer = choice(data, "answer", spec["answers"], required=True, label=_("Réponse"))
        system, code = spec["code"]
        codings = [coding(LIFESTYLE_SYSTEM, f"{domain}.{answer}", str(label_of(spec["answers"], answer)))]
        if domain == "tobacco" and answer in TOBACCO_SNOMED:
            codings.insert(0, coding(SNOMED, TOBACCO_SNOMED[answer]))
        components = []
        if spec["count"]:
            count_label, unit, low, high = spec["count"]
            count = integer(data, "count", low, high)
            if count is not None:
                components.append({"code": concept(str(count_label), coding(LIFESTYLE_SYSTEM, f"{domain}.count")),
                                   "valueQuantity": {"value": count, "unit": unit, "system": UCUM, "code": unit}})
        now = timezone.now()
        resource = clean({
            "status": "final",
            "category": [concept("", coding(OBSERVATION_CATEGORY, "social-history"))],
            "code": concept(str(spec["label"]), coding(system, code)),
            "effectiveDateTime": now.isoformat(timespec="seconds"),
            "valueCodeableConcept": concept(str(label_of(spec["answers"], answer)), *codings),
            "component": components,
            "note": notes(comment(data)),
        })
        return Built(resource, code_system=system, code=code, effective=now, status="final", category=domain)

    @staticmethod
    def domain_of(r) -> str:
        for c in (r.get("valueCodeableConcept") or {}).get("coding") or []:
            if c.get("system") == LIFESTYLE_SYSTEM:
                return c["code"].split(".")[0]
        return ""

    def summary(self, r):
        domain = self.domain_of(r)
        when = formats.date_format(dt.datetime.fromisoformat(r["effectiveDateTime"]), "j F Y")
        details = [(_("Réponse"), r.get("valueCodeableConcept", {}).get("text", ""))]
        for component in r.get("component") or []:
            details.append((component["code"].get("text", ""), str(component["valueQuantity"]["value"])))
        if note_text(r):
            details.append((_("Commentaire"), note_text(r)))
        spec = LIFESTYLE.get(domain)
        return Summary(str(spec["label"]) if spec else "", when, details)

    def initial(self, r):
        domain = self.domain_of(r)
        answer = code_of(r.get("valueCodeableConcept"), LIFESTYLE_SYSTEM).split(".")[-1]
        count = (r.get("component") or [{}])[0].get("valueQuantity", {}).get("value")
        return {"domain": domain, "answer": answer, "count": count, "comment": note_text(r)}


# SNOMED CT "Blood group X Rh(D) positive/negative" concepts (to verify against the SNOMED browser),
# and the approximate share of the French population (Établissement français du sang figures).
BLOOD_GROUPS = {
    "APOS": ("A+", "278149003", 37), "ANEG": ("A−", "278152006", 7),
    "BPOS": ("B+", "278150003", 9), "BNEG": ("B−", "278153001", 1),
    "ABPOS": ("AB+", "278151004", 3), "ABNEG": ("AB−", "278154007", 1),
    "OPOS": ("O+", "278147001", 36), "ONEG": ("O−", "278148006", 6),
}
BLOOD_GROUP_CHOICES = [(k, v[0]) for k, v in BLOOD_GROUPS.items()]


class BloodGroupSpec(SectionSpec):
    key = Section.BLOOD_GROUP
    resource_type = "Observation"
    single = True

    def build(self, person, data):
        group = choice(data, "group", BLOOD_GROUP_CHOICES, required=True, label=_("Groupe sanguin"))
        label, snomed, _share = BLOOD_GROUPS[group]
        now = timezone.now()
        resource = {
            "status": "final",
            "category": [concept("", coding(OBSERVATION_CATEGORY, "laboratory"))],
            "code": concept(_("Groupe sanguin ABO et rhésus"), coding(LOINC, "882-1")),
            "effectiveDateTime": now.isoformat(timespec="seconds"),
            "valueCodeableConcept": concept(label, coding(SNOMED, snomed), coding(LOCAL + "blood-group", group)),
        }
        return Built(resource, code_system=LOINC, code="882-1", effective=now, status="final", category=group)

    def summary(self, r):
        group = code_of(r.get("valueCodeableConcept"), LOCAL + "blood-group")
        label, _snomed, share = BLOOD_GROUPS.get(group, ("?", "", 0))
        return Summary(label, "", [(_("Part de la population française"), f"{share} %")])

    def initial(self, r):
        return {"group": code_of(r.get("valueCodeableConcept"), LOCAL + "blood-group")}


def quantity(measure: Measure, value) -> dict:
    return {"value": float(value) if measure.decimals else int(value), "unit": measure.unit_label,
            "system": UCUM, "code": measure.unit}


class MeasureSpec(SectionSpec):
    """A health measure: Observation with its LOINC code and UCUM unit; blood pressure as a panel."""

    key = Section.MEASURES
    resource_type = "Observation"

    def build(self, person, data, *, derived_from: list[str] | None = None):
        measure = MEASURES.get(str(data.get("measure") or ""))
        if measure is None:
            raise MedicalError(_("Mesure inconnue."), "measure")
        if measure.computed and derived_from is None:
            raise MedicalError(_("L'IMC est calculé à partir du poids et de la taille."), "measure")
        when = data.get("when")
        if isinstance(when, str):
            try:
                when = dt.datetime.fromisoformat(when)
            except ValueError:
                raise MedicalError(_("Date et heure invalides."), "when") from None
        if not isinstance(when, dt.datetime):
            raise MedicalError(_("Indiquez la date et l'heure de la mesure."), "when")
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        if when.date() < person.birth_date or when > timezone.now() + dt.timedelta(minutes=5):
            raise MedicalError(_("La date de la mesure doit être entre la naissance et maintenant."), "when")
        value = decimal(data, "value", measure.low, measure.high, measure.decimals, unit=measure.unit_label)
        body = {
            "status": "final",
            "category": [concept("", coding(OBSERVATION_CATEGORY, measure.category))],
            "code": concept(str(measure.label), coding(LOINC, measure.loinc)),
            "effectiveDateTime": when.isoformat(timespec="seconds"),
            "note": notes(comment(data)),
            "derivedFrom": [{"reference": ref} for ref in derived_from or []],
        }
        if measure.components:
            low = decimal(data, "value2", measure.low, measure.high, measure.decimals, unit=measure.unit_label)
            if low >= value:
                raise MedicalError(_("La pression diastolique doit être inférieure à la systolique."), "value2")
            body["component"] = [
                {"code": concept(str(measure.components[0][1]), coding(LOINC, SYSTOLIC)),
                 "valueQuantity": quantity(measure, value)},
                {"code": concept(str(measure.components[1][1]), coding(LOINC, DIASTOLIC)),
                 "valueQuantity": quantity(measure, low)},
            ]
        else:
            body["valueQuantity"] = quantity(measure, value)
        return Built(clean(body), code_system=LOINC, code=measure.loinc, effective=when, status="final",
                     category=measure.key)

    def summary(self, r):
        values = measure_values(r)
        measure = next((m for m in MEASURES.values() if m.loinc == code_of(r.get("code"), LOINC)), None)
        unit = measure.unit_label if measure else ""
        text_value = " / ".join(f"{v:g}" for v in values) + f" {unit}"
        when = formats.date_format(timezone.localtime(dt.datetime.fromisoformat(r["effectiveDateTime"])),
                                   "j F Y à H:i")
        details = [(_("Valeur"), text_value)]
        if note_text(r):
            details.append((_("Commentaire"), note_text(r)))
        return Summary(r.get("code", {}).get("text", ""), when, details)

    def initial(self, r):
        values = measure_values(r)
        measure = next((m for m in MEASURES.values() if m.loinc == code_of(r.get("code"), LOINC)), None)
        return {"measure": measure.key if measure else "", "value": values[0] if values else None,
                "value2": values[1] if len(values) > 1 else None,
                "when": timezone.localtime(dt.datetime.fromisoformat(r["effectiveDateTime"])),
                "comment": note_text(r)}


def measure_values(r: dict) -> list[float]:
    if r.get("valueQuantity"):
        return [r["valueQuantity"]["value"]]
    return [c["valueQuantity"]["value"] for c in r.get("component") or []]
