"""Patient API, profil médical: CRUD per section, measures with targets, references, care history;
represented persons through ?person=, strangers answered like unknown ids (and traced)."""

import pytest

from carnet.medical.actions import care
from carnet.medical.models import ProfileEntry
from carnet.sharing.models import AccessEvent

pytestmark = pytest.mark.django_db


def test_crud_of_an_allergy(family, signed_in):
    account = family.holder()
    api = signed_in(account)
    response = api.post("/api/medical/entries?kind=allergies", {"fields": {"label": "Arachide", "category": "food"}})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["resource"]["resourceType"] == "AllergyIntolerance" and body["title"] == "Arachide"
    entry_id = body["id"]
    assert [e["id"] for e in api.get("/api/medical/entries?kind=allergies").json()] == [entry_id]
    response = api.put(f"/api/medical/entry/{entry_id}", {"fields": {"label": "Noix"}})
    assert response.status_code == 200 and response.json()["version"] == 2
    assert api.delete(f"/api/medical/entry/{entry_id}").status_code == 204
    assert api.get(f"/api/medical/entry/{entry_id}").status_code == 404


def test_an_invalid_entry_is_a_400_with_the_field(family, signed_in):
    api = signed_in(family.holder())
    response = api.post("/api/medical/entries?kind=diseases", {"fields": {"label": "x", "start": "1850"}})
    assert response.status_code == 400
    assert response.json()["field"] == "start"
    assert not ProfileEntry.objects.exists()


def test_measures_with_bmi_and_target(family, signed_in):
    api = signed_in(family.holder())
    assert api.post("/api/medical/measures/values?key=taille", {"value": 180, "when": "2025-01-01T08:00:00+01:00"}
                    ).status_code == 201
    assert api.post("/api/medical/measures/values?key=poids", {"value": 81, "when": "2025-01-02T08:00:00+01:00"}
                    ).status_code == 201
    assert api.post("/api/medical/measures/values?key=imc", {"value": 20, "when": "2025-01-02T08:00:00+01:00"}
                    ).status_code == 400
    bmi = api.get("/api/medical/measures/series?key=imc").json()
    assert bmi["computed"] and bmi["points"][0]["values"] == [25.0]
    response = api.put("/api/medical/measures/target?key=hba1c", {"high": 7})
    assert response.status_code == 200 and response.json()["target_high"] == 7.0
    assert api.delete("/api/medical/measures/target?key=hba1c").status_code == 204


def test_references(family, signed_in):
    api = signed_in(family.holder())
    vaccines = api.get("/api/medical/vaccines").json()
    assert any(v["id"] == "mmr" for v in vaccines["vaccines"])
    assert api.post("/api/medical/medicines/search", {"q": "zz"}).json() == []
    found = api.post("/api/medical/medicines/search", {"q": "3400935955838"}).json()
    assert found and found[0]["cis"] == "60234100"  # DOLIPRANE 1000 mg, comprimé (BDPM)
    assert api.get("/api/medical/medicines", {"q": "doliprane"}).status_code in (404, 405)


def test_a_representative_acts_on_the_child_and_a_stranger_gets_404(family, signed_in, represented_child):
    parent, child = represented_child
    api = signed_in(parent)
    response = api.post(f"/api/medical/entries?kind=vaccinations&person={child.uuid}",
                        {"fields": {"vaccine": "hexavalent", "date": str(child.birth_date.year + 1), "dose": 1}})
    assert response.status_code == 201, response.content
    entry_id = response.json()["id"]
    stranger_account = family.holder()
    stranger = signed_in(stranger_account)
    assert stranger.get(f"/api/medical/entries?kind=vaccinations&person={child.uuid}").status_code == 404
    assert stranger.delete(f"/api/medical/entry/{entry_id}").status_code == 404
    assert ProfileEntry.objects.filter(uuid=entry_id).exists()
    assert AccessEvent.objects.filter(person=child, actor=stranger_account.person, allowed=False).count() == 2


def test_care_history(family, signed_in):
    account = family.holder()
    care.import_care_episodes(account.person, [
        {"id": "A1", "date": "2025-02-01", "category": "biology", "code_system": "NABM", "code": "0552",
         "label": "Hémoglobine glyquée"}])
    api = signed_in(account)
    rows = api.get("/api/medical/care-episodes").json()
    assert rows[0]["label"] == "Hémoglobine glyquée" and rows[0]["category"] == "biology"


def test_sections_overview(family, signed_in):
    api = signed_in(family.holder())
    api.put("/api/medical/unconcerned?section=allergies")
    rows = {r["section"]: r for r in api.get("/api/medical/sections").json()}
    assert rows["allergies"]["unconcerned_since"] and rows["vaccinations"]["visible_to_professionals"]
