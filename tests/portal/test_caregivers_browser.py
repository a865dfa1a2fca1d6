"""Mes aidants in Debian's Chromium: the holder invites a caregiver, who accepts, switches to the helped person's
space and ends the delegation after confirming; every page passes axe-core."""

import pytest

from carnet.caregivers.enums import DelegationStatus
from carnet.caregivers.models import Delegation
from tests.conftest import PASSWORD
from tests.portal.browser import assert_accessible
from tests.portal.test_journey import demo_site, read_code_in_outbox  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base, account):
    page.context.clear_cookies()
    page.goto(base + "/connexion/")
    page.fill("#id_username", account.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/connexion/'] button[type=submit]")
    code = read_code_in_outbox(page, base, account.email, r"\b(\d{6})\b")
    page.goto(base + "/connexion/code/")
    page.fill("#id_code", code)
    page.click("form[action='/connexion/code/'] button[type=submit]")


def test_invite_accept_switch_and_end(live_server, browser_page, demo_site, family):  # noqa: F811
    holder, caregiver = family.holder(age=80), family.holder(age=50)
    page, base = browser_page, live_server.url
    log_in(page, base, holder)
    page.goto(base + "/aidants/")
    assert page.locator("h1").inner_text() == "Mes aidants"
    assert_accessible(page)
    page.click("summary:has-text('Inviter un aidant')")
    person = caregiver.person
    page.fill("#caregiver-nir", person.nir)
    page.fill("#caregiver-family_name", person.family_name)
    page.fill("#caregiver-given_name", person.first_name)
    page.fill("#caregiver-birth_date", person.birth_date.isoformat())
    page.click("form[action='/aidants/inviter/'] button[type=submit]")
    assert "déclaration sur l'honneur" in page.locator("main").inner_text()  # not ticked: refused, explained
    assert_accessible(page)
    page.check("#caregiver-sworn", force=True)
    page.click("form[action='/aidants/inviter/'] button[type=submit]")
    assert "Invitation envoyée" in page.locator("main").inner_text()
    assert person.nir not in page.url
    assert_accessible(page)

    log_in(page, base, caregiver)
    page.goto(base + "/aidants/")
    page.click("button[value=accept]")
    assert Delegation.objects.get(person=holder.person).status == DelegationStatus.ACCEPTED
    assert_accessible(page)
    page.select_option("#profile-switch", str(holder.person.uuid))
    page.click("form[action='/famille/profil/'] button[type=submit]")
    assert "en tant qu'aidant" in page.locator("main").inner_text()
    assert_accessible(page)

    page.goto(base + "/aidants/")
    page.click("a:has-text('Ne plus être son aidant')")
    assert_accessible(page)
    page.click("main form button[type=submit]")
    assert Delegation.objects.get(person=holder.person).status == DelegationStatus.ENDED
    assert "Vous n'êtes plus l'aidant" in page.locator("main").inner_text()
