"""A professional's DocumentReference search asks each policy question once (bench/sharing.py measures why it
matters): the space decision and the document list share the block and authorisation lookups of one request
(`policy.remembering`), and nothing is remembered outside a request or from one request to the next."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carnet.sharing import policy
from carnet.sharing.models import AccessEvent, Authorisation, Block, Professional
from carnet.sharing.tokens import issue_professional_token

from .conftest import FhirClient, fhir_json
from .test_professional_access import doc

pytestmark = pytest.mark.django_db
_rpps = itertools.count(30000000001)


def pro() -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name="Martin", given_names="Claire",
                                       profession_code="10")


def tables(captured, name: str) -> int:
    return sum(1 for q in captured.captured_queries if f'"{name}"' in q["sql"])


def test_a_search_asks_blocks_and_authorisations_once_and_writes_one_event(family):
    person = family.holder().person
    dr = pro()
    Authorisation.objects.create(person=person, professional=dr, granted_by=person)
    doc(person, "11488-4")
    doc(person, "11488-4", masked=True)
    _row, token = issue_professional_token(dr)
    client = FhirClient(token)

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/fhir/DocumentReference", {"patient": f"Patient/{person.uuid}"})

    assert response.status_code == 200 and fhir_json(response)["total"] == 1
    assert tables(captured, "sharing_block") == 1
    assert tables(captured, "sharing_authorisation") == 1
    assert tables(captured, "sharing_carerole") == 1
    assert AccessEvent.objects.filter(person=person, professional=dr).count() == 1


def test_a_block_between_two_requests_is_seen_by_the_second(family):
    person = family.holder().person
    dr = pro()
    Authorisation.objects.create(person=person, professional=dr, granted_by=person)
    _row, token = issue_professional_token(dr)
    client = FhirClient(token)
    assert client.get("/fhir/DocumentReference", {"patient": str(person.uuid)}).status_code == 200

    Block.objects.create(person=person, professional=dr, blocked_by=person)

    assert client.get("/fhir/DocumentReference", {"patient": str(person.uuid)}).status_code == 403


def test_answers_are_remembered_only_inside_remembering(family):
    person = family.holder().person
    dr = pro()
    with CaptureQueriesContext(connection) as outside:
        policy.is_blocked(person, dr)
        policy.is_blocked(person, dr)
    with policy.remembering(), CaptureQueriesContext(connection) as inside:
        policy.is_blocked(person, dr)
        policy.is_blocked(person, dr)
        roles = policy.roles_of(person, dr)
        roles.add("changed by the caller")
        assert policy.roles_of(person, dr) == set()  # a copy each time: callers cannot alter the answer
    assert tables(outside, "sharing_block") == 2
    assert tables(inside, "sharing_block") == 1
