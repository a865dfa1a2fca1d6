"""Mes aidants / Les personnes que j'aide: inviting through the form, answering, switching to the helped
person's space, what the caregiver may and may not do there, and ending with confirmation."""

import html

import pytest
from django.test import Client
from django.urls import reverse

from carnet.caregivers.enums import DelegationStatus
from carnet.caregivers.models import Delegation
from carnet.identity.models import Account
from carnet.sharing.models import AccessEvent
from tests.caregivers.conftest import accepted

from .helpers import post_form, sign_in

pytestmark = pytest.mark.django_db

PAGE = reverse("portal:caregivers")


def browser_for(account: Account) -> Client:
    client = Client(enforce_csrf_checks=True)
    sign_in(client, account)
    return client


@pytest.fixture
def holder(family) -> Account:
    return family.holder(age=80)


@pytest.fixture
def caregiver(family) -> Account:
    return family.holder(age=50)


def text(response) -> str:
    return html.unescape(response.content.decode())


def invite(client, invitee: Account, **overrides):
    person = invitee.person
    data = {"nir": person.nir, "family_name": person.family_name, "given_name": person.first_name,
            "birth_date": person.birth_date.isoformat(), "sworn": "on", **overrides}
    return post_form(client, PAGE, data, action=reverse("portal:invite_caregiver"))


def switch(client, person):
    return post_form(client, PAGE, {"profile": str(person.uuid)}, action=reverse("portal:switch_profile"))


@pytest.fixture
def helping(holder, caregiver):
    """`caregiver` helps `holder` (accepted), signed in, the holder's profile shown."""
    accepted(holder.person, caregiver.person)
    client = browser_for(caregiver)
    assert switch(client, holder.person).status_code == 302
    return client


def test_the_page_explains_and_is_linked_from_the_navigation_and_the_family_page(holder):
    client = browser_for(holder)
    page = text(client.get(PAGE))
    for expected in ("Mes aidants", "Les personnes que j'aide", "Inviter un aidant", "déclare sur l'honneur",
                     "Votre aidant ne pourra pas"):
        assert expected in page, expected
    assert f'href="{PAGE}"' in text(client.get(reverse("portal:family")))
    assert f'href="{PAGE}"' in text(client.get(reverse("portal:home")))


def test_invite_accept_and_switch_through_the_pages(holder, caregiver):
    holder_browser = browser_for(holder)
    response = invite(holder_browser, caregiver)
    assert response.status_code == 302
    assert caregiver.person.full_name in text(holder_browser.get(PAGE))
    row = Delegation.objects.get(person=holder.person)

    caregiver_browser = browser_for(caregiver)
    page = text(caregiver_browser.get(PAGE))
    assert f"{holder.person.full_name} vous invite à devenir son aidant" in page
    response = post_form(caregiver_browser, PAGE, {"decision": "accept"},
                         action=reverse("portal:respond_caregiver_invitation", args=[row.uuid]))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == DelegationStatus.ACCEPTED

    home = text(caregiver_browser.get(reverse("portal:home")))
    assert f'value="{holder.person.uuid}"' in home  # the profile switch offers the helped person
    assert switch(caregiver_browser, holder.person).status_code == 302
    home = text(caregiver_browser.get(reverse("portal:home")))
    assert f"Espace santé de {holder.person.full_name}" in home and "en tant qu'aidant" in home
    documents = caregiver_browser.get(reverse("portal:documents"))
    assert documents.status_code == 200
    assert "Attestation d'accès d'un aidant" in text(documents)
    assert AccessEvent.objects.filter(person=holder.person, actor=caregiver.person, actor_role="caregiver",
                                      action="space.view").exists()
    assert AccessEvent.objects.filter(person=holder.person, actor=caregiver.person, actor_role="caregiver",
                                      action="record.read").exists()
    # The holder's history names the caregiver's role in French.
    assert "Aidant" in text(holder_browser.get(reverse("portal:history")))


def test_refusing_through_the_page(holder, caregiver):
    invite(browser_for(holder), caregiver)
    row = Delegation.objects.get(person=holder.person)
    response = post_form(browser_for(caregiver), PAGE, {"decision": "refuse"},
                         action=reverse("portal:respond_caregiver_invitation", args=[row.uuid]))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == DelegationStatus.REFUSED


def test_wrong_traits_give_one_message_and_write_nothing(holder, caregiver):
    response = invite(browser_for(holder), caregiver, family_name="Autrenom")
    assert response.status_code == 400
    assert "Aucun espace santé actif ne correspond à ces informations" in text(response)
    assert not Delegation.objects.exists()


def test_the_sworn_declaration_is_required(holder, caregiver):
    response = invite(browser_for(holder), caregiver, sworn="")
    assert response.status_code == 400
    assert "déclaration sur l'honneur" in text(response)
    assert not Delegation.objects.exists()


def test_an_invalid_nir_is_a_form_error(holder, caregiver):
    response = invite(browser_for(holder), caregiver, nir="123")
    assert response.status_code == 400 and "NIR invalide" in text(response)


def test_at_the_maximum_the_page_says_so(family, holder):
    for age in (41, 42, 43):
        accepted(holder.person, family.holder(age=age).person)
    page = text(browser_for(holder).get(PAGE))
    assert "Vous avez atteint le maximum de 3 aidants" in page
    response = invite(browser_for(holder), family.holder(age=44))
    assert response.status_code == 400 and "Vous avez atteint le maximum de 3 aidants" in text(response)
    assert Delegation.objects.filter(person=holder.person).count() == 3


def test_a_caregiver_cannot_manage_sharing_nor_delete_nor_touch_wishes(helping, holder):
    assert helping.get(reverse("portal:privacy")).status_code == 403
    certificate = Delegation.objects.get(person=holder.person).certificate
    detail = text(helping.get(reverse("portal:document", args=[certificate.uuid])))
    assert "Masquer aux professionnels" not in detail and "Supprimer" not in detail
    assert "Modifier les informations" in detail  # a caregiver edits what the holder's side deposited
    delete_url = reverse("portal:document_delete", args=[certificate.uuid])
    response = post_form(helping, reverse("portal:document", args=[certificate.uuid]), {}, action=delete_url)
    assert response.status_code == 403
    certificate.refresh_from_db()
    assert certificate.status == "current"
    add = reverse("portal:medical_add", args=["entourage"])
    section = reverse("portal:medical_section", args=["entourage"])  # the add page itself refuses a caregiver now
    response = post_form(helping, section, {"roles": ["emergency"], "relation": "FRND", "first_name": "Paul",
                                            "last_name": "Martin", "mobile": "0612345678"}, action=add)
    assert response.status_code == 403
    assert "ne sont pas modifiables par un aidant" in text(response)


def test_a_caregiver_adds_a_document_to_the_helped_persons_space(helping, holder):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.record.conftest import make_pdf

    upload = reverse("portal:document_upload")
    response = post_form(helping, upload, {"file": SimpleUploadedFile("ordonnance.pdf", make_pdf(), "application/pdf"),
                                           "title": "Ordonnance", "type_code": "DOCPAT02"})
    assert response.status_code == 302, response.content[:500]
    assert holder.person.documents.filter(title="Ordonnance", author_person__isnull=False).exists()
    assert AccessEvent.objects.filter(person=holder.person, actor_role="caregiver", action="document.add").exists()


def test_the_caregiver_ends_with_confirmation_and_loses_the_profile(helping, holder, caregiver):
    row = Delegation.objects.get(person=holder.person)
    url = reverse("portal:end_delegation", args=[row.uuid])
    confirm = helping.get(url)
    assert confirm.status_code == 200 and "Vous ne serez plus l'aidant" in text(confirm)
    assert post_form(helping, url, {}).status_code == 302
    row.refresh_from_db()
    assert row.status == DelegationStatus.ENDED and row.end_reason == "by_caregiver"
    assert helping.session.get("acting_for") is None
    assert helping.get(reverse("portal:documents")).status_code == 200  # their own space again
    assert f'value="{holder.person.uuid}"' not in text(helping.get(reverse("portal:home")))


def test_the_holder_ends_with_confirmation(holder, caregiver):
    row = accepted(holder.person, caregiver.person)
    client = browser_for(holder)
    url = reverse("portal:end_delegation", args=[row.uuid])
    assert "n'aura plus accès à votre espace" in text(client.get(url))
    assert post_form(client, url, {}).status_code == 302
    row.refresh_from_db()
    assert row.end_reason == "by_holder"
    assert decide_view(caregiver, holder) == 404


def decide_view(caregiver: Account, holder: Account) -> int:
    """What happens when the former caregiver tries to switch to the holder's space."""
    return switch(browser_for(caregiver), holder.person).status_code


def test_a_stranger_gets_404_on_someone_elses_delegation(family, holder, caregiver):
    row = accepted(holder.person, caregiver.person)
    stranger = browser_for(family.holder(age=33))
    assert stranger.get(reverse("portal:end_delegation", args=[row.uuid])).status_code == 404
    assert switch(stranger, holder.person).status_code == 404
    row.refresh_from_db()
    assert row.status == DelegationStatus.ACCEPTED


def test_the_helped_persons_notifications_reach_the_caregivers_centre(helping, holder, caregiver):
    from carnet.notifications import actions as notifications

    notifications.notify(holder.person, kind="documents", code="document_added",
                         title="Un nouveau document est disponible dans votre espace.", url="/documents/")
    page = text(helping.get(reverse("portal:notifications")))
    assert f"Concerne : {holder.person.full_name}" in page
    assert f"{holder.person.first_name} : Un nouveau document" in page


def test_a_caregiver_sees_the_history_but_cannot_export_it(helping, holder):
    """The issue: a caregiver never exports. The history page is readable, its exports are not (and the
    refusal is in the holder's history)."""
    page = text(helping.get(reverse("portal:history")))
    assert "Historique des accès" in page and "Exporter (CSV)" not in page
    for name in ("history_csv", "history_fhir"):
        response = helping.get(reverse(f"portal:{name}"), {"profil": str(holder.person.uuid)})
        assert response.status_code == 403
    refused = AccessEvent.objects.filter(person=holder.person, action="space.export", allowed=False)
    assert refused.count() == 2 and set(refused.values_list("reason", flat=True)) == {"caregiver_not_allowed"}
