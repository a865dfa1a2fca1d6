"""The OpenAPI document and docs, and project-wide rules about what may appear in a URL."""

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

SECRET_WORDS = ("nir", "code", "serial", "password", "token", "birth")


@pytest.fixture
def document():
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def test_openapi_lists_the_paths(document):
    assert document["openapi"].startswith("3.")
    for path in ["/api/enrolment/activation", "/api/auth/login/otp", "/api/me", "/api/notifications",
                 "/api/profiles/{profile_id}/representatives", "/api/representations/{representation_id}"]:
        assert path in document["paths"], path
    assert document["components"]["securitySchemes"]["BearerAuth"] == {"type": "http", "scheme": "bearer"}


def test_only_enrolment_and_sign_in_are_public(document):
    public = {
        path for path, operations in document["paths"].items() for operation in operations.values()
        if not operation.get("security")
    }
    assert all(p.startswith(("/api/enrolment/", "/api/auth/")) for p in public), public
    assert "/api/auth/logout" not in public


def test_urls_carry_only_uuids_never_secrets_or_identity(document):
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                name = parameter["name"]
                assert not any(word in name for word in SECRET_WORDS), (path, name)
                if parameter["in"] == "path":
                    assert parameter["schema"].get("format") == "uuid", (path, name)


def test_docs_page_is_served():
    assert Client().get("/api/docs").status_code == 200
