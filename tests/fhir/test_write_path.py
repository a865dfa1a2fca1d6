"""The FHIR writes' short path: professional tokens told apart by their prefix and looked up on every request
(revocation, expiry and deactivation take effect at once), and `FhirWriteMiddleware` (POST/PATCH under /fhir/ skip
the portal's middleware but keep the language, the channel of the access event and the security headers)."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from carnet.common.secrets import keyed_hash, new_token
from carnet.record.models import Document
from carnet.sharing.models import AccessEvent, Professional, ProfessionalToken
from carnet.sharing.tokens import (
    PREFIX,
    TOKEN_PURPOSE,
    issue_professional_token,
    professional_for_token,
    revoke_professional_token,
)

from . import pdsm_bundles as pdsm
from .pdsm_bundles import WriteClient

pytestmark = pytest.mark.django_db


def test_a_professional_token_has_the_prefix_and_names_its_professional(author):
    _row, token = issue_professional_token(author)
    assert token.startswith(PREFIX) and len(token) > len(PREFIX) + 40
    assert professional_for_token(token) == author
    assert professional_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_a_revoked_token_is_refused_on_the_next_bundle_and_nothing_is_stored(holder, author):
    _row, token = issue_professional_token(author)
    software = WriteClient(token)
    first = software.post("/fhir/", pdsm.cda_bundle())
    assert first.status_code == 200, first.data

    assert revoke_professional_token(token)
    again = software.post("/fhir/", pdsm.cda_bundle(unique_id="1.2.250.1.999.2.1", set_unique_id="1.2.250.1.999.2"))

    assert again.status_code == 401
    assert 'error="invalid_token"' in again["WWW-Authenticate"]
    assert Document.objects.filter(person=holder).count() == 1


def test_an_expired_token_and_an_inactive_professionals_token_are_refused(holder, author):
    _row, expired = issue_professional_token(author, lifetime=dt.timedelta(seconds=-1))
    assert WriteClient(expired).post("/fhir/", pdsm.cda_bundle()).status_code == 401
    _row, token = issue_professional_token(author)
    Professional.objects.filter(pk=author.pk).update(active=False)
    assert WriteClient(token).post("/fhir/", pdsm.cda_bundle()).status_code == 401
    assert not Document.objects.exists()


def test_a_token_issued_before_the_prefix_still_works(holder, author):
    token = new_token()  # as issued before the prefix: no "pro."
    ProfessionalToken.objects.create(professional=author, token_hash=keyed_hash(token, TOKEN_PURPOSE),
                                     expires_at=timezone.now() + dt.timedelta(hours=1))
    response = WriteClient(token).post("/fhir/", pdsm.cda_bundle())
    assert response.status_code == 200, response.data


def test_a_write_keeps_the_fhir_channel_and_the_security_headers_without_session_or_csp(holder, author):
    _row, token = issue_professional_token(author)
    response = WriteClient(token).post("/fhir/", pdsm.cda_bundle())
    assert response.status_code == 200, response.data
    assert AccessEvent.objects.get(person=holder, action="document.add").channel == "fhir"
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Language"] == "fr" and "Accept-Language" in response["Vary"]
    assert "Content-Security-Policy" not in response and not response.cookies


def test_a_write_answers_in_the_language_the_client_asks_for(holder, author):
    _row, token = issue_professional_token(author)
    software = WriteClient(token)
    english = software.send("POST", "/fhir/", raw=b"{not json", headers={"Accept-Language": "en"})
    french = software.send("POST", "/fhir/", raw=b"{not json")
    assert english.status_code == french.status_code == 400
    assert english.data["issue"][0]["diagnostics"] == "The request body is not valid JSON."
    assert french.data["issue"][0]["diagnostics"] == "Le corps de la requête n'est pas un JSON valide."
    assert english["Content-Language"] == "en"


def test_reads_still_take_the_whole_middleware_stack(holder, author):
    response = Client().get("/fhir/metadata", headers={"Accept": "application/fhir+json"})
    assert response.status_code == 200
    assert "Content-Security-Policy" in response or "Content-Security-Policy-Report-Only" in response
