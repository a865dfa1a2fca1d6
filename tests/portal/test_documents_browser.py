"""The issue's browser test, in Debian's Chromium: the holder uploads a PDF, finds it with a filter,
opens it, masks it, deletes it. Every page passes axe-core."""

import re

import pytest

from carnet.record.enums import DocumentStatus
from carnet.record.models import Document
from tests.conftest import PASSWORD
from tests.portal.browser import assert_accessible
from tests.portal.test_journey import demo_site, read_code_in_outbox  # noqa: F401 - fixture
from tests.record.conftest import make_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_filter_open_mask_delete(live_server, browser_page, demo_site, family, tmp_path):  # noqa: F811
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

    page.goto(base + "/documents/")
    assert_accessible(page)
    page.click("text=Ajouter un document")
    assert_accessible(page)
    pdf = tmp_path / "prise-de-sang.pdf"
    pdf.write_bytes(make_pdf("Bilan sanguin"))
    page.set_input_files("#id_file", str(pdf))
    page.fill("#id_title", "Prise de sang de novembre")
    page.select_option("#id_type_code", "DOCPAT05")
    page.click("main form button[type=submit]")
    assert re.search(r"/documents/[0-9a-f-]{36}/$", page.url), page.url
    assert_accessible(page)

    page.goto(base + "/documents/")
    page.select_option("#id_category", "RADIO_SC")
    page.click("text=Appliquer les filtres")
    assert "Prise de sang de novembre" not in page.inner_text("main")
    page.select_option("#id_category", "BIOLOGIE")
    page.click("text=Appliquer les filtres")
    assert_accessible(page)
    page.click("text=Prise de sang de novembre")
    assert page.locator("h1").inner_text() == "Prise de sang de novembre"
    assert page.locator("iframe.carnet-viewer").count() == 1
    assert_accessible(page)

    page.click("button:has-text('Masquer aux professionnels')")
    assert "masqué aux professionnels" in page.inner_text("main")
    doc = Document.objects.get(person=holder.person)
    assert doc.masked_to_professionals

    page.click("main a:has-text('Supprimer')")
    assert_accessible(page)
    page.click("button:has-text('Supprimer définitivement')")
    assert page.url.endswith("/documents/")
    assert "Prise de sang de novembre" not in page.inner_text("main")
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.DELETED

    page.goto(base + "/historique/")
    assert re.search(r"Suppression d['’]un document", page.inner_text("main"))
    assert_accessible(page)
