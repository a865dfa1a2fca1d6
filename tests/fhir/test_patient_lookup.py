"""Space existence check as PDSm/DMP software does it: GET /fhir/Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|<INS>
(docs/decisions/0011-patient-lookup.md). `active` says whether the space is open; a professional who never had a
relationship with the space learns "open" or nothing (an unknown INS and a space that is not open get the same
empty answer); every lookup that names a person is an access event on their space, denials included."""

import itertools
from urllib.parse import urlencode

import pytest

from carnet.fhir import mapping
from carnet.identity import throttle
from carnet.identity.enums import SpaceStatus
from carnet.pro.services import SEARCH_ATTEMPTS, SEARCH_SCOPE
from carnet.sharing.models import AccessEvent, Authorisation, Block, Professional
from carnet.sharing.tokens import issue_professional_token

from .conftest import FhirClient, fhir_json
from .test_iti67 import other_ins

pytestmark = pytest.mark.django_db
_rpps = itertools.count(50000000001)


def pro(profession: str = "10") -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name="Petit", given_names="Anne",
                                       profession_code=profession)


def client_of(professional: Professional) -> FhirClient:
    _row, token = issue_professional_token(professional)
    return FhirClient(token)


def lookup(client, nir: str, **params):
    response = client.get("/fhir/Patient", {"identifier": f"{mapping.INS_SYSTEM}|{nir}", **params})
    assert response.status_code == 200, response.content
    return fhir_json(response)


def patients(bundle) -> list[dict]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def lookups(person, professional) -> list[tuple]:
    return [(e.action, e.allowed, e.reason, e.subject)
            for e in AccessEvent.objects.filter(person=person, professional=professional).order_by("sequence")]


def test_an_open_space_answers_active_with_the_ins_only_and_is_traced(family):
    person = family.holder().person
    dr = pro()
    bundle = lookup(client_of(dr), person.nir)

    [patient] = patients(bundle)
    assert bundle["total"] == 1
    assert (patient["id"], patient["active"]) == (str(person.uuid), True)
    assert patient["identifier"][0]["system"] == mapping.INS_SYSTEM and patient["identifier"][0]["value"] == person.nir
    assert "name" not in patient and "birthDate" not in patient  # no traits for an INS alone and no relationship
    assert lookups(person, dr) == [("patient.lookup", True, "care_writer", "lookup:Patient")]


def test_a_space_created_but_not_yet_activated_is_open_to_filing(family):
    """CREATED (the opposition window is over, the holder has not activated yet): professionals may file, so the
    check answers `active: true`, as it answers the filing question (decision 0011)."""
    person = family.person(status=SpaceStatus.CREATED)
    dr = pro()
    bundle = lookup(client_of(dr), person.nir)
    assert bundle["total"] == 1
    assert bundle["entry"][0]["resource"]["active"] is True
    assert lookups(person, dr) == [("patient.lookup", True, "care_writer", "lookup:Patient")]


@pytest.mark.parametrize("status", [SpaceStatus.NOTIFIED, SpaceStatus.ARCHIVED, SpaceStatus.DESTROYED])
def test_a_space_that_is_not_open_looks_like_an_unknown_ins_to_a_stranger_but_is_traced(family, status):
    person = family.person(status=status)
    dr = pro()
    client = client_of(dr)

    hidden = lookup(client, person.nir)
    unknown = lookup(client, other_ins(person))

    assert hidden["total"] == unknown["total"] == 0
    assert "entry" not in hidden and "entry" not in unknown
    assert lookups(person, dr) == [("patient.lookup", False, "not_active", "lookup:Patient")]


def test_a_professional_who_knows_the_space_learns_that_it_is_closed(family):
    person = family.holder().person
    dr = pro()
    Authorisation.objects.create(person=person, professional=dr, granted_by=person)
    person.status = SpaceStatus.ARCHIVED
    person.save(update_fields=["status"])

    [patient] = patients(lookup(client_of(dr), person.nir))

    assert patient["active"] is False
    assert "name" not in patient
    assert lookups(person, dr) == [("patient.lookup", False, "not_active", "lookup:Patient")]


def test_an_authorised_professional_gets_the_identity(family):
    person = family.holder().person
    dr = pro()
    Authorisation.objects.create(person=person, professional=dr, granted_by=person)
    [patient] = patients(lookup(client_of(dr), person.nir))
    assert patient["active"] is True
    assert patient["name"][0]["family"] == person.family_name
    assert patient["birthDate"] == person.birth_date.isoformat()


def test_a_blocked_professional_gets_a_403_with_the_reason_and_it_is_traced(family):
    person = family.holder().person
    dr = pro()
    Block.objects.create(person=person, professional=dr, blocked_by=person)
    response = client_of(dr).get("/fhir/Patient", {"identifier": f"{mapping.INS_SYSTEM}|{person.nir}"})
    assert response.status_code == 403
    assert fhir_json(response)["issue"][0]["details"]["coding"][0]["code"] == "blocked"
    assert lookups(person, dr) == [("patient.lookup", False, "blocked", "lookup:Patient")]


def test_bad_identifiers_are_400_naming_the_parameter(family):
    person = family.holder().person
    client = client_of(pro())
    for value in (f"urn:oid:1.2.250.1.71.4.2.1|{person.nir}", person.nir, f"{mapping.INS_SYSTEM}|12345",
                  f"{mapping.INS_SYSTEM}|{person.nir[:13]}00" if person.nir[13:] != "00" else
                  f"{mapping.INS_SYSTEM}|{person.nir[:13]}01"):
        response = client.get("/fhir/Patient", {"identifier": value})
        assert response.status_code == 400, value
        assert fhir_json(response)["issue"][0]["expression"] == ["identifier"]
    two = client.get("/fhir/Patient", {"identifier": f"{mapping.INS_SYSTEM}|{person.nir},{mapping.INS_SYSTEM}|"
                                                     f"{other_ins(person)}"})
    assert two.status_code == 400
    assert not AccessEvent.objects.filter(person=person).exclude(professional=None).exists()


def test_unmatched_lookups_share_the_pro_portal_attempt_limit(family):
    person = family.holder().person
    dr = pro()
    client = client_of(dr)
    for _ in range(SEARCH_ATTEMPTS):
        assert lookup(client, other_ins(person))["total"] == 0

    locked = client.get("/fhir/Patient", {"identifier": f"{mapping.INS_SYSTEM}|{person.nir}"})

    assert locked.status_code == 429
    assert fhir_json(locked)["issue"][0]["code"] == "throttled"
    with pytest.raises(throttle.Locked):  # the pro portal's search is locked for this professional too
        throttle.check(SEARCH_SCOPE, dr.rpps)


def test_the_holder_finds_themself_by_ins_and_no_one_else(family, client_for):
    account = family.holder()
    other = family.holder().person
    client = client_for(account)
    [patient] = patients(lookup(client, account.person.nir))
    assert patient["id"] == str(account.person.uuid)
    assert lookup(client, other.nir)["total"] == 0


def test_the_same_lookup_by_post_search_keeps_the_ins_out_of_the_url(family):
    """`POST /fhir/Patient/_search` with a form body (FHIR R4 §3.1.1.5.7): the same answer and the same trace as the
    GET, with the INS in the body only (DESIGN.md §4: no NIR in a URL)."""
    person = family.holder().person
    dr = pro()
    client = client_of(dr)
    by_get = lookup(client, person.nir)
    body = urlencode({"identifier": f"{mapping.INS_SYSTEM}|{person.nir}"})
    response = client.client.post("/fhir/Patient/_search", body, content_type="application/x-www-form-urlencoded",
                                  headers=client._headers(None))
    assert response.status_code == 200, response.content
    by_post = fhir_json(response)
    assert patients(by_post) == patients(by_get) and by_post["total"] == 1
    assert lookups(person, dr) == [("patient.lookup", True, "care_writer", "lookup:Patient")] * 2


def test_post_search_wants_a_form_body_and_only_post(family):
    person = family.holder().person
    client = client_of(pro())
    as_json = client.post("/fhir/Patient/_search", {"identifier": f"{mapping.INS_SYSTEM}|{person.nir}"})
    assert as_json.status_code == 415 and fhir_json(as_json)["resourceType"] == "OperationOutcome"
    assert client.get("/fhir/Patient/_search").status_code == 405
    unknown = client.client.post("/fhir/Patient/_search", {"colour": "blue"}, headers=client._headers(None))
    assert unknown.status_code == 400 and fhir_json(unknown)["issue"][0]["expression"] == ["colour"]
