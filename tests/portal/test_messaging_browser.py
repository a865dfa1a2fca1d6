"""Messaging in Debian's Chromium: a caregiver, acting for the person they help, writes to the holder's médecin
traitant; the doctor reads it in the pro portal with the caregiver's footer and replies; the caregiver sees the
reply; the holder sees the caregiver's message in their Historique. Every page visited passes axe-core."""

import pytest

from carnet.sharing import actions as sharing_actions
from tests.caregivers.conftest import accepted
from tests.portal.browser import assert_accessible, browser_page  # noqa: F401 - fixture
from tests.portal.test_caregivers_browser import log_in
from tests.portal.test_journey import demo_site  # noqa: F401 - fixture
from tests.pro.conftest import make_pro

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SUBJECT = "Malaise de maman hier soir"
BODY = "Bonjour docteur, ma mère a fait un malaise hier soir après le dîner. Faut-il avancer le rendez-vous ?"


def test_caregiver_writes_doctor_replies_holder_sees_history(live_server, browser_page, demo_site,  # noqa: F811
                                                             family):
    holder, caregiver = family.holder(age=84), family.holder(age=55)
    accepted(holder.person, caregiver.person)
    doctor = make_pro("10", family_name="QUENTIN", given_names="Hélène", email="h.quentin@example.org")
    sharing_actions.assign_role(holder.person, holder.person, doctor, "medecin_traitant")
    page, base = browser_page, live_server.url

    # The caregiver switches to the helped person's profile and writes to her médecin traitant.
    log_in(page, base, caregiver)
    page.select_option("#profile-switch", str(holder.person.uuid))
    page.click("form[action='/famille/profil/'] button[type=submit]")
    page.click("#header-navigation a:has-text('Messagerie')")
    assert page.locator("h1").inner_text() == "Messagerie"
    assert "en tant qu'aidant" in page.locator("main").inner_text()
    assert_accessible(page)
    page.click("a:has-text('Nouveau message')")
    assert_accessible(page)
    page.select_option("#id_professional", str(doctor.uuid))
    page.fill("#id_subject", SUBJECT)
    page.fill("#id_body", BODY)
    page.click("main form button[type=submit]")
    assert page.locator("h1").inner_text() == SUBJECT
    assert SUBJECT not in page.url
    assert_accessible(page)
    conversation_url = page.url

    # The doctor, in a browser of their own, reads it with the footer and replies.
    context = page.context.browser.new_context(bypass_csp=True, locale="fr-FR")
    try:
        pro = context.new_page()
        pro.goto(base + "/pro/connexion/demo/")
        pro.select_option("#id_professional", str(doctor.uuid))
        pro.click("main form button[type=submit]")
        pro.click("#header-navigation a:has-text('Messagerie')")
        assert SUBJECT in pro.locator("main").inner_text()
        assert_accessible(pro)
        pro.click(f"a:has-text('{SUBJECT}')")
        main = pro.locator("main").inner_text()
        assert BODY in main
        assert f"Rédigé par {caregiver.person.full_name}, aidant(e) de {holder.person.full_name}" in main
        assert_accessible(pro)
        pro.fill("#id_body", "Venez demain à 9 h, je vous garde un créneau.")
        pro.click("form[action$='/repondre/'] button[type=submit]")
        assert "Votre réponse est envoyée" in pro.locator("main").inner_text()
        assert_accessible(pro)
    finally:
        context.close()

    # The caregiver sees the reply.
    page.goto(base + "/messagerie/")
    assert "1 non lu" in page.locator("main").inner_text().lower()  # the badge is in capitals
    page.goto(conversation_url)
    assert "Venez demain à 9 h" in page.locator("main").inner_text()
    assert_accessible(page)

    # The holder sees the caregiver's message in the history.
    log_in(page, base, holder)
    page.goto(base + "/historique/")
    history = page.locator("main").inner_text()
    assert caregiver.person.full_name in history and "Message écrit à Hélène QUENTIN" in history
    assert_accessible(page)
