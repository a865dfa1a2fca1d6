"""Diseases, allergies, hospitalisations and surgery, family history, disabilities."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..dates import PartialDate, check_order
from ..enums import Section
from ..errors import MedicalError
from .base import (
    EXTENSION,
    LOCAL,
    Built,
    SectionSpec,
    Summary,
    choice,
    choices_list,
    clean,
    code_of,
    coding,
    comment,
    concept,
    ext,
    integer,
    label_of,
    note_text,
    notes,
    past_date,
    show_date,
    text,
)

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
SNOMED = "http://snomed.info/sct"
LABEL_MAX = 200


class DiseaseSpec(SectionSpec):
    """A disease or health topic: Condition (problem-list-item), ongoing until it has an end date."""

    key = Section.DISEASES
    resource_type = "Condition"

    def build(self, person, data):
        label = text(data, "label", LABEL_MAX, required=True, label=_("Nom"))
        start = past_date(person, data, "start")
        end = past_date(person, data, "end")
        check_order(start, end)
        status = "resolved" if end else "active"
        resource = clean({
            "clinicalStatus": concept("", coding(CLINICAL, status)),
            "category": [concept("", coding(CONDITION_CATEGORY, "problem-list-item"))],
            "code": concept(label),
            "onsetDateTime": str(start) if start else "",
            "abatementDateTime": str(end) if end else "",
            "note": notes(comment(data)),
        })
        return Built(resource, effective=start.start_datetime() if start else None, status=status,
                     category="problem-list-item")

    def summary(self, r):
        details = []
        if r.get("onsetDateTime"):
            details.append((_("Début"), show_date(r["onsetDateTime"])))
        if r.get("abatementDateTime"):
            details.append((_("Fin"), show_date(r["abatementDateTime"])))
        else:
            details.append((_("État"), _("En cours")))
        if note_text(r):
            details.append((_("Commentaire"), note_text(r)))
        return Summary(r.get("code", {}).get("text", ""), show_date(r.get("onsetDateTime")), details)

    def initial(self, r):
        return {"label": r.get("code", {}).get("text", ""), "start": PartialDate.parse(r.get("onsetDateTime")),
                "end": PartialDate.parse(r.get("abatementDateTime")), "comment": note_text(r)}


ALLERGY_TYPES = [("allergy", gettext_lazy("Allergie")), ("intolerance", gettext_lazy("Intolérance"))]
ALLERGY_CATEGORIES = [
    ("food", gettext_lazy("Alimentaire")), ("medication", gettext_lazy("Médicament")),
    ("environment", gettext_lazy("Environnement (pollens, animaux, acariens...)")),
    ("biologic", gettext_lazy("Produit biologique")),
]


class AllergySpec(SectionSpec):
    key = Section.ALLERGIES
    resource_type = "AllergyIntolerance"
    subject_field = "patient"

    def build(self, person, data):
        label = text(data, "label", LABEL_MAX, required=True, label=_("Nom"))
        kind = choice(data, "kind", ALLERGY_TYPES) or "allergy"
        category = choice(data, "category", ALLERGY_CATEGORIES)
        start = past_date(person, data, "start")
        resource = clean({
            "clinicalStatus": concept("", coding(ALLERGY_CLINICAL, "active")),
            "type": kind,
            "category": [category] if category else [],
            "code": concept(label),
            "onsetDateTime": str(start) if start else "",
            "note": notes(comment(data)),
        })
        return Built(resource, effective=start.start_datetime() if start else None, status="active",
                     category=category)

    def summary(self, r):
        details = [(_("Type"), label_of(ALLERGY_TYPES, r.get("type")))]
        if r.get("category"):
            details.append((_("Catégorie"), label_of(ALLERGY_CATEGORIES, r["category"][0])))
        if r.get("onsetDateTime"):
            details.append((_("Depuis"), show_date(r["onsetDateTime"])))
        if note_text(r):
            details.append((_("Commentaire"), note_text(r)))
        return Summary(r.get("code", {}).get("text", ""), show_date(r.get("onsetDateTime")), details)

    def initial(self, r):
        return {"label": r.get("code", {}).get("text", ""), "kind": r.get("type", "allergy"),
                "category": (r.get("category") or [""])[0], "start": PartialDate.parse(r.get("onsetDateTime")),
                "comment": note_text(r)}


HOSPITALISATION_KINDS = [("hospitalisation", gettext_lazy("Hospitalisation")),
                         ("surgery", gettext_lazy("Opération chirurgicale"))]
KIND_CODES = {"hospitalisation": ("32485007", "Hospital admission"), "surgery": ("387713003", "Surgical procedure")}
DURATION_UNITS = [("d", gettext_lazy("jour(s)")), ("wk", gettext_lazy("semaine(s)")),
                  ("mo", gettext_lazy("mois")), ("a", gettext_lazy("année(s)"))]


class HospitalisationSpec(SectionSpec):
    """A stay or an operation: Procedure (SNOMED category), with the stay duration as an extension."""

    key = Section.HOSPITALISATIONS
    resource_type = "Procedure"

    def build(self, person, data):
        label = text(data, "label", LABEL_MAX, required=True, label=_("Motif"))
        kind = choice(data, "kind", HOSPITALISATION_KINDS) or "hospitalisation"
        start = past_date(person, data, "start", required=True, label=_("Date d'entrée"))
        duration = integer(data, "duration", 1, 9999)
        unit = choice(data, "duration_unit", DURATION_UNITS)
        if duration and not unit:
            raise MedicalError(_("Choisissez l'unité de la durée."), "duration_unit")
        snomed, display = KIND_CODES[kind]
        resource = clean({
            "status": "completed",
            "category": concept("", coding(SNOMED, snomed, display)),
            "code": concept(label),
            "performedDateTime": str(start),
            "note": notes(comment(data)),
            "extension": [{"url": EXTENSION + "stay-duration", "valueDuration": {
                "value": duration, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}]
            if duration else [],
        })
        return Built(resource, effective=start.start_datetime(), status="completed", category=kind,
                     code_system=SNOMED, code=snomed)

    @staticmethod
    def _kind(r):
        return "surgery" if code_of(r.get("category"), SNOMED) == "387713003" else "hospitalisation"

    def summary(self, r):
        details = [(_("Type"), label_of(HOSPITALISATION_KINDS, self._kind(r))),
                   (_("Date"), show_date(r.get("performedDateTime")))]
        duration = ext(r, "stay-duration").get("valueDuration")
        if duration:
            details.append((_("Durée"), f"{duration['value']} {label_of(DURATION_UNITS, duration['code'])}"))
        if note_text(r):
            details.append((_("Commentaire"), note_text(r)))
        return Summary(r.get("code", {}).get("text", ""), show_date(r.get("performedDateTime")), details)

    def initial(self, r):
        duration = ext(r, "stay-duration").get("valueDuration") or {}
        return {"label": r.get("code", {}).get("text", ""), "kind": self._kind(r),
                "start": PartialDate.parse(r.get("performedDateTime")), "duration": duration.get("value"),
                "duration_unit": duration.get("code", ""), "comment": note_text(r)}


RELATIONSHIPS = [
    ("MTH", gettext_lazy("Mère")), ("FTH", gettext_lazy("Père")), ("GRMTH", gettext_lazy("Grand-mère")),
    ("GRFTH", gettext_lazy("Grand-père")), ("SIS", gettext_lazy("Sœur")), ("BRO", gettext_lazy("Frère")),
    ("GGRMTH", gettext_lazy("Arrière-grand-mère")), ("GGRFTH", gettext_lazy("Arrière-grand-père")),
    ("AUNT", gettext_lazy("Tante")), ("UNCLE", gettext_lazy("Oncle")), ("FAMMEMB", gettext_lazy("Autre membre")),
]


class FamilyHistorySpec(SectionSpec):
    key = Section.FAMILY_HISTORY
    resource_type = "FamilyMemberHistory"
    subject_field = "patient"

    def build(self, person, data):
        relation = choice(data, "relationship", RELATIONSHIPS, required=True, label=_("Lien de parenté"))
        label = text(data, "label", LABEL_MAX, required=True, label=_("Maladie"))
        resource = clean({
            "status": "completed",
            "relationship": concept("", coding(ROLE_CODE, relation)),
            "condition": [{"code": concept(label)}],
            "note": notes(comment(data)),
        })
        return Built(resource, code_system=ROLE_CODE, code=relation, status="completed")

    def summary(self, r):
        relation = label_of(RELATIONSHIPS, code_of(r.get("relationship"), ROLE_CODE))
        label = ((r.get("condition") or [{}])[0].get("code") or {}).get("text", "")
        details = [(_("Lien de parenté"), relation)]
        if note_text(r):
            details.append((_("Commentaire"), note_text(r)))
        return Summary(f"{label} ({relation})", "", details)

    def initial(self, r):
        return {"relationship": code_of(r.get("relationship"), ROLE_CODE),
                "label": ((r.get("condition") or [{}])[0].get("code") or {}).get("text", ""),
                "comment": note_text(r)}


DISABILITY_TYPES = [
    ("SENSORY", gettext_lazy("Sensoriel")), ("NEURO_DEVELOPMENTAL_DISORDER",
                                             gettext_lazy("Trouble du neuro-développement")),
    ("PSYCHIC", gettext_lazy("Psychique")), ("ENGINE", gettext_lazy("Moteur")),
    ("POLY_DISABILITY", gettext_lazy("Polyhandicap")), ("DISABLING_DISEASES", gettext_lazy("Maladie invalidante")),
    ("OTHERS", gettext_lazy("Autre")),
]
DISABILITY_RATES = [
    ("LESS_THAN_50", gettext_lazy("Moins de 50 %")), ("BETWEEN_50_AND_79", gettext_lazy("De 50 à 79 %")),
    ("BIGGER_THAN_80_OR_EQUAL", gettext_lazy("80 % ou plus")), ("UNKNOWN", gettext_lazy("Je ne sais pas")),
]
HUMAN_HELP = [("YES", gettext_lazy("Oui")), ("NO", gettext_lazy("Non")),
              ("NONE", gettext_lazy("Je ne souhaite pas répondre"))]
TECHNICAL_AID_MAX = 50


class DisabilitySpec(SectionSpec):
    """A disability: Condition with our category codes; rate (CDAPH bands) and aids as extensions."""

    key = Section.DISABILITIES
    resource_type = "Condition"

    def build(self, person, data):
        label = text(data, "label", LABEL_MAX, required=True, label=_("Nom"))
        types = choices_list(data, "types", DISABILITY_TYPES, required=True)
        rate = choice(data, "rate", DISABILITY_RATES)
        aid = text(data, "technical_aid", TECHNICAL_AID_MAX)
        human = choice(data, "human_aid", HUMAN_HELP)
        extensions = []
        if rate:
            extensions.append({"url": EXTENSION + "disability-rate", "valueCode": rate})
        if aid:
            extensions.append({"url": EXTENSION + "technical-aid", "valueString": aid})
        if human:
            extensions.append({"url": EXTENSION + "human-aid", "valueCode": human})
        resource = clean({
            "extension": extensions,
            "clinicalStatus": concept("", coding(CLINICAL, "active")),
            "category": [concept("", coding(LOCAL + "profile-section", "disability"))]
            + [concept("", coding(LOCAL + "disability-type", t)) for t in types],
            "code": concept(label),
            "note": notes(comment(data)),
        })
        return Built(resource, status="active", category="disability", code_system=LOCAL + "disability-rate",
                     code=rate)

    @staticmethod
    def _types(r):
        return [code_of(c, LOCAL + "disability-type") for c in r.get("category") or []
                if code_of(c, LOCAL + "disability-type")]

    def summary(self, r):
        details = [(_("Type"), ", ".join(label_of(DISABILITY_TYPES, t) for t in self._types(r)))]
        if ext(r, "disability-rate"):
            details.append((_("Taux d'incapacité"), label_of(DISABILITY_RATES, ext(r, "disability-rate")["valueCode"])))
        if ext(r, "technical-aid"):
            details.append((_("Aide technique"), ext(r, "technical-aid")["valueString"]))
        if ext(r, "human-aid"):
            details.append((_("Aide humaine"), label_of(HUMAN_HELP, ext(r, "human-aid")["valueCode"])))
        if note_text(r):
            details.append((_("Informations de prise en charge"), note_text(r)))
        return Summary(r.get("code", {}).get("text", ""), "", details)

    def initial(self, r):
        return {"label": r.get("code", {}).get("text", ""), "types": self._types(r),
                "rate": ext(r, "disability-rate").get("valueCode", ""),
                "technical_aid": ext(r, "technical-aid").get("valueString", ""),
                "human_aid": ext(r, "human-aid").get("valueCode", ""), "comment": note_text(r)}
