"""The demo sign-in (demo mode only), and a professional's session kept apart from a holder's login."""

import pytest
from django.test import override_settings

from carnet.pro.services import PROFESSIONAL_KEY
from tests.portal.helpers import post_form, sign_in
from tests.pro.conftest import make_pro, pro_sign_in

pytestmark = pytest.mark.django_db
DEMO = "/pro/connexion/demo/"


@override_settings(CARNET_DEMO=False)
def test_demo_sign_in_does_not_exist_outside_demo_mode(client, doctor):
    assert client.get(DEMO).status_code == 404
    assert client.post(DEMO, {"professional": str(doctor.uuid)}).status_code == 404
    assert PROFESSIONAL_KEY not in client.session
    assert "Connexion de démonstration" not in client.get("/pro/connexion/").content.decode()


@override_settings(CARNET_DEMO=True)
def test_demo_sign_in_as_a_directory_professional_rotates_the_session(csrf_client, doctor):
    page = csrf_client.get(DEMO)
    assert page.status_code == 200 and doctor.full_name in page.content.decode()
    before = csrf_client.session.session_key
    response = post_form(csrf_client, DEMO, {"professional": str(doctor.uuid)})
    assert response.status_code == 302 and response["Location"] == "/pro/"
    assert csrf_client.session[PROFESSIONAL_KEY] == str(doctor.uuid)
    assert csrf_client.session.session_key != before


@override_settings(CARNET_DEMO=True)
def test_demo_sign_in_offers_only_active_professionals(client, doctor):
    inactive = make_pro("10", family_name="ANCIEN", active=False)
    assert inactive.full_name not in client.get(DEMO).content.decode()
    assert client.post(DEMO, {"professional": str(inactive.uuid)}).status_code == 400
    assert PROFESSIONAL_KEY not in client.session


def test_pro_pages_need_a_professional(client):
    response = client.get("/pro/")
    assert response.status_code == 302 and response["Location"] == "/pro/connexion/"


def test_a_signed_in_holder_is_not_a_professional(client, family):
    sign_in(client, family.holder())
    assert client.get("/documents/").status_code == 200
    response = client.get("/pro/")
    assert response.status_code == 302 and response["Location"] == "/pro/connexion/"


def test_a_professional_is_not_a_signed_in_holder(client, doctor):
    pro_sign_in(client, doctor)
    assert client.get("/pro/").status_code == 200
    response = client.get("/documents/")
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")


@override_settings(CARNET_DEMO=True)
def test_signing_in_as_a_professional_ends_a_holders_login(client, family, doctor):
    sign_in(client, family.holder())
    client.post(DEMO, {"professional": str(doctor.uuid)})
    assert client.get("/pro/").status_code == 200
    assert client.get("/documents/").status_code == 302


def test_a_holder_signing_in_on_the_same_browser_ends_the_professionals_session(client, family, doctor):
    pro_sign_in(client, doctor)
    sign_in(client, family.holder())
    assert client.get("/pro/").status_code == 302
    assert PROFESSIONAL_KEY not in client.session


def test_sign_out(csrf_client, doctor):
    pro_sign_in(csrf_client, doctor)
    response = post_form(csrf_client, "/pro/", {}, action="/pro/deconnexion/")
    assert response.status_code == 302 and response["Location"] == "/pro/connexion/"
    assert PROFESSIONAL_KEY not in csrf_client.session
    assert csrf_client.get("/pro/").status_code == 302


def test_pro_pages_are_never_cached(client, doctor):
    pro_sign_in(client, doctor)
    assert "no-store" in client.get("/pro/")["Cache-Control"]


def test_every_pro_page_but_sign_in_needs_a_professional(client, family):
    import re

    from carnet.pro import urls

    sign_in(client, family.holder())  # a holder's login opens none of them
    for pattern in urls.urlpatterns:
        route = "/pro/" + str(pattern.pattern)
        if route.startswith(("/pro/connexion/", "/pro/deconnexion/")):
            continue
        route = re.sub(r"<uuid:\w+>", "00000000-0000-4000-8000-000000000000", route)
        route = re.sub(r"<str:\w+>", "quelque-chose", route)
        for method in ("get", "post"):
            response = getattr(client, method)(route)
            assert response.status_code == 302 and response["Location"] == "/pro/connexion/", (method, route)
