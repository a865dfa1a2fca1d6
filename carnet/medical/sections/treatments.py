"""Treatments (MedicationStatement) and vaccinations (Immunization)."""

import re

from django.utils.translation import gettext as _

from carnet.common.dates import today

from .. import medicines
from .. import vaccines as vaccine_list
from ..dates import PartialDate, check_order
from ..enums import Section
from ..errors import MedicalError
from .base import (
    Built,
    SectionSpec,
    Summary,
    clean,
    code_of,
    coding,
    comment,
    concept,
    flag,
    integer,
    note_text,
    notes,
    past_date,
    show_date,
    text,
)

NAME_MAX = 50
DOSAGE_MAX = 1000
LOT_MAX = 100
VACCINATOR_MAX = 100


class TreatmentSpec(SectionSpec):
    """A current or past treatment: a medicine found by its CIP/CIS code, or typed freely.

    Names are limited to 50 characters; a longer name is cut and kept whole in the comment.
    """

    key = Section.TREATMENTS
    resource_type = "MedicationStatement"

    def build(self, person, data):
        code = re.sub(r"\s", "", str(data.get("code") or ""))
        medicine = None
        if code:
            found = medicines.find_medicine(medicines.parse_datamatrix(code))
            if not found:
                raise MedicalError(_("Aucun médicament ne correspond à ce code CIP ou CIS."), "code")
            medicine = found[0]
        name = str(data.get("name") or "").strip() or (medicine.name if medicine else "")
        if not name:
            raise MedicalError(_("Indiquez le nom du médicament ou son code CIP."), "name")
        note = comment(data)
        if len(name) > NAME_MAX:
            note = (name + ("\n" + note if note else ""))[:3000]
            name = name[:NAME_MAX]
        dosage = text(data, "dosage", DOSAGE_MAX)
        start = past_date(person, data, "start")
        end = PartialDate.parse(data.get("end"), "end")
        check_order(start, end)
        status = "completed" if end and end.last_day < today() else "active"
        codings = []
        if medicine:
            codings = [coding(medicines.CIP_SYSTEM, medicine.cip13, medicine.presentation),
                       coding(medicines.CIS_SYSTEM, medicine.cis, medicine.name)]
        resource = clean({
            "status": status,
            "medicationCodeableConcept": concept(name, *codings),
            "effectivePeriod": {"start": str(start) if start else "", "end": str(end) if end else ""},
            "dosage": [{"text": dosage}] if dosage else [],
            "note": notes(note),
        })
        return Built(resource, code_system=medicines.CIP_SYSTEM if medicine else "",
                     code=medicine.cip13 if medicine else "", effective=start.start_datetime() if start else None,
                     status=status)

    def summary(self, r):
        period = r.get("effectivePeriod") or {}
        details = []
        cip = code_of(r.get("medicationCodeableConcept"), medicines.CIP_SYSTEM)
        if cip:
            details.append((_("Code CIP"), cip))
        if r.get("dosage"):
            details.append((_("Posologie"), r["dosage"][0].get("text", "")))
        if period.get("start"):
            details.append((_("Début"), show_date(period["start"])))
        details.append((_("Fin"), show_date(period["end"])) if period.get("end") else (_("État"), _("En cours")))
        if note_text(r):
            details.append((_("Commentaire"), note_text(r)))
        return Summary(r.get("medicationCodeableConcept", {}).get("text", ""), show_date(period.get("start")),
                       details)

    def initial(self, r):
        period = r.get("effectivePeriod") or {}
        return {"name": r.get("medicationCodeableConcept", {}).get("text", ""),
                "code": code_of(r.get("medicationCodeableConcept"), medicines.CIP_SYSTEM),
                "dosage": (r.get("dosage") or [{}])[0].get("text", ""),
                "start": PartialDate.parse(period.get("start")), "end": PartialDate.parse(period.get("end")),
                "comment": note_text(r)}


class VaccinationSpec(SectionSpec):
    """A vaccination of the carnet de vaccination: Immunization with the vaccine from the French list."""

    key = Section.VACCINATIONS
    resource_type = "Immunization"
    subject_field = "patient"

    def build(self, person, data):
        vaccine_id = str(data.get("vaccine") or "")
        ref = vaccine_list.vaccine(vaccine_id) if vaccine_id else None
        if vaccine_id and ref is None:
            raise MedicalError(_("Vaccin inconnu."), "vaccine")
        label = text(data, "label", 200) or (ref["label"] if ref else "")
        if not label:
            raise MedicalError(_("Choisissez le vaccin dans la liste ou indiquez son nom."), "vaccine")
        when = past_date(person, data, "date", required=True, label=_("Date de la vaccination"))
        dose = integer(data, "dose", 1, 10)
        booster = flag(data, "booster")
        codings = []
        if ref:
            codings.append(coding(vaccine_list.VACCINE_SYSTEM, ref["id"], ref["label"]))
            if ref.get("atc"):
                codings.append(coding(medicines.ATC_SYSTEM, ref["atc"]))
        protocol = {}
        if dose or booster or ref:
            protocol = {
                "series": _("rappel") if booster else "",
                "targetDisease": [concept(vaccine_list.disease_label(d), coding(vaccine_list.DISEASE_SYSTEM, d))
                                  for d in (ref or {}).get("diseases", [])],
                "doseNumberPositiveInt": dose,
                "doseNumberString": "" if dose else (_("rappel") if booster else _("non précisée")),
            }
        resource = clean({
            "status": "completed",
            "vaccineCode": concept(label, *codings),
            "occurrenceDateTime": str(when),
            "primarySource": True,
            "lotNumber": text(data, "lot", LOT_MAX),
            "performer": [{"actor": {"display": text(data, "vaccinator", VACCINATOR_MAX)}}]
            if data.get("vaccinator") else [],
            "note": notes(comment(data)),
            "protocolApplied": [protocol] if protocol else [],
        })
        return Built(resource, code_system=vaccine_list.VACCINE_SYSTEM if ref else "",
                     code=ref["id"] if ref else "", effective=when.start_datetime(), status="completed",
                     category=ref["status"] if ref else "")

    def summary(self, r):
        protocol = (r.get("protocolApplied") or [{}])[0]
        details = [(_("Date"), show_date(r.get("occurrenceDateTime")))]
        diseases = ", ".join(t.get("text", "") for t in protocol.get("targetDisease") or [])
        if diseases:
            details.append((_("Protège contre"), diseases))
        if protocol.get("doseNumberPositiveInt"):
            details.append((_("Dose"), str(protocol["doseNumberPositiveInt"])))
        if protocol.get("series"):
            details.append((_("Type"), _("Rappel")))
        if r.get("lotNumber"):
            details.append((_("Lot"), r["lotNumber"]))
        performer = ((r.get("performer") or [{}])[0].get("actor") or {}).get("display")
        if performer:
            details.append((_("Vaccinateur"), performer))
        if note_text(r):
            details.append((_("Commentaire"), note_text(r)))
        return Summary(r.get("vaccineCode", {}).get("text", ""), show_date(r.get("occurrenceDateTime")), details)

    def initial(self, r):
        protocol = (r.get("protocolApplied") or [{}])[0]
        vaccine_id = code_of(r.get("vaccineCode"), vaccine_list.VACCINE_SYSTEM)
        return {"vaccine": vaccine_id, "label": "" if vaccine_id else r.get("vaccineCode", {}).get("text", ""),
                "date": PartialDate.parse(r.get("occurrenceDateTime")),
                "dose": protocol.get("doseNumberPositiveInt"), "booster": bool(protocol.get("series")),
                "lot": r.get("lotNumber", ""),
                "vaccinator": ((r.get("performer") or [{}])[0].get("actor") or {}).get("display", ""),
                "comment": note_text(r)}
