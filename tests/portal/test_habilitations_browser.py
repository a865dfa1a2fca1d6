"""Qui peut voir quels documents, in Debian's Chromium: the holder signs in, opens the page, picks a profession;
both views pass axe-core."""

import pytest

from tests.conftest import PASSWORD
from tests.portal.browser import assert_accessible
from tests.portal.test_journey import demo_site, read_code_in_outbox  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_holder_reads_what_a_nurse_may_see(live_server, browser_page, demo_site, family):  # noqa: F811
    holder = family.holder()
    page, base = browser_page, live_server.url
    page.goto(base + "/connexion/")
    page.fill("#id_username", holder.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/connexion/'] button[type=submit]")
    code = read_code_in_outbox(page, base, holder.email, r"\b(\d{6})\b")
    page.goto(base + "/connexion/code/")
    page.fill("#id_code", code)
    page.click("form[action='/connexion/code/'] button[type=submit]")

    page.goto(base + "/confidentialite/habilitations/")
    assert page.locator("h1").inner_text() == "Qui peut voir quels documents"
    assert_accessible(page)

    page.select_option("#profession", "60")
    page.click("main form button[type=submit]")
    assert page.url.endswith("?profession=60")
    assert page.locator("#resultat").inner_text() == "Infirmier"
    row = page.locator("tr", has=page.locator("th", has_text="Demande d'acte de télémédecine"))
    assert "Non accessible" in row.text_content()  # badges are upper-cased by CSS
    assert "Non vérifié : refusé par défaut" in page.locator("main").text_content()
    assert_accessible(page)
