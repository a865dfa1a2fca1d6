"""The issue's browser journey, in Debian's Chromium: a person imported from the registry reads their
provisional code in the dev outbox, activates their space, and logs in with the one-time code read
in the outbox too. Every page on the way, and every signed-in page, passes axe-core."""

import importlib
import re

import pytest
from django.test import override_settings
from django.urls import clear_url_caches

import carnet.urls
from carnet.common.dates import today
from carnet.identity.enums import SpaceStatus
from carnet.identity.models import Person
from carnet.identity.registry import import_registry
from carnet.identity.synthetic import write_csv
from tests.portal.browser import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Mon-Carnet-2026!"


@pytest.fixture
def demo_site():
    """Demo mode: the dev outbox URL exists and delivered messages keep their text."""
    with override_settings(CARNET_DEMO=True):
        clear_url_caches()
        importlib.reload(carnet.urls)
        yield
    clear_url_caches()
    importlib.reload(carnet.urls)


def read_code_in_outbox(page, base_url: str, recipient: str, pattern: str) -> str:
    page.goto(f"{base_url}/dev/outbox/?q={recipient}")
    assert_accessible(page)
    first_message = page.locator("article.fr-card").first.inner_text()
    match = re.search(pattern, first_message)
    assert match, first_message
    return match.group(1)


def test_read_code_in_outbox_activate_and_log_in_with_one_time_code(live_server, browser_page, demo_site,
                                                                   people, tmp_path):
    row = people.row(birth=today().replace(year=today().year - 35))
    write_csv(tmp_path / "registry.csv", [row])
    assert import_registry(tmp_path / "registry.csv").created == 1
    page, base = browser_page, live_server.url

    code = read_code_in_outbox(page, base, row["email"], r"code provisoire : ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})")

    page.goto(base + "/activer/")
    assert_accessible(page)
    page.get_by_label(re.compile("numéro de sécurité sociale", re.I)).fill(row["nir"])
    page.fill("#id_serial", row["vitale_serial"])
    page.fill("#id_code", code)
    page.click("form[action='/activer/'] button[type=submit]")
    assert page.url.endswith("/activer/identifiants/")
    assert_accessible(page)
    page.click("label[for=id_channel_0]")  # by email, prefilled from the registry
    page.fill("#id_username", "jeanne.test.journey")
    page.click("form[action='/activer/identifiants/'] button[type=submit]")
    assert page.url.endswith("/activer/verification/")
    assert_accessible(page)

    otp = read_code_in_outbox(page, base, row["email"], r"\b(\d{6})\b")
    page.goto(base + "/activer/verification/")
    page.fill("#id_code", otp)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_confirm", PASSWORD)
    page.click("label[for=id_accept_terms]")
    page.click("form[action='/activer/verification/'] button:not([name=resend])")
    assert page.url.endswith("/connexion/")
    assert Person.objects.get(nir=row["nir"]).status == SpaceStatus.ACTIVE

    assert_accessible(page)
    page.fill("#id_username", "jeanne.test.journey")
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/connexion/'] button[type=submit]")
    assert page.url.endswith("/connexion/code/")
    assert_accessible(page)
    login_code = read_code_in_outbox(page, base, row["email"], r"\b(\d{6})\b")
    assert login_code != otp
    page.goto(base + "/connexion/code/")
    page.fill("#id_code", login_code)
    page.click("form[action='/connexion/code/'] button[type=submit]")

    assert page.url == base + "/"
    assert row["family_name"] in page.inner_text("main")
    assert_accessible(page)
    for path in ("/compte/", "/compte/appareils/", "/compte/preferences/", "/compte/mot-de-passe/",
                 "/compte/coordonnees/", "/notifications/", "/historique/", "/famille/"):
        response = page.goto(base + path)
        assert response.status == 200, path
        assert_accessible(page)

    page.goto(base + "/")
    page.click("header button:has-text('English')")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("header button:has-text('Se déconnecter'), header button:has-text('Log out')")
    page.goto(base + "/compte/")
    assert "/connexion/" in page.url


def test_a_parent_switches_to_a_childs_space_and_every_page_stays_accessible(live_server, browser_page, demo_site,
                                                                           family):
    from carnet.identity.actions import activate_child
    from tests.conftest import PASSWORD as HOLDER_PASSWORD

    parent = family.holder()
    child = family.person(age=7, parent=parent.person, email=False)
    activate_child(parent.person, child, certify=True)
    page, base = browser_page, live_server.url

    page.goto(base + "/connexion/")
    page.fill("#id_username", parent.username)
    page.fill("#id_password", HOLDER_PASSWORD)
    page.click("form[action='/connexion/'] button[type=submit]")
    code = read_code_in_outbox(page, base, parent.email, r"\b(\d{6})\b")
    page.goto(base + "/connexion/code/")
    page.fill("#id_code", code)
    page.click("form[action='/connexion/code/'] button[type=submit]")

    page.goto(base + "/famille/")
    assert_accessible(page)
    page.select_option("#profile-switch", str(child.uuid))
    page.click("header form[action='/famille/profil/'] button[type=submit]")
    assert child.first_name in page.locator("h1").inner_text()
    assert_accessible(page)
    page.goto(base + "/historique/")
    assert_accessible(page)
    assert "Activation" in page.inner_text("main") or "activ" in page.inner_text("main").lower()
