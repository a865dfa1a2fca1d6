"""Entries of the profil médical: validated FHIR on every write, sealed at rest, policy first."""

import datetime as dt

import pytest
from django.db import connection

from carnet.common.dates import today
from carnet.medical.actions import entries
from carnet.medical.enums import Section
from carnet.medical.errors import MedicalError
from carnet.medical.models import ProfileEntry
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import PolicyDenied

pytestmark = pytest.mark.django_db


def test_an_allergy_is_stored_as_a_valid_fhir_allergyintolerance(holder):
    entry = entries.add_entry(holder, holder, Section.ALLERGIES,
                              {"label": "Arachide", "category": "food", "comment": "Œdème en 2019"})
    shown = entries.get_entry(holder, holder, entry.uuid)
    resource = shown.resource
    assert resource["resourceType"] == "AllergyIntolerance"
    assert resource["id"] == str(entry.uuid)
    assert resource["patient"] == {"reference": f"Patient/{holder.uuid}"}
    assert resource["meta"]["versionId"] == "1"
    assert resource["code"]["text"] == "Arachide"
    assert entry.category == "food" and entry.author_id == holder.pk and entry.author_kind == "holder"
    assert shown.summary.title == "Arachide"


def test_the_resource_is_sealed_at_rest(holder):
    entries.add_entry(holder, holder, Section.DISEASES, {"label": "Asthme sévère", "comment": "Très confidentiel"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT resource FROM medical_profileentry WHERE person_id = %s", [holder.pk])
        raw = bytes(cursor.fetchone()[0])
    assert b"Asthme" not in raw and b"confidentiel" not in raw and b"Condition" not in raw


def test_an_invalid_entry_writes_nothing(holder):
    with pytest.raises(MedicalError) as error:
        entries.add_entry(holder, holder, Section.ALLERGIES, {"label": ""})
    assert error.value.field == "label"
    with pytest.raises(MedicalError):
        entries.add_entry(holder, holder, Section.ALLERGIES, {"label": "x", "comment": "a" * 3001})
    with pytest.raises(MedicalError):
        entries.add_entry(holder, holder, Section.DISEASES, {"label": "x", "start": "1899"})
    assert not ProfileEntry.objects.filter(person=holder).exists()


def test_fhir_validation_refuses_what_the_model_refuses(holder, monkeypatch):
    """The R4B model is the last word: a resource it rejects is not stored."""
    from carnet.medical.sections import SPECS, Built

    spec = SPECS[Section.ALLERGIES]
    monkeypatch.setattr(spec, "build", lambda person, data: Built({"type": "not-a-type", "unknown": 1}))
    with pytest.raises(MedicalError, match="FHIR"):
        entries.add_entry(holder, holder, Section.ALLERGIES, {"label": "x"})
    assert not ProfileEntry.objects.exists()


def test_start_dates_may_be_partial_but_not_before_birth(holder):
    birth = holder.birth_date
    entry = entries.add_entry(holder, holder, Section.DISEASES, {"label": "Diabète", "start": str(birth.year + 1)})
    assert entries.get_entry(holder, holder, entry.uuid).resource["onsetDateTime"] == str(birth.year + 1)
    entries.add_entry(holder, holder, Section.DISEASES, {"label": "Otite", "start": f"{birth.year}-{birth.month:02d}"})
    with pytest.raises(MedicalError, match="naissance"):
        entries.add_entry(holder, holder, Section.DISEASES,
                          {"label": "x", "start": (birth - dt.timedelta(days=40)).isoformat()})
    with pytest.raises(MedicalError, match="futur"):
        entries.add_entry(holder, holder, Section.DISEASES, {"label": "x", "start": str(today().year + 1)})


def test_update_bumps_the_version_and_delete_removes(holder):
    entry = entries.add_entry(holder, holder, Section.ALLERGIES, {"label": "Pollen"})
    entries.update_entry(holder, holder, entry.uuid, {"label": "Pollen de bouleau"})
    shown = entries.get_entry(holder, holder, entry.uuid)
    assert shown.entry.version == 2 and shown.resource["meta"]["versionId"] == "2"
    assert shown.resource["code"]["text"] == "Pollen de bouleau"
    entries.delete_entry(holder, holder, entry.uuid)
    with pytest.raises(entries.EntryNotFound):
        entries.get_entry(holder, holder, entry.uuid)


def test_unconcerned_declaration_is_dated_and_goes_when_an_entry_is_added(holder):
    declared = entries.declare_unconcerned(holder, holder, Section.ALLERGIES)
    assert declared.resource_type == "List"
    view = entries.unconcerned_declaration(holder, holder, Section.ALLERGIES)
    assert view.resource["emptyReason"]["coding"][0]["code"] == "nilknown"
    assert entries.list_entries(holder, holder, Section.ALLERGIES) == []
    entries.add_entry(holder, holder, Section.ALLERGIES, {"label": "Lactose", "kind": "intolerance"})
    assert entries.unconcerned_declaration(holder, holder, Section.ALLERGIES) is None
    with pytest.raises(MedicalError):
        entries.declare_unconcerned(holder, holder, Section.ALLERGIES)


def test_every_section_builds_valid_fhir(holder):
    year = str(holder.birth_date.year + 20)
    cases = {
        Section.DISEASES: {"label": "Hypertension", "start": year, "end": str(int(year) + 1)},
        Section.ALLERGIES: {"label": "Pénicilline", "category": "medication"},
        Section.HOSPITALISATIONS: {"label": "Appendicectomie", "kind": "surgery", "start": year, "duration": 3,
                                   "duration_unit": "d"},
        Section.FAMILY_HISTORY: {"relationship": "MTH", "label": "Cancer du sein"},
        Section.TREATMENTS: {"name": "Paracétamol", "dosage": "1 g trois fois par jour", "start": year},
        Section.VACCINATIONS: {"vaccine": "mmr", "date": year, "dose": 1, "lot": "AB12", "vaccinator": "Dr Martin"},
        Section.DISABILITIES: {"label": "Surdité", "types": ["SENSORY"], "rate": "BETWEEN_50_AND_79",
                               "technical_aid": "Appareils auditifs", "human_aid": "NO"},
        Section.LIFESTYLE: {"domain": "tobacco", "answer": "former", "count": 0},
        Section.BLOOD_GROUP: {"group": "OPOS"},
        Section.ENTOURAGE: {"roles": ["emergency", "trusted"], "relation": "SPS", "first_name": "Paul",
                            "last_name": "Durand", "mobile": "06 12 34 56 78", "email": "paul@example.org"},
        "organ_donation": {"position": "informed"},
    }
    for kind, data in cases.items():
        entry = entries.add_entry(holder, holder, kind, data)
        shown = entries.get_entry(holder, holder, entry.uuid)
        assert shown.summary.title, kind
        assert shown.initial, kind
    assert ProfileEntry.objects.filter(person=holder).count() == len(cases)


def test_blood_group_is_kept_once_and_replaced(holder):
    first = entries.add_entry(holder, holder, Section.BLOOD_GROUP, {"group": "APOS"})
    second = entries.add_entry(holder, holder, Section.BLOOD_GROUP, {"group": "ONEG"})
    assert first.pk == second.pk and second.version == 2
    assert entries.single_entry(holder, holder, Section.BLOOD_GROUP).summary.title == "O−"


def test_only_one_trusted_person(holder):
    contact = {"roles": ["trusted"], "first_name": "Anne", "last_name": "Roux", "mobile": "0612345678"}
    entries.add_entry(holder, holder, Section.ENTOURAGE, contact)
    with pytest.raises(MedicalError, match="confiance"):
        entries.add_entry(holder, holder, Section.ENTOURAGE, {**contact, "first_name": "Luc"})
    entries.add_entry(holder, holder, Section.ENTOURAGE, {**contact, "roles": ["emergency"]})


def test_a_representative_edits_the_child_profile_and_it_is_traced(represented_child):
    parent, child = represented_child
    entry = entries.add_entry(parent.person, child, Section.ALLERGIES, {"label": "Œuf"})
    assert entry.person == child and entry.author_kind == "representative"
    assert AccessEvent.objects.filter(person=child, actor=parent.person, action="record.write", allowed=True).exists()


def test_an_unrelated_person_is_refused_and_the_denial_is_traced(represented_child, family):
    _parent, child = represented_child
    stranger = family.holder().person
    with pytest.raises(PolicyDenied):
        entries.add_entry(stranger, child, Section.ALLERGIES, {"label": "Œuf"})
    with pytest.raises(PolicyDenied):
        entries.list_entries(stranger, child, Section.ALLERGIES)
    assert AccessEvent.objects.filter(person=child, actor=stranger, allowed=False).count() == 2
    assert not ProfileEntry.objects.filter(person=child).exists()


def test_demo_profile_fills_every_kind_of_data(holder):
    import random

    from carnet.medical.demo import fill_demo_profile
    from carnet.medical.models import CareEpisode

    fill_demo_profile(holder, random.Random(3))
    fill_demo_profile(holder, random.Random(3))  # the care import is idempotent
    assert CareEpisode.objects.filter(person=holder).count() == 8
    assert ProfileEntry.objects.filter(person=holder, category="imc").exists()
