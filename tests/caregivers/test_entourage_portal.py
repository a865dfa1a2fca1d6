"""Entourage et volontés through the portal, as a caregiver: the policy locks it (WRITE_WISHES refused with
`caregiver_locked_section`), so the section is readable but offers no form, and every form page answers the same
403 as its POST, the refusal recorded. Other sections stay writable for the caregiver (WRITE_RECORD)."""

import html

import pytest
from django.test import Client
from django.urls import reverse

from carnet.medical.models import ProfileEntry
from carnet.sharing.models import AccessEvent
from tests.portal.helpers import post_form, sign_in

pytestmark = pytest.mark.django_db

SECTION = reverse("portal:medical_section", args=["entourage"])
ADD = reverse("portal:medical_add", args=["entourage"])
ORGAN = reverse("portal:medical_organ_donation")
TRUSTED = {"roles": ["trusted"], "relation": "FRND", "first_name": "Paul", "last_name": "Martin",
           "mobile": "0612345678"}
LOCK_MESSAGE = "ne sont pas modifiables par un aidant"


def text(response) -> str:
    return html.unescape(response.content.decode())


def browser(account) -> Client:
    client = Client(enforce_csrf_checks=True)
    sign_in(client, account)
    return client


@pytest.fixture
def holder_browser(holder):
    return browser(holder.account)


@pytest.fixture
def helping(holder, caregiver, delegation):
    """The caregiver, signed in, looking at the helped person's profile."""
    client = browser(caregiver.account)
    page = reverse("portal:caregivers")
    response = post_form(client, page, {"profile": str(holder.uuid)}, action=reverse("portal:switch_profile"))
    assert response.status_code == 302
    return client


@pytest.fixture
def trusted_entry(holder_browser, holder):
    assert post_form(holder_browser, ADD, TRUSTED).status_code == 302
    return ProfileEntry.objects.get(person=holder, section="entourage")


def _wishes_denials(holder) -> int:
    return AccessEvent.objects.filter(person=holder, actor_role="caregiver", action="record.write_wishes",
                                      allowed=False, reason="caregiver_locked_section").count()


def test_the_holder_sees_the_forms_of_their_entourage(holder_browser, trusted_entry):
    page = text(holder_browser.get(SECTION))
    assert ADD in page and ORGAN in page and reverse("portal:medical_edit", args=[trusted_entry.uuid]) in page
    assert LOCK_MESSAGE not in page
    assert holder_browser.get(ADD).status_code == 200


def test_a_caregiver_reads_the_entourage_without_any_form(helping, holder, trusted_entry):
    response = helping.get(SECTION)
    assert response.status_code == 200
    page = text(response)
    assert "Paul" in page and LOCK_MESSAGE in page
    for url in (ADD, ORGAN, reverse("portal:medical_edit", args=[trusted_entry.uuid]),
                reverse("portal:medical_delete", args=[trusted_entry.uuid])):
        assert url not in page


@pytest.mark.parametrize("page", ["add", "organ", "edit", "delete"])
def test_every_entourage_form_page_refuses_a_caregiver_as_its_post_does(helping, holder, trusted_entry, page):
    url = {"add": ADD, "organ": ORGAN,
           "edit": reverse("portal:medical_edit", args=[trusted_entry.uuid]),
           "delete": reverse("portal:medical_delete", args=[trusted_entry.uuid])}[page]
    before = _wishes_denials(holder)
    response = helping.get(url)
    assert response.status_code == 403 and LOCK_MESSAGE in text(response)
    assert 'name="csrfmiddlewaretoken"' not in text(response).split("<main", 1)[-1]  # no form in the page body
    assert _wishes_denials(holder) == before + 1


def test_a_caregivers_post_is_refused_and_writes_nothing(helping, holder, trusted_entry):
    before = ProfileEntry.objects.filter(person=holder).count()
    response = post_form(helping, SECTION, {**TRUSTED, "first_name": "Jeanne"}, action=ADD)
    assert response.status_code == 403 and LOCK_MESSAGE in text(response)
    response = post_form(helping, SECTION, {}, action=reverse("portal:medical_delete", args=[trusted_entry.uuid]))
    assert response.status_code == 403
    assert ProfileEntry.objects.filter(person=holder).count() == before
    assert _wishes_denials(holder) == 2


def test_other_sections_keep_their_forms_for_a_caregiver(helping):
    section = reverse("portal:medical_section", args=["allergies"])
    add = reverse("portal:medical_add", args=["allergies"])
    page = text(helping.get(section))
    assert add in page and LOCK_MESSAGE not in page
    assert helping.get(add).status_code == 200
