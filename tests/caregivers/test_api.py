"""The patient API resolves the acting person from the token and the space from `person`/`profile_id`,
through the policy: a caregiver reads and adds there, and every MANAGE_* endpoint refuses them (403)."""

import pytest

from carnet.sharing.models import AccessEvent
from tests.api.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(caregiver, delegation):
    return sign_in(caregiver.account)


def test_a_caregiver_lists_the_helped_persons_documents(api, holder):
    response = api.get("/api/documents", {"person": str(holder.uuid)})
    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["type_code"] == "DOCPAT09"  # the certificate
    assert AccessEvent.objects.filter(person=holder, actor_role="caregiver", action="record.read").exists()


@pytest.mark.parametrize("method,path", [
    ("get", "/api/sharing/authorisations"),
    ("get", "/api/sharing/blocks"),
    ("get", "/api/sharing/roles"),
])
def test_sharing_endpoints_refuse_a_caregiver(api, holder, method, path):
    response = getattr(api, method)(f"{path}?person={holder.uuid}")
    assert response.status_code == 403, response.content
    assert "aidant" in str(response.json()).lower()


def test_confidentiality_and_deletion_refuse_a_caregiver(api, holder, delegation):
    response = api.put(f"/api/confidentiality?person={holder.uuid}",
                       {"new_documents_masked": True, "care_history_masked": False, "apply_to_existing": False})
    assert response.status_code == 403, response.content
    certificate = delegation.certificate
    response = api.delete(f"/api/documents/{certificate.uuid}?person={holder.uuid}")
    assert response.status_code == 403, response.content
    certificate.refresh_from_db()
    assert certificate.status == "current"


def test_representative_endpoints_refuse_a_caregiver(api, holder, caregiver):
    response = api.post(f"/api/profiles/{holder.uuid}/representatives",
                        {"kind": "guardian", "nir": caregiver.nir, "family_name": caregiver.family_name,
                         "given_name": caregiver.first_name, "birth_date": caregiver.birth_date.isoformat()})
    assert response.status_code == 403, response.content


def _profiles(api) -> dict[str, str]:
    response = api.get("/api/profiles")
    assert response.status_code == 200, response.content
    return {row["id"]: row["relation"] for row in response.json()}


def test_profiles_list_the_helped_person_with_the_caregiver_role(family, api, holder, caregiver):
    from .conftest import invite

    invite(family.holder(age=77).person, caregiver)  # pending: not a profile yet
    assert _profiles(api) == {str(caregiver.uuid): "holder", str(holder.uuid): "caregiver"}


def test_profiles_drop_the_helped_person_once_the_delegation_ends(api, holder, caregiver, delegation):
    from carnet.caregivers import actions

    actions.end_delegation(holder, delegation.uuid)
    assert _profiles(api) == {str(caregiver.uuid): "holder"}


def test_profiles_show_a_person_both_represented_and_helped_once_as_represented(family, caregiver):
    from carnet.identity.enums import RepresentationKind, RepresentationStatus
    from carnet.identity.models import Representation

    from .conftest import accepted

    protected = family.holder(age=60).person
    Representation.objects.create(person=protected, representative=caregiver, kind=RepresentationKind.GUARDIAN,
                                  status=RepresentationStatus.ACCEPTED)
    accepted(protected, caregiver)
    assert _profiles(sign_in(caregiver.account)) == {str(caregiver.uuid): "holder", str(protected.uuid): "guardian"}


def test_profiles_match_the_portal_profile_switch(family, api, holder, caregiver):
    """The API and the portal's switch offer the same spaces (the API had no helped persons)."""
    from django.test import Client
    from django.urls import reverse

    from tests.portal.helpers import sign_in as portal_sign_in

    from .conftest import accepted

    other = family.holder(age=90).person
    accepted(other, caregiver)
    browser = Client(enforce_csrf_checks=True)
    portal_sign_in(browser, caregiver.account)
    switch = browser.get(reverse("portal:home")).context["profiles"]
    assert set(_profiles(api)) == {str(p.uuid) for p in switch} == {str(caregiver.uuid), str(holder.uuid),
                                                                      str(other.uuid)}
