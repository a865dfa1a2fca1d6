"""The issue's scenario in Debian's Chromium: the holder authorises a doctor for 30 days on the privacy page; the
doctor signs in to the pro portal (demo sign-in), finds the patient by INS and identity traits and reads a
document; the holder sees that access in their "Historique", masks the document; the doctor no longer sees it.
And an emergency: a doctor without authorisation opens the space in bris de glace with a reason, reads a document
under the "Accès en urgence jusqu'à" banner, and the holder sees the emergency access in their history.
Every pro page visited passes axe-core (and the holder's pages on the way)."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from carnet.common.dates import today
from carnet.pro.services import METHOD_KEY, PATIENTS_KEY, PROFESSIONAL_KEY
from carnet.record import actions as record_actions
from carnet.record.actions import Author
from carnet.record.enums import AuthorKind, DocumentSource
from carnet.record.models import Document
from carnet.sharing.models import (
    AccessEvent,
    ActivityPlace,
    Authorisation,
    Block,
    CareRole,
    EmergencySettings,
    Establishment,
)
from tests.conftest import PASSWORD
from tests.portal.browser import assert_accessible, browser_page  # noqa: F401 - fixture
from tests.portal.test_journey import demo_site, read_code_in_outbox  # noqa: F401 - fixture
from tests.pro.conftest import make_pro
from tests.pro.helpers import add_doc
from tests.record.conftest import make_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def holder_signs_in(page, base, holder):
    page.goto(base + "/connexion/")
    page.fill("#id_username", holder.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/connexion/'] button[type=submit]")
    code = read_code_in_outbox(page, base, holder.email, r"\b(\d{6})\b")
    page.goto(base + "/connexion/code/")
    page.fill("#id_code", code)
    page.click("form[action='/connexion/code/'] button[type=submit]")


def pro_signs_in_and_finds(pro, base, doctor, person) -> str:
    """The doctor signs in (demo sign-in) and finds the patient by INS and traits; the patient page's URL."""
    pro.goto(base + "/pro/connexion/")
    assert pro.locator("h1").inner_text() == "Connexion des professionnels de santé"
    assert_accessible(pro)
    pro.click("text=Connexion de démonstration")
    assert_accessible(pro)
    pro.select_option("#id_professional", str(doctor.uuid))
    pro.click("main form button[type=submit]")
    assert pro.url == base + "/pro/"
    assert pro.locator("h1").inner_text() == "Rechercher un patient"
    assert_accessible(pro)
    pro.fill("#id_ins", person.nir)
    pro.fill("#id_family_name", "LEFEVRE")
    pro.fill("#id_given_name", "anne-sophie")
    pro.fill("#id_birth_date", person.birth_date.isoformat())
    pro.click("form[action='/pro/patients/recherche/'] button[type=submit]")
    assert re.search(r"/pro/patients/[\w-]+/$", pro.url), pro.url
    assert person.nir not in pro.url and str(person.uuid) not in pro.url
    return pro.url


def test_doctor_reads_then_loses_a_masked_document(live_server, browser_page, demo_site, family):  # noqa: F811
    holder = family.holder(family_name="Lefèvre", given_names="Anne-Sophie Marie")
    person = holder.person
    document = add_doc(person, title="Compte rendu de consultation cardiologique")
    doctor = make_pro("10", family_name="QUENTIN", given_names="Hélène")
    page, base = browser_page, live_server.url

    # The holder authorises the doctor for 30 days.
    holder_signs_in(page, base, holder)
    page.goto(base + "/confidentialite/")
    page.fill("#search-name", "quentin")
    page.click("form[action='/confidentialite/recherche/'] button[type=submit]")
    until = today() + dt.timedelta(days=30)
    page.fill(f"#grant-{doctor.uuid}", until.isoformat())
    page.click(f"form[action='/confidentialite/professionnels/{doctor.uuid}/autoriser/'] button[type=submit]")
    assert "Le professionnel est autorisé" in page.locator("main").inner_text()
    assert Authorisation.objects.get(person=person, professional=doctor).expires_at is not None

    # The doctor, in a browser of their own, signs in and finds the patient by INS and traits.
    context = page.context.browser.new_context(bypass_csp=True, locale="fr-FR")
    try:
        pro = context.new_page()
        patient_url = pro_signs_in_and_finds(pro, base, doctor, person)
        assert "Compte rendu de consultation cardiologique" in pro.locator("main").inner_text()
        assert_accessible(pro)

        pro.click("text=Compte rendu de consultation cardiologique")
        assert pro.locator("h1").inner_text() == "Compte rendu de consultation cardiologique"
        assert pro.locator("iframe.carnet-viewer").count() == 1
        assert_accessible(pro)
        document_url = pro.url
        assert AccessEvent.objects.filter(person=person, professional=doctor, action="document.read",
                                          allowed=True).exists()

        # The holder sees the access in the history, then masks the document.
        page.goto(base + "/historique/")
        history = page.locator("main").inner_text()
        assert "Hélène QUENTIN" in history and re.search(r"Consultation d['’]un document", history)
        assert_accessible(page)
        page.goto(base + f"/documents/{document.uuid}/")
        page.click("button:has-text('Masquer aux professionnels')")
        document.refresh_from_db()
        assert document.masked_to_professionals

        # The doctor no longer sees it: not in the list, and its page is not found.
        pro.goto(patient_url)
        assert "Compte rendu de consultation cardiologique" not in pro.locator("main").inner_text()
        assert_accessible(pro)
        response = pro.goto(document_url)
        assert response.status == 404
        assert Document.objects.get(pk=document.pk).masked_to_professionals
    finally:
        context.close()


def test_doctor_opens_an_emergency_access_and_the_holder_sees_it(live_server, browser_page, demo_site,  # noqa: F811
                                                                  family):
    holder = family.holder(family_name="Lefèvre", given_names="Anne-Sophie Marie")
    person = holder.person
    add_doc(person, title="Compte rendu des urgences")
    doctor = make_pro("10", family_name="URGENCE", given_names="Marc")
    page, base = browser_page, live_server.url
    reason = "Patient inconscient amené par les pompiers"

    pro = page.context.browser.new_context(bypass_csp=True, locale="fr-FR").new_page()
    try:
        patient_url = pro_signs_in_and_finds(pro, base, doctor, person)
        main = pro.locator("main").inner_text()
        assert "Le titulaire ne vous a pas autorisé à consulter son espace." in main
        assert "Compte rendu des urgences" not in main
        assert_accessible(pro)  # the denial, the consent and the emergency forms

        pro.fill("#urgence-reason", reason)
        pro.click("form[action$='/urgence/'] button[type=submit]")
        assert pro.url == patient_url and "inconscient" not in pro.url
        main = pro.locator("main").inner_text()
        assert re.search(r"Accès en urgence jusqu'à \d{2}:\d{2}", main), main
        assert "Compte rendu des urgences" in main
        assert_accessible(pro)

        pro.click("text=Compte rendu des urgences")
        assert pro.locator("h1").inner_text() == "Compte rendu des urgences"
        assert "Accès en urgence jusqu'à" in pro.locator("main").inner_text()
        assert_accessible(pro)
        assert AccessEvent.objects.filter(person=person, professional=doctor, action="document.read", allowed=True,
                                          reason="emergency", channel="emergency").exists()

        holder_signs_in(page, base, holder)
        page.goto(base + "/historique/")
        history = page.locator("main").inner_text()
        assert "Marc URGENCE" in history and "Accès au dossier en situation d'urgence" in history
        assert "inconscient" not in history
        assert_accessible(page)
    finally:
        pro.context.close()


def signed_in_context(browser, base, professional, person):
    """A browser context already signed in as `professional`, `person` found: the patient page's URL."""
    session = SessionStore()
    session.update({PROFESSIONAL_KEY: str(professional.uuid), METHOD_KEY: "demo",
                    PATIENTS_KEY: {"patient": str(person.uuid)}})
    session.create()
    context = browser.new_context(bypass_csp=True, locale="fr-FR")
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base}])
    return context, base + "/pro/patients/patient/"


def test_the_forms_and_refusals_of_the_three_actions_are_accessible(live_server, browser_page,  # noqa: F811
                                                                    family):
    """Axe-core on what the two scenarios above do not reach: a régulateur's choice between SAMU and bris de glace,
    an emergency form sent back with errors, a refusal; the administrateur de santé's section and its errors; the
    release button and its confirmation."""
    person = family.person(status="active", family_name="Lefèvre", given_names="Anne-Sophie Marie")
    EmergencySettings.objects.create(person=person, samu_allowed=False)
    regulator = make_pro("10", family_name="REGULATEUR")
    centre = Establishment.objects.create(finess="750000001", name="SAMU de Paris", samu_regulation=True)
    ActivityPlace.objects.create(professional=regulator, establishment=centre)
    administrator = make_pro("10", family_name="ADMIN", given_names="Inès")
    Authorisation.objects.create(person=person, professional=administrator, granted_by=person)
    CareRole.objects.create(person=person, professional=administrator, kind="administrateur_sante")
    Block.objects.create(person=person, professional=make_pro("60", family_name="BLOQUEE"), blocked_by=person)
    Block.objects.create(person=person, professional=make_pro("21", family_name="PHARMA"),
                         blocked_by_professional=administrator)
    held = record_actions.add_document(
        None, person, content=make_pdf("Biopsie"), title="Résultat de biopsie", type_code="11502-2",
        source=DocumentSource.PROFESSIONAL, invisible_to_holder=True,
        author=Author(AuthorKind.PROFESSIONAL, administrator.full_name, administrator.national_id))
    browser, base = browser_page.context.browser, live_server.url

    context, patient_url = signed_in_context(browser, base, regulator, person)
    try:
        pro = context.new_page()
        pro.goto(patient_url)
        assert pro.locator("input[name=kind][type=radio]").count() == 2
        assert_accessible(pro)
        pro.click("form[action$='/urgence/'] button[type=submit]")  # no reason
        assert pro.locator("h1").inner_text() == "Accès en urgence"
        assert "Ce champ est obligatoire." in pro.locator("main").inner_text()
        assert_accessible(pro)
        pro.click("label[for='urgence-kind_0']")  # DSFR radios: the label is what one clicks
        assert pro.is_checked("input[name=kind][value=samu]")
        pro.fill("#urgence-reason", "Appel au centre 15 : détresse respiratoire")
        pro.click("form[action$='/urgence/'] button[type=submit]")
        assert "par le médecin régulateur du SAMU" in pro.locator("main").inner_text()
        assert_accessible(pro)
    finally:
        context.close()

    context, patient_url = signed_in_context(browser, base, administrator, person)
    try:
        pro = context.new_page()
        pro.goto(patient_url)
        main = pro.locator("main").inner_text()
        assert "BLOQUEE" in main and "PHARMA" in main and "Seul le patient peut le débloquer." in main
        assert_accessible(pro)
        pro.fill("#blocage-rpps", "12345")
        pro.click("form[action$='/bloquer/'] button[type=submit]")
        assert "Numéro RPPS invalide" in pro.locator("main").inner_text()
        assert_accessible(pro)
        pro.goto(patient_url + f"documents/{held.uuid}/")
        assert_accessible(pro)
        pro.click("form[action$='/rendre-visible/'] button[type=submit]")
        assert "Le document est maintenant visible par le patient." in pro.locator("main").inner_text()
        assert_accessible(pro)
    finally:
        context.close()
