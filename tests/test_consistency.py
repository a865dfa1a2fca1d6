"""Project-wide rules, checked over every model and URL rather than one feature at a time."""

import re

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from carnet.identity.models import Person

pytestmark = pytest.mark.django_db

# Tables that hold no person's data, or are the person itself.
NOT_PERSONAL = {"Person", "Opposition", "Throttle", "Account", "MedicinePresentation",
                # The professionals' directory (reference tables).
                "Professional", "Establishment", "ActivityPlace", "CareTeam", "CareTeamMember", "ProfessionalToken"}


def iter_patterns(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from iter_patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def test_every_carnet_table_about_a_person_points_at_the_person():
    """DESIGN.md §4: person_id on every table that holds a person's data (what sharding needs)."""
    for model in apps.get_models():
        if not model.__module__.startswith("carnet.") or model.__name__ in NOT_PERSONAL:
            continue
        person_fks = [f for f in model._meta.get_fields()
                      if getattr(f, "related_model", None) in (Person,) and (f.many_to_one or f.one_to_one)
                      and f.concrete]
        account_fk = any(getattr(f, "related_model", None).__name__ == "Account" for f in model._meta.get_fields()
                         if getattr(f, "many_to_one", False))
        assert person_fks or account_fk, f"{model.__name__} has no person_id"


def test_no_url_exposes_a_sequential_id():
    """Public identifiers are UUIDs or opaque tokens, never integer primary keys."""
    for route, _ in iter_patterns(get_resolver()):
        assert "<int:" not in route, route


def test_every_portal_page_requires_login_unless_it_says_otherwise(client):
    from carnet.portal import urls

    for pattern in urls.urlpatterns:
        if getattr(pattern.callback, "login_exempt", False):
            continue
        route = "/" + str(pattern.pattern)
        route = re.sub(r"<uuid:\w+>", "00000000-0000-4000-8000-000000000000", route)
        route = re.sub(r"<(?:str|slug):\w+>", "quelque-chose", route)
        response = client.get(route)
        assert response.status_code == 302 and "/connexion/" in response["Location"], route


def test_the_operator_console_has_no_password_only_login(client):
    response = client.get("/exploitation/login/?next=/exploitation/")
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")


def test_an_operator_signs_in_with_a_one_time_code_and_reaches_the_console(client):
    from carnet.identity.models import Account
    from tests.conftest import PASSWORD, code_in, last_message_to

    Account.objects.create_superuser("operateur.carnet", PASSWORD, email="ops@example.org")
    response = client.post("/connexion/", {"username": "operateur.carnet", "password": PASSWORD})
    assert response.status_code == 302
    code = code_in(last_message_to("ops@example.org").body)
    response = client.post("/connexion/code/", {"code": code})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/exploitation/").status_code == 200
