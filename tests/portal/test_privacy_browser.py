"""Paramètres de confidentialité in Debian's Chromium: the holder searches the directory, authorises a doctor
for 30 days, makes them médecin traitant, blocks a nurse; the page passes axe-core at each step."""

import datetime as dt
import itertools

import pytest

from carnet.common.dates import today
from carnet.sharing.models import Authorisation, Block, CareRole, CareTeam, Professional
from tests.conftest import PASSWORD
from tests.portal.browser import assert_accessible
from tests.portal.test_journey import demo_site, read_code_in_outbox  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
_rpps = itertools.count(50000000001)


def pro(profession, family_name, given_names) -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name=family_name, given_names=given_names,
                                       profession_code=profession)


def test_holder_authorises_a_doctor_names_them_medecin_traitant_and_blocks_a_nurse(
        live_server, browser_page, demo_site, family):  # noqa: F811
    holder = family.holder()
    doctor, nurse = pro("10", "Lambert", "Hélène"), pro("60", "Lambert", "Paul")
    CareTeam.objects.create(name="Maison de santé Lambert")
    page, base = browser_page, live_server.url
    page.goto(base + "/connexion/")
    page.fill("#id_username", holder.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/connexion/'] button[type=submit]")
    code = read_code_in_outbox(page, base, holder.email, r"\b(\d{6})\b")
    page.goto(base + "/connexion/code/")
    page.fill("#id_code", code)
    page.click("form[action='/connexion/code/'] button[type=submit]")

    page.goto(base + "/confidentialite/")
    assert page.locator("h1").inner_text() == "Paramètres de confidentialité"
    assert_accessible(page)

    page.fill("#search-name", "lambert")
    page.click("form[action='/confidentialite/recherche/'] button[type=submit]")
    assert "lambert" not in page.url.lower()
    assert "Hélène Lambert" in page.locator("#resultats").inner_text()
    assert_accessible(page)

    until = today() + dt.timedelta(days=30)
    page.fill(f"#grant-{doctor.uuid}", until.isoformat())
    page.click(f"form[action='/confidentialite/professionnels/{doctor.uuid}/autoriser/'] button[type=submit]")
    authorisation = Authorisation.objects.get(person=holder.person, professional=doctor)
    assert authorisation.expires_at is not None
    assert "Le professionnel est autorisé" in page.locator("main").inner_text()
    assert_accessible(page)

    page.select_option("#role-kind", "medecin_traitant")
    page.select_option("#role-professional", str(doctor.uuid))
    page.click("form[action='/confidentialite/roles/attribuer/'] button[type=submit]")
    assert CareRole.objects.get(person=holder.person, ended_at__isnull=True).professional == doctor

    page.fill("#search-name", "lambert")
    page.click("form[action='/confidentialite/recherche/'] button[type=submit]")
    page.click(f"form[action='/confidentialite/professionnels/{nurse.uuid}/bloquer/'] button[type=submit]")
    assert Block.objects.filter(person=holder.person, professional=nurse, lifted_at__isnull=True).exists()
    assert "Débloquer" in page.locator("main").inner_text()
    assert_accessible(page)

    page.goto(base + "/historique/")
    text = page.locator("main").inner_text()
    assert "Autorisation d'accès accordée" in text and "Professionnel bloqué" in text
