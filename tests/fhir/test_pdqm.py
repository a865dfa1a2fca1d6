"""PDQm ITI-78 for professionals: GET /fhir/Patient by INS and traits, or by traits alone, with identity-vigilance
rules (the pro portal's `match_identity`): the birth name, first given name and birth date compared exactly once
accents, case and hyphens are folded, never a prefix; traits come complete or the search is a 400; at most one
Patient, a "multiple-matches" outcome when traits name several persons; spaces that are not open stay hidden from a
professional without a relationship (docs/decisions/0011-patient-lookup.md)."""

import datetime as dt
import itertools

import pytest

from carnet.fhir import mapping
from carnet.identity.enums import Sex, SpaceStatus
from carnet.sharing.models import AccessEvent, Professional
from carnet.sharing.tokens import issue_professional_token

from .conftest import FhirClient, fhir_json

pytestmark = pytest.mark.django_db
_rpps = itertools.count(60000000001)
BIRTH = dt.date(1984, 2, 29)


def client_of(professional: Professional) -> FhirClient:
    _row, token = issue_professional_token(professional)
    return FhirClient(token)


@pytest.fixture
def dr():
    return Professional.objects.create(rpps=str(next(_rpps)), family_name="Roux", given_names="Marc",
                                       profession_code="10")


@pytest.fixture
def helene(family):
    return family.holder(family_name="LEFÈVRE-DUPONT", given_names="Hélène Marie", birth_date=BIRTH,
                         sex=Sex.FEMALE).person


def search(client, **params):
    response = client.get("/fhir/Patient", params)
    assert response.status_code == 200, response.content
    return fhir_json(response)


def matches(bundle) -> list[dict]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def test_ins_and_traits_give_the_identity(dr, helene):
    bundle = search(client_of(dr), identifier=f"{mapping.INS_SYSTEM}|{helene.nir}", family="Lefevre Dupont",
                    given="helene", birthdate="1984-02-29", gender="female")
    [patient] = matches(bundle)
    assert (patient["id"], patient["active"], patient["birthDate"]) == (str(helene.uuid), True, "1984-02-29")
    assert patient["name"][0]["family"] == "LEFÈVRE-DUPONT"
    [event] = AccessEvent.objects.filter(person=helene, professional=dr)
    assert (event.action, event.allowed, event.subject) == ("patient.lookup", True, "lookup:Patient")


@pytest.mark.parametrize("wrong", [{"family": "Lefevre"}, {"given": "Marie"}, {"birthdate": "1984-03-01"},
                                   {"gender": "male"}])
def test_ins_with_a_trait_that_differs_matches_no_one(dr, helene, wrong):
    traits = {"family": "Lefèvre-Dupont", "given": "Hélène", "birthdate": "1984-02-29", **wrong}
    bundle = search(client_of(dr), identifier=f"{mapping.INS_SYSTEM}|{helene.nir}", **traits)
    assert bundle["total"] == 0 and "entry" not in bundle
    assert not AccessEvent.objects.filter(person=helene, professional=dr).exists()


def test_traits_alone_find_one_person_with_the_ins(dr, helene):
    [patient] = matches(search(client_of(dr), family="lefèvre dupont", given="HÉLÈNE", birthdate="1984-02-29"))
    assert patient["identifier"][0]["value"] == helene.nir
    assert matches(search(client_of(dr), family="Lefèvre", given="Hélène", birthdate="1984-02-29")) == []
    assert matches(search(client_of(dr), family="Lefèvre-Dupont", given="Hél", birthdate="1984-02-29")) == []


def test_traits_naming_several_persons_give_none_and_say_so(dr, helene, family):
    family.holder(family_name="Lefevre Dupont", given_names="Helene", birth_date=BIRTH, sex=Sex.FEMALE)
    bundle = search(client_of(dr), family="Lefèvre-Dupont", given="Hélène", birthdate="1984-02-29")
    assert bundle["total"] == 0 and matches(bundle) == []
    [outcome] = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome["issue"][0]["code"] == "multiple-matches"
    assert not AccessEvent.objects.filter(professional=dr).exists()  # nothing was disclosed of either
    # the gender tells them apart when it differs
    family.holder(family_name="Lefevre-Dupont", given_names="Helene", birth_date=BIRTH, sex=Sex.MALE)
    bundle = search(client_of(dr), family="Lefèvre-Dupont", given="Hélène", birthdate="1984-02-29", gender="male")
    assert len(matches(bundle)) == 1 and matches(bundle)[0]["gender"] == "male"


def test_a_space_that_is_not_open_stays_hidden_from_traits_search(dr, family):
    notified = family.person(family_name="Garnier", given_names="Louis", birth_date=BIRTH,
                             status=SpaceStatus.NOTIFIED)
    assert search(client_of(dr), family="Garnier", given="Louis", birthdate="1984-02-29")["total"] == 0
    [event] = AccessEvent.objects.filter(person=notified, professional=dr)
    assert (event.allowed, event.reason) == (False, "not_active")


@pytest.mark.parametrize(("params", "name"), [
    ({"family": "Roux", "given": "Marc"}, "birthdate"),
    ({"given": "Marc", "birthdate": "1984-02-29"}, "family"),
    ({"family": "Roux", "given": "Marc", "birthdate": "1984"}, "birthdate"),
    ({"family": "Roux", "given": "Marc", "birthdate": "ge1984-02-29"}, "birthdate"),
    ({"family": "Roux", "given": "Marc", "birthdate": "1984-02-29", "gender": "F"}, "gender"),
    ({"family": "Roux,Rousseau", "given": "Marc", "birthdate": "1984-02-29"}, "family"),
    ({"gender": "male"}, "family"),
])
def test_incomplete_or_fuzzy_identity_queries_are_400_naming_the_parameter(dr, params, name):
    response = client_of(dr).get("/fhir/Patient", params)
    assert response.status_code == 400
    assert fhir_json(response)["issue"][0]["expression"] == [name]


def test_the_holder_narrows_their_own_list_with_the_same_rules(family, client_for, helene):
    account = helene.account
    client = client_for(account)
    [patient] = matches(search(client, family="Lefevre-Dupont", given="Helene", birthdate="1984-02-29"))
    assert patient["id"] == str(helene.uuid)
    assert matches(search(client, family="Lefevre", given="Helene", birthdate="1984-02-29")) == []
