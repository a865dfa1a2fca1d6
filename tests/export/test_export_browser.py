"""Extraire mes données in Debian's Chromium: the holder asks for an export (password again), sees it ready and
downloads the ZIP; the page passes axe-core. Documents: the ci-sis-2.41 examples of conftest.py."""

import zipfile

import pytest

from carnet.export.models import Export
from tests.conftest import PASSWORD
from tests.portal.browser import assert_accessible, browser_page  # noqa: F401 - fixture
from tests.portal.test_caregivers_browser import log_in
from tests.portal.test_journey import demo_site  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_request_and_download_an_export(live_server, browser_page, demo_site, space, tmp_path):  # noqa: F811
    account, person, _documents = space
    page, base = browser_page, live_server.url
    log_in(page, base, account)
    page.goto(base + "/compte/")
    page.click("a:has-text('Extraire mes données')")
    assert page.locator("h1").inner_text() == "Extraire mes données"
    assert_accessible(page)
    page.fill("#id_password", "pas le bon")
    page.click("main form button[type=submit]")
    assert "Mot de passe incorrect." in page.locator("main").inner_text()
    assert_accessible(page)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    assert "Votre demande est enregistrée" in page.locator("main").inner_text()
    assert_accessible(page)
    export = Export.objects.get(person=person)
    with page.expect_download() as found:
        page.click(f"a[href='/compte/export/{export.uuid}/']")
    path = tmp_path / "export.zip"
    found.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        assert {"IHE_XDM/SUBSET01/METADATA.XML", "FHIR/ESPACE01.json", "SYNTHESE/ESPACE01.pdf"} <= set(
            archive.namelist())
