"""The CapabilityStatement at /fhir/metadata says exactly what is implemented: every declared search parameter is
accepted under strict handling, an undeclared one is refused (400 naming it), and every declared interaction answers
(a FHIR answer, never a 405 or an "unsupported interaction")."""

import json
import uuid

import pytest

from carnet.fhir import mapping

from .conftest import FHIR_JSON, add_pdf, fhir_json

pytestmark = pytest.mark.django_db
# A value of the right kind for each parameter type; some parameters have values that their own rules need.
BY_TYPE = {"date": "ge2020-01-01", "string": "x", "token": "x", "reference": "", "quantity": "1", "number": "1",
           "uri": "http://example.org"}
BY_NAME = {
    "_id": str(uuid.uuid4()), "status": "current", "setting": "AMBULATOIRE", "facility": "SA01",
    "security-label": "N", "format": "urn:ihe:iti:xds-sd:pdf:2008", "category": "10", "type": "11488-4",
    "gender": "female", "birthdate": "1984-02-29",
}


@pytest.fixture
def statement(fhir):
    return fhir_json(fhir.get("/fhir/metadata"))


def declared(statement) -> list[dict]:
    return statement["rest"][0]["resource"]


def test_every_declared_search_parameter_is_accepted(statement, family, client_for):
    account = family.holder()
    client = client_for(account)
    for resource in declared(statement):
        for param in resource.get("searchParam", []):
            name = param["name"]
            value = BY_NAME.get(name, BY_TYPE[param["type"]])
            if param["type"] == "reference":
                value = f"Patient/{account.person.uuid}"
            if name == "identifier" and resource["type"] == "Patient" or name == "patient.identifier":
                value = f"{mapping.INS_SYSTEM}|{account.person.nir}"
            query = {name: value}
            if resource["type"] == "Patient" and name in ("family", "given", "birthdate", "gender"):
                query = {"family": "x", "given": "x", "birthdate": "1984-02-29", name: value}
            response = client.get(f"/fhir/{resource['type']}", query)
            assert response.status_code == 200, (resource["type"], name, response.content)
            assert fhir_json(response)["type"] == "searchset"


def test_an_undeclared_parameter_is_refused_under_strict_handling(statement, family, client_for):
    client = client_for(family.holder())
    for resource in declared(statement):
        if not any(i["code"] == "search-type" for i in resource["interaction"]):
            continue
        response = client.get(f"/fhir/{resource['type']}", {"not-a-parameter": "1"})
        assert response.status_code == 400, resource["type"]
        issue = fhir_json(response)["issue"][0]
        assert (issue["code"], issue["expression"]) == ("not-supported", ["not-a-parameter"])
        lenient = client.get(f"/fhir/{resource['type']}", {"not-a-parameter": "1"},
                             headers={"Prefer": "handling=lenient"})
        assert lenient.status_code == 200, resource["type"]


def test_every_declared_interaction_answers(statement, family, client_for):
    account = family.holder()
    client = client_for(account)
    document = add_pdf(account.person, account.person)
    existing = {"Patient": account.person.uuid, "DocumentReference": document.uuid, "Binary": document.uuid}
    for resource in declared(statement):
        kind = resource["type"]
        for interaction in (i["code"] for i in resource["interaction"]):
            if interaction == "read":
                known = existing.get(kind)
                response = client.get(f"/fhir/{kind}/{known or uuid.uuid4()}", headers={"Accept": "*/*"})
                if known:
                    assert response.status_code == 200, (kind, response.content)
                else:  # an unknown id of a served type: "not found", not "unsupported type"
                    assert response.status_code == 404
                    assert fhir_json(response)["issue"][0]["code"] == "not-found", kind
            elif interaction == "search-type":
                assert client.get(f"/fhir/{kind}").status_code == 200, kind
            else:  # writes (IHE MHD / PDSm): an empty body is refused by their own rules, never as unsupported
                method, path = {"create": ("post", f"/fhir/{kind}"),
                                "patch": ("patch", f"/fhir/{kind}/{document.uuid}"),
                                "update": ("put", f"/fhir/{kind}/{document.uuid}")}[interaction]
                response = getattr(client.client, method)(path, json.dumps({}), content_type=FHIR_JSON,
                                                          headers=client._headers({}))
                assert response.status_code not in (404, 405), (kind, interaction, response.status_code)
                fhir_json(response)
    for interaction in statement["rest"][0].get("interaction", []):
        assert interaction["code"] == "transaction"
        response = client.client.post("/fhir/", json.dumps({}), content_type=FHIR_JSON, headers=client._headers({}))
        assert response.status_code not in (404, 405)
        fhir_json(response)
