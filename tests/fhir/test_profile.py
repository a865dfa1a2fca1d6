"""The medical profile as FHIR resources: read and search, for the holder, a representative, a stranger."""

import pytest

from carnet.medical.actions import entries
from carnet.medical.enums import Section
from carnet.sharing.models import AccessEvent

from .conftest import fhir_json

pytestmark = pytest.mark.django_db


def ids(bundle) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


@pytest.fixture
def holder(family):
    return family.holder()


@pytest.fixture
def profile(holder):
    """One entry of each served type, in the holder's space."""
    person = holder.person
    year = person.birth_date.year + 20
    add = lambda kind, data: entries.add_entry(person, person, kind, data)  # noqa: E731
    return {
        "disease": add(Section.DISEASES, {"label": "Hypertension", "start": str(year), "end": str(year + 1)}),
        "allergy": add(Section.ALLERGIES, {"label": "Pénicilline", "category": "medication"}),
        "food": add(Section.ALLERGIES, {"label": "Arachide", "category": "food"}),
        "family": add(Section.FAMILY_HISTORY, {"relationship": "MTH", "label": "Cancer du sein"}),
        "treatment": add(Section.TREATMENTS, {"name": "Paracétamol", "dosage": "1 g", "start": str(year)}),
        "vaccine": add(Section.VACCINATIONS, {"vaccine": "mmr", "date": f"{year}-05-02", "dose": 1}),
        "tobacco": add(Section.LIFESTYLE, {"domain": "tobacco", "answer": "former", "count": 0}),
        "blood": add(Section.BLOOD_GROUP, {"group": "OPOS"}),
        "contact": add(Section.ENTOURAGE, {"roles": ["emergency"], "relation": "SPS", "first_name": "Paul",
                                           "last_name": "Durand", "mobile": "0612345678"}),
    }


def test_each_profile_type_reads_with_id_meta_and_patient(holder, profile, client_for):
    client = client_for(holder)
    for key, entry in profile.items():
        resource = fhir_json(client.get(f"/fhir/{entry.resource_type}/{entry.uuid}"))
        assert resource["resourceType"] == entry.resource_type, key
        assert resource["id"] == str(entry.uuid)
        assert resource["meta"]["versionId"] == str(entry.version)
        reference = resource.get("patient") or resource.get("subject")
        assert reference == {"reference": f"Patient/{holder.person.uuid}"}


def test_an_entry_read_under_another_type_is_a_404(holder, profile, client_for):
    response = client_for(holder).get(f"/fhir/Condition/{profile['allergy'].uuid}")
    assert response.status_code == 404
    fhir_json(response)


def test_search_by_type_returns_only_that_type(holder, profile, client_for):
    client = client_for(holder)
    assert set(ids(fhir_json(client.get("/fhir/AllergyIntolerance")))) == {
        str(profile["allergy"].uuid), str(profile["food"].uuid)}
    observations = fhir_json(client.get("/fhir/Observation"))
    assert observations["total"] == 2
    assert ids(fhir_json(client.get("/fhir/RelatedPerson"))) == [str(profile["contact"].uuid)]


def test_search_on_the_resource_content(holder, profile, client_for):
    client = client_for(holder)

    def search(resource_type, **params):
        return ids(fhir_json(client.get(f"/fhir/{resource_type}", params)))

    year = holder.person.birth_date.year + 20
    assert search("AllergyIntolerance", category="food") == [str(profile["food"].uuid)]
    assert len(search("AllergyIntolerance", **{"clinical-status": "active"})) == 2
    assert search("Observation", code="http://loinc.org|882-1") == [str(profile["blood"].uuid)]
    assert search("Observation", category="social-history") == [str(profile["tobacco"].uuid)]
    assert search("Observation", code="http://snomed.info/sct|882-1") == []
    assert search("Immunization", date=str(year)) == [str(profile["vaccine"].uuid)]
    assert search("Immunization", date=f"gt{year}") == []
    assert search("Immunization", **{"vaccine-code": "https://carnet.sante.fr/fhir/CodeSystem/vaccine|mmr"}) == [
        str(profile["vaccine"].uuid)]
    assert search("Condition", **{"onset-date": f"le{year}-12-31"}) == [str(profile["disease"].uuid)]
    assert search("Condition", **{"clinical-status": "active"}) == []
    assert search("FamilyMemberHistory", relationship="MTH") == [str(profile["family"].uuid)]
    assert search("MedicationStatement", status="active", effective=f"ge{year}") == [str(profile["treatment"].uuid)]
    assert search("Observation", _id=f"{profile['blood'].uuid},{profile['tobacco'].uuid}", _count="1") != []


def test_profile_search_pages_with_total(holder, profile, client_for):
    bundle = fhir_json(client_for(holder).get("/fhir/AllergyIntolerance", {"_count": "1", "clinical-status": "active"}))
    assert bundle["total"] == 2 and len(bundle["entry"]) == 1
    assert any(link["relation"] == "next" for link in bundle["link"])


def test_a_representative_reads_the_child_profile_and_it_is_traced(represented_child, client_for):
    parent, child = represented_child
    allergy = entries.add_entry(parent.person, child, Section.ALLERGIES, {"label": "Œuf", "category": "food"})
    client = client_for(parent)

    resource = fhir_json(client.get(f"/fhir/AllergyIntolerance/{allergy.uuid}"))
    bundle = fhir_json(client.get("/fhir/AllergyIntolerance", {"patient": f"Patient/{child.uuid}"}))

    assert resource["patient"] == {"reference": f"Patient/{child.uuid}"}
    assert ids(bundle) == [str(allergy.uuid)]
    reads = AccessEvent.objects.filter(person=child, actor=parent.person, action="record.read", allowed=True)
    assert reads.count() == 2


def test_a_stranger_gets_404_and_the_denial_is_recorded(family, holder, profile, client_for):
    stranger = family.holder()
    client = client_for(stranger)

    read = client.get(f"/fhir/Observation/{profile['blood'].uuid}")
    search = client.get("/fhir/Observation", {"patient": str(holder.person.uuid)})

    assert read.status_code == search.status_code == 404
    fhir_json(read)
    assert AccessEvent.objects.filter(person=holder.person, actor=stranger.person, allowed=False).count() == 2
    assert fhir_json(client.get("/fhir/Observation"))["total"] == 0  # their own, empty profile
