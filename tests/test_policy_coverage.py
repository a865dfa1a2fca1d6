"""Every view that touches a person's data goes through the one policy function (DESIGN.md §1).

Walks every URL pattern of the project and calls it, GET and POST, as a signed-in holder (session for the
portal, bearer token for the API and FHIR), with a profiler hook that sees every call of
`carnet.sharing.policy.decide`. A response that did something (not a redirect to sign in, not 401, 404 or
405) must have asked the policy, unless the route is on the short list of pages that touch nobody's data
(public pages, sign-in, enrolment, reference data). A new endpoint that forgets the policy fails here.
Limit: ids in URLs are random uuids, so id routes are mostly checked on their refusal path; their
"found" path is covered by each area's own tests (which assert the access events).
"""

import re
import sys

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from carnet.sharing import policy
from tests.api.conftest import sign_in as api_sign_in
from tests.portal.helpers import sign_in

pytestmark = pytest.mark.django_db

# Routes that touch no person's data, and why.
NO_PERSON_DATA = {
    "/healthz": "service health",
    "/api/openapi.json": "API description", "/api/docs": "API description",
    "/fhir/metadata": "CapabilityStatement",
    "/": "public home (the signed-in dashboard asks the policy: checked separately below)",
    "/cgu/": "terms", "/accessibilite/": "accessibility statement",
    # Not "no data", but not the sharing policy's question either: an invitation addressed to the signed-in
    # person shows them the name the inviting representative chose to share (the invitee has no access yet).
    "/api/invitations": "invitations addressed to the caller",
    # Reference data (code tables, the directory of professionals, the medicine base).
    "/api/document-types": "reference", "/api/medical/vaccines": "reference",
    "/api/medical/medicines/search": "reference", "/api/sharing/directory/search": "reference",
    "/api/medical/sections": "reference", "/confidentialite/habilitations/": "the habilitation matrix",
}
# Enrolment and sign-in act on credentials and codes before anyone is signed in: their own rules
# (attempt limits, keyed hashes), not the sharing policy.
SIGN_IN_PREFIXES = ("/api/enrolment/", "/api/auth/", "/activer/", "/opposition/", "/code-provisoire/",
                    "/connexion/", "/deconnexion/", "/mot-de-passe-oublie/", "/identifiant-oublie/", "/i18n/",
                    "/exploitation/", "/static/",
                    # The pro portal's sign-in (OpenID Connect, demo) and sign-out: the directory, not a person.
                    "/pro/connexion/", "/pro/deconnexion/")
NOT_REACHED = {302, 401, 403, 404, 405}  # redirected to sign in, refused, or no such thing


def iter_patterns(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from iter_patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def concrete(route: str) -> str | None:
    path = "/" + route
    path = re.sub(r"<uuid:\w+>", "00000000-0000-4000-8000-000000000000", path)
    path = re.sub(r"<(?:str|slug|path):\w+>", "x", path)
    path = re.sub(r"<int:\w+>", "1", path)
    path = re.sub(r"<\w+>", "00000000-0000-4000-8000-000000000000", path)  # django-ninja's untyped parameters
    return None if "(?P" in path or "^" in path else path


def test_every_view_with_person_data_asks_the_policy(client, family):
    sign_in(client, family.holder())
    api = api_sign_in(family.holder())
    calls: list[int] = []

    def hook(frame, event, arg):
        if event == "call" and frame.f_code is policy.decide.__code__:
            calls.append(1)

    checked, skipped = [], []
    for route, _pattern in iter_patterns(get_resolver()):
        path = concrete(route)
        if path is None or path in NO_PERSON_DATA or path.startswith(SIGN_IN_PREFIXES):
            skipped.append(route)
            continue
        through_api = path.startswith(("/api/", "/fhir/"))
        caller = api.client if through_api else client
        headers = api._headers(None) if through_api else {}
        for method in ("get", "post"):
            calls.clear()
            sys.setprofile(hook)
            try:
                response = getattr(caller, method)(path, headers=headers)
            finally:
                sys.setprofile(None)
            if response.status_code in NOT_REACHED or response.status_code == 422 or (
                    method == "post" and response.status_code in (400, 415)):
                continue  # input refused by validation (422; an empty POST, 415 a body that is not FHIR JSON)
            checked.append((method, path))
            assert calls, f"{method.upper()} {path} answered {response.status_code} without asking the policy"
    assert len(checked) > 40, checked  # the walk really reached the views


def test_the_signed_in_dashboard_asks_the_policy(client, family):
    sign_in(client, family.holder())
    calls: list[int] = []

    def hook(frame, event, arg):
        if event == "call" and frame.f_code is policy.decide.__code__:
            calls.append(1)

    sys.setprofile(hook)
    try:
        assert client.get("/").status_code == 200
    finally:
        sys.setprofile(None)
    assert calls
