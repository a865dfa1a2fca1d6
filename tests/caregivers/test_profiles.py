"""Profile switching: a caregiver switches to a helped person's space like a representative does; the policy is
asked again on every request, so an ended delegation takes effect at once."""

import pytest
from django.test import Client
from django.urls import reverse

from carnet.caregivers import actions
from carnet.identity.enums import SpaceStatus
from tests.portal.helpers import post_form, sign_in

from .conftest import accepted, invite

pytestmark = pytest.mark.django_db


def home(client):
    return client.get(reverse("portal:home"))


def switch(client, person):
    page = reverse("portal:family")
    return post_form(client, page, {"profile": str(person.uuid)}, action=reverse("portal:switch_profile"))


@pytest.fixture
def client(caregiver):
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, caregiver.account)
    return browser


def test_helped_persons_are_offered_in_the_switch_once_accepted(family, client, caregiver):
    first, second = family.holder(age=81).person, family.holder(age=79).person
    accepted(first, caregiver)
    accepted(second, caregiver)
    invite(family.holder(age=77).person, caregiver)  # pending: not a profile yet
    profiles = home(client).context["profiles"]
    assert profiles[0] == caregiver
    assert set(profiles[1:]) == {first, second}


def test_a_person_both_representing_and_helping_someone_sees_them_once(family, client, caregiver):
    from carnet.identity.enums import RepresentationKind, RepresentationStatus
    from carnet.identity.models import Representation

    protected = family.holder(age=60).person
    Representation.objects.create(person=protected, representative=caregiver, kind=RepresentationKind.GUARDIAN,
                                  status=RepresentationStatus.ACCEPTED)
    accepted(protected, caregiver)
    profiles = home(client).context["profiles"]
    assert [p.pk for p in profiles] == [caregiver.pk, protected.pk]


def test_the_role_shown_is_caregiver_and_reverts_when_the_delegation_ends(client, holder, caregiver, delegation):
    assert switch(client, holder).status_code == 302
    response = home(client)
    assert response.context["profile"] == holder and response.context["profile_role"] == "caregiver"
    actions.end_delegation(holder, delegation.uuid)
    response = home(client)
    assert response.context["profile"] == caregiver and response.context["profile_role"] == "holder"


def test_a_helped_space_that_is_closed_is_not_offered(client, holder, caregiver, delegation):
    holder.status = SpaceStatus.ARCHIVED
    holder.save()
    assert holder not in home(client).context["profiles"]
    assert switch(client, holder).status_code == 404
