"""Mes proches: activating an attached child's profile, switching profile, inviting a second legal
representative, answering invitations, leaving or removing a representation, and the traces left."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from carnet.identity.enums import RepresentationKind, RepresentationStatus, SpaceStatus
from carnet.identity.models import Account, Representation
from carnet.notifications.models import Notification
from carnet.sharing.models import AccessEvent

from .helpers import post_form, sign_in

pytestmark = pytest.mark.django_db

FAMILY = reverse("portal:family")


@pytest.fixture
def parent(family) -> Account:
    return family.holder(age=38)


@pytest.fixture
def child(family, parent):
    """A minor attached to `parent` in the registry, whose space exists but is not activated."""
    return family.person(age=7, parent=parent.person, status=SpaceStatus.CREATED)


def browser_for(account: Account) -> Client:
    client = Client(enforce_csrf_checks=True)
    sign_in(client, account)
    return client


@pytest.fixture
def parent_browser(parent) -> Client:
    return browser_for(parent)


def activate(client, child, certify=True):
    data = {"certify": "on"} if certify else {}
    return post_form(client, FAMILY, data, action=reverse("portal:activate_child", args=[child.uuid]))


def switch(client, person):
    return post_form(client, FAMILY, {"profile": str(person.uuid)}, action=reverse("portal:switch_profile"))


def invite(client, child, invitee, kind=RepresentationKind.LEGAL_REPRESENTATIVE, **overrides):
    person = invitee.person
    data = {
        "child": str(child.uuid), "kind": kind, "nir": person.nir, "family_name": person.family_name,
        "given_name": person.first_name, "birth_date": person.birth_date.isoformat(), **overrides,
    }
    return post_form(client, FAMILY, data, action=reverse("portal:invite_representative"))


def respond(client, representation, decision):
    return post_form(client, FAMILY, {"decision": decision},
                     action=reverse("portal:respond_invitation", args=[representation.uuid]))


def end(client, representation):
    url = reverse("portal:end_representation", args=[representation.uuid])
    return post_form(client, FAMILY, {}, action=url)


@pytest.fixture
def activated(parent_browser, child):
    assert activate(parent_browser, child).status_code == 302
    child.refresh_from_db()
    return child


@pytest.mark.parametrize("method,name,args", [
    ("get", "family", []),
    ("post", "switch_profile", []),
    ("post", "activate_child", [uuid.uuid4()]),
    ("post", "invite_representative", []),
    ("post", "respond_invitation", [uuid.uuid4()]),
    ("post", "end_representation", [uuid.uuid4()]),
])
def test_anonymous_visitor_is_sent_to_login(client, method, name, args):
    response = getattr(client, method)(reverse(f"portal:{name}", args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_family_page_offers_activation_for_attached_minors_only(parent_browser, parent, family, child):
    adult = family.person(age=20, parent=parent.person, status=SpaceStatus.CREATED)
    response = parent_browser.get(FAMILY)
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<h1") == 1
    assert child.full_name in page and adult.full_name in page
    assert reverse("portal:activate_child", args=[child.uuid]) in page
    assert reverse("portal:activate_child", args=[adult.uuid]) not in page
    assert "Je certifie être le représentant légal" in page


def test_parent_activates_attached_child(parent_browser, parent, child):
    response = activate(parent_browser, child)
    assert response.status_code == 302
    assert response["Location"] == FAMILY
    child.refresh_from_db()
    assert child.status == SpaceStatus.ACTIVE
    representation = Representation.objects.get(person=child, representative=parent.person)
    assert representation.status == RepresentationStatus.ACCEPTED
    assert representation.kind == RepresentationKind.ATTACHED_PARENT
    assert AccessEvent.objects.filter(person=child, actor=parent.person, action="space.activate").exists()
    page = parent_browser.get(FAMILY).content.decode()
    assert reverse("portal:activate_child", args=[child.uuid]) not in page
    assert "Vous gérez ce profil" in page


def test_activation_requires_the_certification(parent_browser, child):
    response = activate(parent_browser, child, certify=False)
    assert response.status_code == 200
    assert "Vous devez certifier" in response.content.decode()
    child.refresh_from_db()
    assert child.status == SpaceStatus.CREATED
    assert not Representation.objects.filter(person=child).exists()


def test_stranger_cannot_activate_someone_elses_child(family, child):
    stranger = family.holder()
    response = activate(browser_for(stranger), child)
    assert response.status_code == 404
    child.refresh_from_db()
    assert child.status == SpaceStatus.CREATED
    assert not Representation.objects.filter(person=child).exists()
    denial = AccessEvent.objects.get(person=child, actor=stranger.person)
    assert denial.allowed is False
    assert denial.action == "profile.activate"


def test_switch_to_represented_child_and_back(parent_browser, parent, activated):
    response = switch(parent_browser, activated)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert parent_browser.session["acting_for"] == str(activated.uuid)
    history = parent_browser.get(reverse("portal:history"))
    assert history.context["profile"] == activated
    switch(parent_browser, parent.person)
    assert "acting_for" not in parent_browser.session


def test_switching_to_an_unrepresented_person_is_404_and_traced(parent_browser, parent, family):
    neighbour = family.holder().person
    response = switch(parent_browser, neighbour)
    assert response.status_code == 404
    assert "acting_for" not in parent_browser.session
    denial = AccessEvent.objects.get(person=neighbour, actor=parent.person)
    assert (denial.allowed, denial.action) == (False, "space.view")


def test_switching_to_an_unknown_uuid_is_404(parent_browser):
    response = post_form(parent_browser, FAMILY, {"profile": str(uuid.uuid4())},
                         action=reverse("portal:switch_profile"))
    assert response.status_code == 404


def test_invited_second_representative_accepts_and_can_switch(parent_browser, activated, family):
    other = family.holder(age=36)
    response = invite(parent_browser, activated, other)
    assert response.status_code == 302
    invitation = Representation.objects.get(person=activated, representative=other.person)
    assert invitation.status == RepresentationStatus.INVITED
    assert "Invitation en attente" in parent_browser.get(FAMILY).content.decode()

    other_browser = browser_for(other)
    assert Notification.objects.filter(person=other.person, code="INVIT_ACCES_SECOND_RL").exists()
    page = other_browser.get(FAMILY).content.decode()
    assert reverse("portal:respond_invitation", args=[invitation.uuid]) in page
    assert switch(other_browser, activated).status_code == 404  # not before accepting

    assert respond(other_browser, invitation, "accept").status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == RepresentationStatus.ACCEPTED
    assert switch(other_browser, activated).status_code == 302
    assert other_browser.session["acting_for"] == str(activated.uuid)


def test_invited_person_refuses(parent_browser, activated, family):
    other = family.holder(age=36)
    invite(parent_browser, activated, other)
    invitation = Representation.objects.get(person=activated, representative=other.person)
    other_browser = browser_for(other)
    assert respond(other_browser, invitation, "refuse").status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == RepresentationStatus.REFUSED
    assert switch(other_browser, activated).status_code == 404
    assert Notification.objects.filter(code="REFUS_PARTAGE_PROFIL").exists()


def test_invitation_with_wrong_identity_shows_the_error_on_the_form(parent_browser, activated, family):
    other = family.holder(age=36)
    response = invite(parent_browser, activated, other, family_name="Personne")
    assert response.status_code == 200
    assert "Aucun espace santé actif ne correspond" in response.content.decode()
    assert not Representation.objects.filter(person=activated, representative=other.person).exists()


def test_invitation_with_an_invalid_nir_is_refused_by_the_form(parent_browser, activated, family):
    response = invite(parent_browser, activated, family.holder(age=36), nir="1 23")
    assert response.status_code == 200
    assert "NIR invalide" in response.content.decode()
    assert Representation.objects.filter(person=activated).count() == 1


def test_a_stranger_cannot_invite_for_a_child(activated, family):
    stranger = family.holder()
    other = family.holder(age=36)
    response = invite(browser_for(stranger), activated, other)
    assert response.status_code == 404
    assert not Representation.objects.filter(person=activated, representative=other.person).exists()
    assert AccessEvent.objects.filter(person=activated, actor=stranger.person, allowed=False).exists()


def test_respond_to_someone_elses_invitation_does_nothing(parent_browser, activated, family):
    other = family.holder(age=36)
    invite(parent_browser, activated, other)
    invitation = Representation.objects.get(person=activated, representative=other.person)
    response = respond(browser_for(family.holder()), invitation, "accept")
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == RepresentationStatus.INVITED


def test_parent_removes_second_representative_who_loses_access(parent_browser, activated, family):
    other = family.holder(age=36)
    invite(parent_browser, activated, other)
    invitation = Representation.objects.get(person=activated, representative=other.person)
    other_browser = browser_for(other)
    respond(other_browser, invitation, "accept")
    switch(other_browser, activated)

    response = end(parent_browser, invitation)
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == RepresentationStatus.ENDED
    assert other_browser.get(reverse("portal:history")).context["profile"] == other.person
    assert switch(other_browser, activated).status_code == 404


def test_second_representative_cannot_remove_the_attached_parent(parent_browser, parent, activated, family):
    other = family.holder(age=36)
    invite(parent_browser, activated, other)
    invitation = Representation.objects.get(person=activated, representative=other.person)
    other_browser = browser_for(other)
    respond(other_browser, invitation, "accept")
    attached = Representation.objects.get(person=activated, representative=parent.person)
    response = end(other_browser, attached)
    assert response.status_code == 302
    attached.refresh_from_db()
    assert attached.status == RepresentationStatus.ACCEPTED


def test_representative_leaves_a_profile(parent_browser, parent, activated):
    switch(parent_browser, activated)
    mine = Representation.objects.get(person=activated, representative=parent.person)
    response = end(parent_browser, mine)
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == RepresentationStatus.ENDED
    assert "acting_for" not in parent_browser.session


def test_stranger_cannot_end_a_representation(activated, parent, family):
    stranger = family.holder()
    mine = Representation.objects.get(person=activated, representative=parent.person)
    response = end(browser_for(stranger), mine)
    assert response.status_code == 404
    mine.refresh_from_db()
    assert mine.status == RepresentationStatus.ACCEPTED


def test_child_history_shows_the_parents_actions(parent_browser, activated, family):
    invite(parent_browser, activated, family.holder(age=36))
    switch(parent_browser, activated)
    response = parent_browser.get(reverse("portal:history"))
    page = response.content.decode()
    assert response.context["profile"] == activated
    assert activated.full_name in page
    assert "Activation de l&#x27;espace" in page or "Activation de l'espace" in page
    assert "Invitation d&#x27;un représentant légal" in page or "Invitation d'un représentant légal" in page
    assert "Représentant légal" in page
    assert "Vous" in page
    assert "Intégrité vérifiée" in page
