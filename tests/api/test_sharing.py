"""Patient API, sharing: directory search (words in the body), authorisations (grant, end date, revoke),
blocks, roles; a represented child's sharing with ?person=; strangers get 404 and are traced."""

import datetime as dt
import itertools

import pytest

from carnet.common.dates import today
from carnet.sharing.models import AccessEvent, Authorisation, CareRole, CareTeam, Professional
from carnet.sharing.policy import Action, decide
from tests.api.conftest import sign_in

pytestmark = pytest.mark.django_db
_rpps = itertools.count(40000000001)


def pro(profession="10", family_name="Martin", given_names="Claire") -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name=family_name, given_names=given_names,
                                       profession_code=profession)


@pytest.fixture
def holder(family):
    account = family.holder()
    return sign_in(account), account.person


def test_search_then_grant_with_an_end_date_then_change_and_revoke(holder):
    client, me = holder
    doctor = pro("10", "Dupont", "Marie")
    response = client.post("/api/sharing/directory/search", {"name": "dupo", "profession": "10"})
    assert response.status_code == 200, response.content
    [found] = response.json()["professionals"]
    assert found["id"] == str(doctor.uuid) and found["profession_label"]

    until = today() + dt.timedelta(days=30)
    response = client.post("/api/sharing/authorisations", {"professional": found["id"], "until": until.isoformat()})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["grantee"] == "professional" and body["until"] == until.isoformat()
    assert decide(doctor, Action.READ_RECORD, me).allowed

    listed = client.get("/api/sharing/authorisations").json()
    assert [a["id"] for a in listed] == [body["id"]]

    response = client.put(f"/api/sharing/authorisations/{body['id']}/expiry", {"until": None})
    assert response.status_code == 200 and response.json()["until"] is None

    response = client.put(f"/api/sharing/authorisations/{body['id']}/expiry", {"until": "2000-01-01"})
    assert response.status_code == 400 and response.json()["field"] == "until"

    assert client.delete(f"/api/sharing/authorisations/{body['id']}").status_code == 204
    assert not decide(doctor, Action.READ_RECORD, me).allowed
    assert client.get("/api/sharing/authorisations").json() == []
    assert list(AccessEvent.objects.filter(person=me, action__startswith="sharing.").order_by("sequence")
                .values_list("action", flat=True)) == ["sharing.authorise", "sharing.expiry", "sharing.revoke"]


def test_a_care_team_is_found_and_authorised(holder):
    client, me = holder
    team = CareTeam.objects.create(name="Maison de santé des Tilleuls")
    response = client.post("/api/sharing/directory/search", {"kind": "care_team", "name": "tilleuls"})
    assert response.json()["care_teams"] == [{"id": str(team.uuid), "name": team.name}]
    response = client.post("/api/sharing/authorisations", {"care_team": str(team.uuid)})
    assert response.status_code == 201 and response.json()["care_team"]["name"] == team.name


def test_grant_needs_exactly_one_grantee(holder):
    client, _me = holder
    response = client.post("/api/sharing/authorisations", {"until": None})
    assert response.status_code == 400
    response = client.post("/api/sharing/authorisations",
                           {"professional": str(pro().uuid), "care_team": str(CareTeam.objects.create(name="x").uuid)})
    assert response.status_code == 400


def test_block_and_unblock(holder):
    client, me = holder
    doctor = pro()
    client.post("/api/sharing/authorisations", {"professional": str(doctor.uuid)})
    response = client.post("/api/sharing/blocks", {"professional": str(doctor.uuid)})
    assert response.status_code == 201, response.content
    assert decide(doctor, Action.READ_RECORD, me).reason == "blocked"
    assert client.get("/api/sharing/authorisations").json() == []  # the direct one is revoked
    [row] = client.get("/api/sharing/blocks").json()
    assert client.post("/api/sharing/blocks", {"professional": str(doctor.uuid)}).status_code == 400
    assert client.delete(f"/api/sharing/blocks/{row['id']}").status_code == 204
    assert client.get("/api/sharing/blocks").json() == []
    assert client.delete(f"/api/sharing/blocks/{row['id']}").status_code == 404


def test_roles_one_medecin_traitant_and_profession_checked(holder):
    client, me = holder
    first, second, nurse = pro(), pro(), pro("60")
    response = client.post("/api/sharing/roles", {"professional": str(nurse.uuid), "kind": "medecin_traitant"})
    assert response.status_code == 400 and "médecin" in response.json()["detail"]
    response = client.post("/api/sharing/roles", {"professional": str(first.uuid), "kind": "medecin_traitant"})
    assert response.status_code == 201, response.content
    client.post("/api/sharing/roles", {"professional": str(second.uuid), "kind": "medecin_traitant"})
    roles = client.get("/api/sharing/roles").json()
    assert [(r["kind"], r["professional"]["id"]) for r in roles] == [("medecin_traitant", str(second.uuid))]
    assert client.delete(f"/api/sharing/roles/{roles[0]['id']}").status_code == 204
    assert not CareRole.objects.filter(person=me, ended_at__isnull=True).exists()
    assert client.post("/api/sharing/roles", {"professional": str(first.uuid), "kind": "chef"}).status_code in (400,
                                                                                                                422)


def test_a_parent_manages_a_childs_sharing(represented_child):
    parent, child = represented_child
    client = sign_in(parent)
    doctor = pro()
    response = client.post(f"/api/sharing/authorisations?person={child.uuid}", {"professional": str(doctor.uuid)})
    assert response.status_code == 201, response.content
    assert Authorisation.objects.get(professional=doctor).person == child
    assert len(client.get("/api/sharing/authorisations", {"person": str(child.uuid)}).json()) == 1
    assert client.get("/api/sharing/authorisations").json() == []


def test_a_stranger_gets_404_and_the_denial_is_recorded(holder, family):
    client, _me = holder
    other = family.person(status="active")
    response = client.post(f"/api/sharing/authorisations?person={other.uuid}", {"professional": str(pro().uuid)})
    assert response.status_code == 404
    assert client.get("/api/sharing/roles", {"person": str(other.uuid)}).status_code == 404
    assert not Authorisation.objects.filter(person=other).exists()
    assert AccessEvent.objects.filter(person=other, allowed=False, action="sharing.manage").count() == 2


def test_search_words_are_refused_in_the_query_string(holder):
    client, _me = holder
    assert client.get("/api/sharing/directory/search", {"name": "dupont"}).status_code == 405
    assert client.post("/api/sharing/directory/search", {"name": "d"}).status_code == 400


def test_sign_in_required(api):
    assert api.get("/api/sharing/authorisations").status_code == 401
    assert api.post("/api/sharing/directory/search", {"name": "dupont"}).status_code == 401
