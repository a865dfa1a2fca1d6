"""Qui peut voir quels documents: the holder reads, per profession, which document types the habilitation
matrix lets it read, with unknown cells shown as refused by default."""

import re

import pytest

from tests.portal.helpers import sign_in

pytestmark = pytest.mark.django_db
URL = "/confidentialite/habilitations/"


@pytest.fixture
def holder_client(client, family):
    sign_in(client, family.holder())
    return client


def test_signed_out_visitors_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")


def test_the_page_opens_on_the_doctor_row(holder_client):
    response = holder_client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<h1") == 1 and "Qui peut voir quels documents" in page
    assert '<option value="10" selected>Médecin</option>' in page
    assert "113 types de documents accessibles" in page and "1 non accessible" in page
    assert "Non vérifié : refusé par défaut" not in page.split('id="resultat"')[1]
    assert '<caption>Biologie</caption>' in page and 'scope="row"' in page


def test_choosing_a_profession_shows_its_row_grouped_by_category(holder_client):
    response = holder_client.get(URL, {"profession": "60"})
    assert response.status_code == 200
    page = response.content.decode()
    assert '<option value="60" selected>Infirmier</option>' in page
    assert "11 types de documents accessibles" in page and "5 non accessibles" in page
    assert "Non vérifié : refusé par défaut" in page
    row = page.split("Demande d&#x27;acte de télémédecine</th>")[1].split("</tr>")[0]
    assert "Non accessible" in row and 'href="#source-b"' in row
    assert 'id="source-b"' in page and "infirmiers.com" in page


def test_a_profession_with_no_verified_cell_is_shown_as_refused_by_default(holder_client):
    page = holder_client.get(URL, {"profession": "50"}).content.decode()
    assert re.search(r"\b0 types? de documents? accessibles?", page)  # plural form depends on the catalogue
    assert "Aucune règle de cette profession n'a pu être vérifiée" in page


def test_an_unknown_or_unidentified_profession_is_a_form_error(holder_client):
    for code in ("99", "ANNEX_14"):
        response = holder_client.get(URL, {"profession": code})
        assert response.status_code == 400
        page = response.content.decode()
        assert "Choisissez une profession dans la liste." in page and "<caption>" not in page
    assert "ANNEX_14" not in holder_client.get(URL).content.decode()
