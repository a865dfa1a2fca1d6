"""Profiles, child activation, representatives and invitations through the API."""

import pytest

from carnet.identity.enums import RepresentationStatus, SpaceStatus
from carnet.identity.models import Representation
from carnet.sharing.models import AccessEvent
from tests.api.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def parent_and_child(family):
    parent = family.holder()
    child = family.person(age=8, parent=parent.person, family_name=parent.person.family_name)
    return parent, child


def activate(client, child):
    return client.post(f"/api/profiles/{child.uuid}/activate", {"certify": True})


def test_parent_activates_child_and_lists_it(parent_and_child):
    parent, child = parent_and_child
    client = sign_in(parent)

    before = client.get("/api/profiles").json()
    assert [(p["relation"], p["can_activate"]) for p in before] == [
        ("holder", False), ("attached_parent", True)]
    assert before[1]["id"] == str(child.uuid)

    response = activate(client, child)
    assert response.status_code == 200, response.content
    assert response.json()["kind"] == "attached_parent"

    after = client.get("/api/profiles").json()
    assert [(p["id"], p["relation"], p["status"], p["can_activate"]) for p in after] == [
        (str(parent.person.uuid), "holder", "active", False),
        (str(child.uuid), "attached_parent", "active", False),
    ]


def test_activation_needs_the_certification(parent_and_child):
    parent, child = parent_and_child
    response = sign_in(parent).post(f"/api/profiles/{child.uuid}/activate", {"certify": False})

    assert response.status_code == 400
    assert response.json()["field"] == "certify"
    child.refresh_from_db()
    assert child.status == SpaceStatus.NOTIFIED


def test_a_stranger_cannot_activate_someone_elses_child(family, parent_and_child):
    _parent, child = parent_and_child
    stranger = family.holder()

    response = activate(sign_in(stranger), child)

    assert response.status_code == 404
    assert AccessEvent.objects.filter(person=child, actor=stranger.person, allowed=False).exists()
    child.refresh_from_db()
    assert child.status == SpaceStatus.NOTIFIED


def test_a_strangers_view_of_representatives_is_a_404_and_recorded(family, parent_and_child):
    parent, child = parent_and_child
    activate(sign_in(parent), child)
    stranger = family.holder()
    client = sign_in(stranger)

    response = client.get(f"/api/profiles/{child.uuid}/representatives")
    unknown = client.get("/api/profiles/00000000-0000-4000-8000-000000000000/representatives")

    assert response.status_code == unknown.status_code == 404
    assert response.content == unknown.content
    event = AccessEvent.objects.get(person=child, actor=stranger.person)
    assert (event.allowed, event.action, event.reason) == (False, "space.view", "no_relationship")


def test_the_parent_sees_the_representatives(parent_and_child):
    parent, child = parent_and_child
    client = sign_in(parent)
    activate(client, child)

    response = client.get(f"/api/profiles/{child.uuid}/representatives")

    assert response.status_code == 200
    [row] = response.json()
    assert (row["kind"], row["status"], row["is_me"]) == ("attached_parent", "accepted", True)


def test_invite_accept_and_leave(family, parent_and_child):
    parent, child = parent_and_child
    other = family.holder()
    parent_client, other_client = sign_in(parent), sign_in(other)
    activate(parent_client, child)

    response = parent_client.post(f"/api/profiles/{child.uuid}/representatives", {
        "nir": other.person.nir, "family_name": other.person.family_name,
        "given_name": other.person.first_name, "birth_date": other.person.birth_date.isoformat(),
        "kind": "legal_representative",
    })
    assert response.status_code == 201, response.content
    invitation_id = response.json()["id"]

    [invitation] = other_client.get("/api/invitations").json()
    assert invitation["id"] == invitation_id
    assert invitation["profile"]["id"] == str(child.uuid)
    assert other_client.post(f"/api/invitations/{invitation_id}/accept").status_code == 200
    profiles = other_client.get("/api/profiles").json()
    assert [(p["id"], p["relation"]) for p in profiles][1] == (str(child.uuid), "legal_representative")

    assert other_client.delete(f"/api/representations/{invitation_id}").status_code == 204
    assert Representation.objects.get(uuid=invitation_id).status == RepresentationStatus.ENDED
    assert len(other_client.get("/api/profiles").json()) == 1


def test_an_invitation_to_someone_else_is_a_404(family, parent_and_child):
    parent, child = parent_and_child
    other, stranger = family.holder(), family.holder()
    parent_client = sign_in(parent)
    activate(parent_client, child)
    invitation_id = parent_client.post(f"/api/profiles/{child.uuid}/representatives", {
        "nir": other.person.nir, "family_name": other.person.family_name,
        "given_name": other.person.first_name, "birth_date": other.person.birth_date.isoformat(),
        "kind": "guardian",
    }).json()["id"]

    assert sign_in(stranger).post(f"/api/invitations/{invitation_id}/accept").status_code == 404
    assert Representation.objects.get(uuid=invitation_id).status == RepresentationStatus.INVITED


def test_a_stranger_cannot_invite_or_end_representations(family, parent_and_child):
    parent, child = parent_and_child
    activate(sign_in(parent), child)
    stranger = family.holder()
    client = sign_in(stranger)
    representation = Representation.objects.get(person=child)

    invite = client.post(f"/api/profiles/{child.uuid}/representatives", {
        "nir": stranger.person.nir, "family_name": stranger.person.family_name,
        "given_name": stranger.person.first_name, "birth_date": stranger.person.birth_date.isoformat(),
        "kind": "guardian",
    })
    end = client.delete(f"/api/representations/{representation.uuid}")

    assert invite.status_code == end.status_code == 404
    representation.refresh_from_db()
    assert representation.status == RepresentationStatus.ACCEPTED
    assert AccessEvent.objects.filter(person=child, actor=stranger.person, allowed=False).count() == 2


def test_a_related_but_refused_act_is_a_403_with_the_policy_reason(family):
    parent = family.holder()
    grown_up = family.person(age=19, parent=parent.person)

    response = activate(sign_in(parent), grown_up)

    assert response.status_code == 403
    assert response.json() == {"detail": "Ce profil n'est plus celui d'un mineur.", "field": ""}
