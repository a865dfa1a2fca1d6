"""Signing in test clients the way the portal does: a session plus a live device row.

`client.force_login` alone is not enough: DeviceSessionMiddleware signs out any session whose
`session["device"]` does not point at an open `DeviceSession` of the account.
"""

import re

from django.test import Client

from carnet.identity.actions.login import open_device
from carnet.identity.models import Account, DeviceSession


def sign_in(client: Client, account: Account, *, user_agent: str = "pytest") -> DeviceSession:
    """Open an authenticated session on `client` for `account`, registered as a web device."""
    client.force_login(account)
    session = client.session
    device, _ = open_device(account, kind=DeviceSession.Kind.WEB, session_key=session.session_key,
                            user_agent=user_agent)
    session["device"] = str(device.uuid)
    session.save()
    return device


def csrf_token(client: Client, url: str) -> str:
    """GET a page (as a browser does before posting) and return the CSRF token of its form."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.content)
    assert match, "no CSRF token in the page"
    return match.group(1).decode()


def post_form(client: Client, page_url: str, data: dict, *, action: str | None = None, **extra):
    """Fetch `page_url`, then post `data` with the page's CSRF token to `action` (default: the page)."""
    token = csrf_token(client, page_url)
    return client.post(action or page_url, {**data, "csrfmiddlewaretoken": token}, **extra)
