"""GET /fhir/metadata: public, valid, and declaring exactly what the handlers implement."""

import pytest

from carnet.fhir.resources import handlers

from .conftest import fhir_json

pytestmark = pytest.mark.django_db


def test_metadata_is_a_valid_capability_statement_without_authentication(fhir):
    response = fhir.get("/fhir/metadata")

    assert response.status_code == 200
    statement = fhir_json(response)
    assert statement["resourceType"] == "CapabilityStatement"
    assert (statement["status"], statement["kind"], statement["fhirVersion"]) == ("active", "instance", "4.0.1")
    assert statement["format"] == ["json"]
    assert statement["rest"][0]["mode"] == "server"


def test_metadata_declares_exactly_the_implemented_interactions_and_parameters(fhir):
    statement = fhir_json(fhir.get("/fhir/metadata"))
    declared = {r["type"]: r for r in statement["rest"][0]["resource"]}

    assert set(declared) == {
        "Patient", "DocumentReference", "Binary", "AllergyIntolerance", "Condition", "FamilyMemberHistory",
        "MedicationStatement", "Immunization", "Observation", "RelatedPerson", "List",
    }
    assert [i["code"] for i in declared["Binary"]["interaction"]] == ["read"]
    assert "searchParam" not in declared["Binary"]
    assert [i["code"] for i in declared["DocumentReference"]["interaction"]] == [
        "read", "search-type", "create", "patch"]  # ITI-105 and the PDSm metadata update (write.py)
    for name, handler in handlers().items():
        assert [p["name"] for p in declared[name].get("searchParam", [])] == list(handler.params)
    assert {p["name"] for p in declared["DocumentReference"]["searchParam"]} == {
        "patient", "_id", "_lastUpdated", "date", "period", "type", "category", "status",
        # IHE MHD ITI-67 as PDSm profiles it
        "patient.identifier", "setting", "facility", "event", "author.given", "author.family", "security-label",
        "format", "related", "identifier"}


def test_metadata_in_xml_is_refused_with_406(fhir):
    response = fhir.get("/fhir/metadata", headers={"Accept": "application/fhir+xml"})
    assert response.status_code == 406
    assert fhir_json(response)["issue"][0]["code"] == "not-supported"

    assert fhir.get("/fhir/metadata", {"_format": "xml"}).status_code == 406
    assert fhir.get("/fhir/metadata", {"_format": "json"}, headers={"Accept": "*/*"}).status_code == 200
    assert fhir.get("/fhir/metadata", headers={"Accept": "application/json"}).status_code == 200
