"""Profil médical pages: CRUD through the real forms with a CSRF-enforcing client, the measure
chart with its target, a representative acting on a child's profile, strangers kept out."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from carnet.medical.actions import care, entries
from carnet.medical.enums import Section
from carnet.medical.models import MeasureTarget, ProfileEntry
from carnet.portal.profiles import SESSION_KEY
from tests.conftest import PASSWORD, code_in
from tests.portal.browser import assert_accessible
from tests.portal.helpers import csrf_token, post_form, sign_in


@pytest.fixture
def holder_client(csrf_client, family):
    account = family.holder(age=40)
    sign_in(csrf_client, account)
    return csrf_client, account.person


@pytest.mark.django_db
def test_the_overview_lists_the_sections(holder_client):
    client, _person = holder_client
    response = client.get(reverse("portal:medical"))
    assert response.status_code == 200
    text = response.content.decode()
    assert text.count("<h1") == 1
    for label in ("Allergies et intolérances", "Traitements", "Vaccinations", "Mon histoire de santé"):
        assert label in text


@pytest.mark.django_db
def test_add_edit_and_delete_an_allergy_with_confirmation(holder_client):
    client, person = holder_client
    add_url = reverse("portal:medical_add", kwargs={"section": "allergies"})
    response = post_form(client, add_url, {"label": "Arachide", "kind": "allergy", "category": "food"})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = ProfileEntry.objects.get(person=person, section=Section.ALLERGIES)
    page = client.get(reverse("portal:medical_section", kwargs={"section": "allergies"})).content.decode()
    assert "Arachide" in page

    edit_url = reverse("portal:medical_edit", kwargs={"entry": entry.uuid})
    assert 'value="Arachide"' in client.get(edit_url).content.decode()
    response = post_form(client, edit_url, {"label": "Arachide et noix", "kind": "allergy"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.version == 2

    delete_url = reverse("portal:medical_delete", kwargs={"entry": entry.uuid})
    confirm = client.get(delete_url)
    assert confirm.status_code == 200 and "Supprimer définitivement" in confirm.content.decode()
    assert ProfileEntry.objects.filter(pk=entry.pk).exists()  # a GET never deletes
    response = post_form(client, delete_url, {})
    assert response.status_code == 302
    assert not ProfileEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_a_post_without_csrf_token_is_refused(holder_client):
    client, person = holder_client
    response = client.post(reverse("portal:medical_add", kwargs={"section": "allergies"}), {"label": "x"})
    assert response.status_code == 403
    assert not ProfileEntry.objects.filter(person=person).exists()


@pytest.mark.django_db
def test_an_invalid_form_shows_the_error_and_writes_nothing(holder_client):
    client, person = holder_client
    url = reverse("portal:medical_add", kwargs={"section": "maladies"})
    response = post_form(client, url, {"label": "Asthme", "start": "1850"})
    assert response.status_code == 200
    assert "trop ancienne" in response.content.decode()
    assert not ProfileEntry.objects.filter(person=person).exists()


@pytest.mark.django_db
def test_add_a_treatment_typed_freely_and_a_vaccination_from_the_list(holder_client):
    client, person = holder_client
    url = reverse("portal:medical_add", kwargs={"section": "traitements"})
    response = post_form(client, url, {"name": "Sirop maison", "dosage": "1 cuillère le soir", "start": "2020"})
    assert response.status_code == 302
    url = reverse("portal:medical_add", kwargs={"section": "vaccinations"})
    response = post_form(client, url, {"vaccine": "mmr", "date": "14/03/2021", "dose": "2", "lot": "X123"})
    assert response.status_code == 302
    page = client.get(reverse("portal:medical_section", kwargs={"section": "vaccinations"})).content.decode()
    assert "Rougeole, oreillons, rubéole" in page and "X123" in page
    assert set(ProfileEntry.objects.filter(person=person).values_list("section", flat=True)) == {
        Section.TREATMENTS, Section.VACCINATIONS}


@pytest.mark.django_db
def test_every_section_page_and_form_renders(holder_client):
    client, _person = holder_client
    for slug in ("maladies", "allergies", "hospitalisations", "antecedents-familiaux", "traitements",
                 "vaccinations", "handicaps", "habitudes-de-vie", "groupe-sanguin", "entourage"):
        page = client.get(reverse("portal:medical_section", kwargs={"section": slug}))
        assert page.status_code == 200, slug
        form = client.get(reverse("portal:medical_add", kwargs={"section": slug}))
        assert form.status_code == 200, slug
        assert form.content.decode().count("<h1") == 1
    for url in ("portal:medical_measures", "portal:medical_care", "portal:medical_synthesis",
                "portal:medical_organ_donation"):
        assert client.get(reverse(url)).status_code == 200, url


@pytest.mark.django_db
def test_unconcerned_declaration(holder_client):
    client, person = holder_client
    section_url = reverse("portal:medical_section", kwargs={"section": "allergies"})
    token = csrf_token(client, section_url)
    response = client.post(reverse("portal:medical_unconcerned", kwargs={"section": "allergies"}),
                           {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert "Vous avez déclaré ne pas être concerné" in client.get(section_url).content.decode()


@pytest.mark.django_db
def test_a_weight_measure_shows_on_the_chart_with_its_target_and_the_bmi_is_computed(holder_client):
    client, person = holder_client
    height_url = reverse("portal:medical_measure", kwargs={"measure": "taille"})
    post_form(client, height_url, {"form": "measure", "value": "175", "when": "2025-01-10T08:00"})
    url = reverse("portal:medical_measure", kwargs={"measure": "poids"})
    response = post_form(client, url, {"form": "measure", "value": "70,5", "when": "2025-01-12T08:00"})
    assert response.status_code == 302
    response = post_form(client, url, {"form": "target", "target-low": "65", "target-high": "72"})
    assert response.status_code == 302
    assert MeasureTarget.objects.get(person=person, measure="poids").high == 72
    page = client.get(url).content.decode()
    assert re.search(r'<svg[^>]*role="img"[^>]*aria-labelledby="chart-poids-title chart-poids-desc"', page)
    assert '<title id="chart-poids-title">Évolution : Poids</title>' in page
    assert "Objectif : de 65.0 à 72.0" in page  # in the chart's description
    assert "<rect" in page  # the target band
    bmi_page = client.get(reverse("portal:medical_measure", kwargs={"measure": "imc"})).content.decode()
    assert "23 kg/m²" in bmi_page or "23.0 kg/m²" in bmi_page


@pytest.mark.django_db
def test_bmi_cannot_be_typed(holder_client):
    client, person = holder_client
    url = reverse("portal:medical_measure", kwargs={"measure": "imc"})
    post_form(client, url, {"form": "measure", "value": "22", "when": "2025-01-12T08:00"})
    assert not ProfileEntry.objects.filter(person=person).exists()


@pytest.mark.django_db
def test_a_parent_edits_the_child_profile_through_the_profile_switch(csrf_client, represented_child):
    parent, child = represented_child
    sign_in(csrf_client, parent)
    session = csrf_client.session
    session[SESSION_KEY] = str(child.uuid)
    session.save()
    url = reverse("portal:medical_add", kwargs={"section": "allergies"})
    response = post_form(csrf_client, url, {"label": "Œuf", "kind": "allergy"})
    assert response.status_code == 302
    assert ProfileEntry.objects.get(section=Section.ALLERGIES).person == child
    page = csrf_client.get(reverse("portal:medical_section", kwargs={"section": "allergies"})).content.decode()
    assert "Vous consultez le profil médical de" in page


@pytest.mark.django_db
def test_a_stranger_cannot_reach_another_person_entry(csrf_client, family, holder_client):
    _client, person = holder_client
    entry = entries.add_entry(person, person, Section.ALLERGIES, {"label": "Arachide"})
    stranger = family.holder()
    sign_in(csrf_client, stranger)
    assert csrf_client.get(reverse("portal:medical_edit", kwargs={"entry": entry.uuid})).status_code == 404
    assert csrf_client.get(reverse("portal:medical_delete", kwargs={"entry": entry.uuid})).status_code == 404


@pytest.mark.django_db
def test_care_history_by_day_with_filter_and_add_to_treatments(holder_client):
    client, person = holder_client
    care.import_care_episodes(person, [
        {"id": "L1", "date": "2025-03-14", "category": "medicine", "code_system": "CIP13", "code": "3400930000000",
         "label": "Amoxicilline 1 g", "quantity": 1, "prescriber": "Dr Martin", "performer": "Pharmacie du Port"},
        {"id": "L2", "date": "2025-03-14", "category": "consultation", "code_system": "NGAP", "code": "G",
         "label": "Consultation de médecine générale", "performer": "Dr Martin"},
    ])
    page = client.get(reverse("portal:medical_care")).content.decode()
    assert "Amoxicilline 1 g" in page and "Consultation de médecine générale" in page
    filtered = client.get(reverse("portal:medical_care"), {"categorie": "consultation"}).content.decode()
    assert "Amoxicilline" not in filtered
    episode = care.care_timeline(person, person)[0][1]
    medicine = next(e for e in episode if e.category == "medicine")
    response = post_form(client, reverse("portal:medical_care"), {},
                         action=reverse("portal:medical_care_to_treatment", kwargs={"episode": medicine.uuid}))
    assert response.status_code == 302
    assert ProfileEntry.objects.filter(person=person, section=Section.TREATMENTS).count() == 1


@pytest.mark.django_db
def test_measure_dates_default_to_now(holder_client):
    client, _person = holder_client
    page = client.get(reverse("portal:medical_measure", kwargs={"measure": "poids"})).content.decode()
    assert timezone.localtime().strftime("%Y-%m-%dT") in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_the_browser_add_a_weight_and_see_the_chart(live_server, browser_page, family):
    """Sign in, open the overview, add a weight, see the chart; every page passes axe-core."""
    account = family.holder(age=40)
    page, base = browser_page, live_server.url
    page.goto(base + "/connexion/")
    page.fill("#id_username", account.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/connexion/'] button[type=submit]")
    sent = [m for m in mail.outbox if account.email in m.to]  # the live server shares this process
    page.fill("#id_code", code_in(sent[-1].body))
    page.click("form[action='/connexion/code/'] button[type=submit]")

    page.goto(base + "/profil-medical/")
    assert page.locator("h1").inner_text() == "Profil médical"
    assert_accessible(page)
    page.click("text=Toutes mes mesures")
    assert_accessible(page)
    page.click("a:text-is('Poids')")
    assert_accessible(page)
    page.fill("#id_value", "71,2")
    page.fill("#id_when", "2025-03-01T08:30")
    page.click("text=Enregistrer la mesure")
    assert page.locator("svg[role=img]").count() == 1
    assert page.locator("svg[role=img] > title").first.text_content() == "Évolution : Poids"
    assert "71" in page.locator("main table").first.inner_text()
    assert_accessible(page)


@pytest.mark.django_db
def test_medicine_search_is_posted_and_adding_prefills_the_code(csrf_client, family):
    from tests.portal.helpers import post_form, sign_in

    account = family.holder()
    sign_in(csrf_client, account)
    page = post_form(csrf_client, "/profil-medical/traitements/", {"q": "3400935955838"})
    assert page.status_code == 200 and "DOLIPRANE" in page.content.decode()
    assert "?cip=" not in page.content.decode()
    form = post_form(csrf_client, "/profil-medical/traitements/", {"prefill_cip": "3400935955838"},
                     action="/profil-medical/traitements/ajouter/")
    assert form.status_code == 200 and 'value="3400935955838"' in form.content.decode()
