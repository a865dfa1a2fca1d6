"""An API client speaking JSON with a bearer token, and a helper that signs a holder in through
the API itself (password, then the one-time code read from the outbox)."""

import json

import pytest
from django.test import Client

from tests.conftest import PASSWORD, code_in, last_message_to


class ApiClient:
    """A CSRF-enforcing client (as a browser would be): the API must not depend on cookies."""

    def __init__(self, token: str = ""):
        self.client = Client(enforce_csrf_checks=True)
        self.token = token

    def _headers(self, headers):
        headers = dict(headers or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def get(self, path, params=None, headers=None):
        return self.client.get(path, params or {}, headers=self._headers(headers))

    def post(self, path, body=None, headers=None):
        return self.client.post(path, json.dumps(body or {}), content_type="application/json",
                                headers=self._headers(headers))

    def put(self, path, body=None, headers=None):
        return self.client.put(path, json.dumps(body or {}), content_type="application/json",
                               headers=self._headers(headers))

    def delete(self, path, headers=None):
        return self.client.delete(path, headers=self._headers(headers))


@pytest.fixture
def api():
    return ApiClient()


def sign_in(account, *, password: str = PASSWORD, device_name: str = "") -> ApiClient:
    client = ApiClient()
    response = client.post("/api/auth/login", {"username": account.username, "password": password})
    assert response.status_code == 200, response.content
    otp_id = response.json()["otp_id"]
    code = code_in(last_message_to(account.otp_destination()).body)
    response = client.post("/api/auth/login/otp",
                           {"otp_id": otp_id, "code": code, "device_name": device_name})
    assert response.status_code == 200, response.content
    client.token = response.json()["access_token"]
    return client


@pytest.fixture
def signed_in():
    return sign_in
