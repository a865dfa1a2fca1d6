"""Demo data for the profil médical: a few entries, measures and care episodes through the real
actions (so everything is validated and sealed), for `carnet demo_data`."""

import datetime as dt
import random

from django.utils import timezone

from .actions import care, entries, measures
from .enums import Section


def fill_demo_profile(person, rng: random.Random) -> None:
    """Called with an active person; acts as the holder."""
    year = max(person.birth_date.year + 1, timezone.localdate().year - rng.randint(1, 10))
    entries.add_entry(person, person, Section.ALLERGIES, {"label": rng.choice(["Pollen de graminées", "Arachide",
                                                                               "Pénicilline"])})
    entries.add_entry(person, person, Section.DISEASES, {"label": "Asthme", "start": str(year)})
    entries.add_entry(person, person, Section.TREATMENTS, {"name": "Salbutamol", "dosage": "2 bouffées si besoin",
                                                           "start": str(year)})
    entries.add_entry(person, person, Section.VACCINATIONS, {"vaccine": "dtcapolio", "date": str(year)})
    entries.add_entry(person, person, Section.BLOOD_GROUP, {"group": rng.choice(["APOS", "OPOS", "BPOS"])})
    now = timezone.now()
    if person.age() >= 18:
        height = rng.randint(155, 190)
        measures.add_measure(person, person, {"measure": "taille", "value": height,
                                              "when": now - dt.timedelta(days=200)})
        weight = round(height - 100 + rng.uniform(-10, 10), 1)
        for months in range(6, 0, -1):
            weight = round(weight + rng.uniform(-1.5, 1.5), 1)
            measures.add_measure(person, person, {"measure": "poids", "value": weight,
                                                  "when": now - dt.timedelta(days=30 * months)})
        measures.set_target(person, person, "poids", low=weight - 5, high=weight + 2)
    day = timezone.localdate()
    rows = []
    for i in range(8):
        when = (day - dt.timedelta(days=rng.randint(5, 400))).isoformat()
        kind = rng.choice(["consultation", "medicine", "biology", "radiology"])
        label = {"consultation": "Consultation de médecine générale", "medicine": "Amoxicilline 1 g, comprimé",
                 "biology": "Hémogramme", "radiology": "Radiographie du thorax"}[kind]
        rows.append({"id": f"DEMO-{person.uuid}-{i}", "date": when, "category": kind, "label": label,
                     "code_system": {"medicine": "CIP13", "biology": "NABM", "radiology": "CCAM"}.get(kind, "NGAP"),
                     "code": {"medicine": "", "biology": "1104", "radiology": "ZBQK002"}.get(kind, "G"),
                     "quantity": 1, "prescriber": "Dr Claire Martin", "performer": "Cabinet du Parc"})
    care.import_care_episodes(person, rows)
