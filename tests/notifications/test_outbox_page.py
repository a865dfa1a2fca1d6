"""The dev outbox exists in demo mode only."""

import importlib

import pytest
from django.test import override_settings
from django.urls import clear_url_caches

import carnet.urls
from carnet.notifications import actions

pytestmark = pytest.mark.django_db


def reload_urls():
    clear_url_caches()
    importlib.reload(carnet.urls)


@pytest.fixture
def demo_urls():
    with override_settings(CARNET_DEMO=True):
        reload_urls()
        yield
    reload_urls()


def test_outbox_does_not_exist_outside_demo_mode(client):
    reload_urls()
    assert client.get("/dev/outbox/").status_code == 404


def test_outbox_lists_every_message_in_demo_mode(client, demo_urls):
    actions.send_email("lea@example.org", "Carnet : votre espace santé personnel est prêt", "Code : ABCD-EFGH-JKMN")
    response = client.get("/dev/outbox/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "lea@example.org" in html and "ABCD-EFGH-JKMN" in html


def test_demo_serves_the_design_system_files_itself(client, demo_urls):
    response = client.get("/static/dsfr/dist/dsfr/dsfr.min.css")
    assert response.status_code == 200
