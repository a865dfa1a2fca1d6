"""Errors are OperationOutcomes with the right status: strict parameters, bad values, methods, routes."""

import pytest

from .conftest import fhir_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(family, client_for):
    return client_for(family.holder())


def test_an_unknown_parameter_is_a_400_naming_it(client):
    response = client.get("/fhir/DocumentReference", {"_sort": "date", "type": "11488-4"})

    assert response.status_code == 400
    issue = fhir_json(response)["issue"][0]
    assert issue["code"] == "not-supported"
    assert issue["expression"] == ["_sort"]
    assert "_sort" in issue["diagnostics"]


def test_lenient_handling_ignores_it_and_says_so(client):
    response = client.get("/fhir/DocumentReference", {"_sort": "date"}, headers={"Prefer": "handling=lenient"})

    assert response.status_code == 200
    bundle = fhir_json(response)
    assert bundle["total"] == 0
    outcome = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert "_sort" in outcome[0]["resource"]["issue"][0]["diagnostics"]
    assert "_sort" not in next(link["url"] for link in bundle["link"] if link["relation"] == "self")


@pytest.mark.parametrize("value", ["2024-13-01", "yesterday", "sa2024", "2024-02-30", "ge"])
def test_a_bad_date_is_a_400_naming_the_parameter(client, value):
    response = client.get("/fhir/DocumentReference", {"date": value})

    assert response.status_code == 400
    issue = fhir_json(response)["issue"][0]
    assert issue["code"] == "invalid" and issue["expression"] == ["date"]


@pytest.mark.parametrize("params", [{"_count": "-1"}, {"_count": "many"}, {"_page": "0"}])
def test_bad_paging_values_are_a_400(client, params):
    response = client.get("/fhir/Patient", params)
    assert response.status_code == 400
    assert fhir_json(response)["issue"][0]["expression"] == list(params)


def test_post_is_a_405(client):
    # POST /fhir/ (ITI-65) and /fhir/DocumentReference (ITI-105) are writes now: see test_iti65.py, test_iti105.py
    for path in ("/fhir/Patient", "/fhir/Patient/00000000-0000-4000-8000-000000000000", "/fhir/metadata"):
        response = client.post(path, {"resourceType": "DocumentReference"})
        assert response.status_code == 405, path
        assert response["Allow"] == "GET, HEAD"
        assert fhir_json(response)["issue"][0]["code"] == "not-supported"


def test_unknown_types_and_routes_are_fhir_404s(client):
    for path in ("/fhir/Encounter", "/fhir/Encounter/1", "/fhir/Patient/1/_history", "/fhir/"):
        response = client.get(path)
        assert response.status_code == 404, path
        fhir_json(response)


def test_xml_is_refused_on_search(client):
    response = client.get("/fhir/Patient", {"_format": "application/fhir+xml"})
    assert response.status_code == 406
    fhir_json(response)


def test_several_patients_in_one_search_is_a_400(client):
    response = client.get("/fhir/DocumentReference", {"patient": "a,b"})
    assert response.status_code == 400
    fhir_json(response)
