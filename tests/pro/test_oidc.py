"""Sign-in through OpenID Connect against a real provider over HTTP (tests/pro/provider.py): the authorization
code flow with PKCE, state and nonce; the ID token's signature, issuer, audience and expiry; the national
identifier ("8" + RPPS) read from `SubjectNameID`; and the refusals."""

import html
import time
import urllib.parse

import pytest
from joserfc.jwk import RSAKey

from carnet.pro.services import PROFESSIONAL_KEY
from tests.pro.conftest import make_pro
from tests.pro.provider import CLIENT_ID

pytestmark = pytest.mark.django_db
START, CALLBACK = "/pro/connexion/oidc/", "/pro/connexion/oidc/retour/"


def text(response) -> str:
    return html.unescape(response.content.decode())


def go_to_provider(client, provider) -> dict:
    response = client.get(START)
    assert response.status_code == 302
    assert response["Location"].startswith(provider.base + "/authorize?")
    return provider.follow_authorize(response["Location"])


def sign_in(client, provider, *, tamper: dict | None = None):
    params = go_to_provider(client, provider)
    params.update(tamper or {})
    return client.get(CALLBACK, params)


@pytest.fixture
def doctor_signing_in(provider, doctor):
    provider.national_id = doctor.national_id
    return doctor


def signed_in_as(client):
    return client.session.get(PROFESSIONAL_KEY)


def test_the_button_is_shown_only_when_a_provider_is_configured(client, settings):
    settings.CARNET_PRO_OIDC_ISSUER = ""
    page = client.get("/pro/connexion/")
    assert page.status_code == 200 and "Se connecter avec" not in text(page)
    assert client.get(START).status_code == 404
    assert client.get(CALLBACK).status_code == 404


def test_successful_sign_in_with_pkce_state_and_nonce(client, provider, doctor_signing_in):
    page = client.get("/pro/connexion/")
    assert "Se connecter avec Pro Santé Connect" in text(page)
    before = client.session.session_key
    response = sign_in(client, provider)
    assert response.status_code == 302 and response["Location"] == "/pro/"
    assert signed_in_as(client) == str(doctor_signing_in.uuid)
    assert client.session.session_key != before  # rotated at sign-in
    asked = provider.seen["authorize"]
    assert asked["code_challenge_method"] == "S256" and asked["client_id"] == CLIENT_ID
    assert asked["scope"] == "openid scope_all" and asked["acr_values"] == "eidas1"
    assert asked["redirect_uri"] == "https://carnet.test/pro/connexion/oidc/retour/"
    assert len(asked["state"]) >= 32 and len(asked["nonce"]) >= 32
    assert "code_verifier" not in asked and provider.seen["token"]["code_verifier"]
    home = client.get("/pro/")
    assert home.status_code == 200 and doctor_signing_in.full_name in text(home)


def test_the_callback_cannot_be_replayed(client, provider, doctor_signing_in):
    params = go_to_provider(client, provider)
    assert client.get(CALLBACK, params).status_code == 302
    client.session.flush()
    assert client.get(CALLBACK, params).status_code == 400


def refused(response, caplog, code: str):
    assert response.status_code == 400
    assert "Votre connexion n'a pas pu être vérifiée" in text(response)
    assert f"OpenID Connect check failed ({code})" in caplog.text
    return True


def test_bad_state_is_refused(client, provider, doctor_signing_in, caplog):
    response = sign_in(client, provider, tamper={"state": "forged"})
    assert refused(response, caplog, "state") and signed_in_as(client) is None


def test_bad_nonce_is_refused(client, provider, doctor_signing_in, caplog):
    provider.id_token_claims = {"nonce": "another-nonce"}
    assert refused(sign_in(client, provider), caplog, "nonce") and signed_in_as(client) is None


def test_bad_signature_is_refused(client, provider, doctor_signing_in, caplog):
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})  # same kid, another key
    assert refused(sign_in(client, provider), caplog, "signature") and signed_in_as(client) is None


def test_wrong_audience_is_refused(client, provider, doctor_signing_in, caplog):
    provider.id_token_claims = {"aud": "another-client"}
    assert refused(sign_in(client, provider), caplog, "audience") and signed_in_as(client) is None


def test_wrong_issuer_is_refused(client, provider, doctor_signing_in, caplog):
    provider.id_token_claims = {"iss": "https://elsewhere.example"}
    assert refused(sign_in(client, provider), caplog, "issuer") and signed_in_as(client) is None


def test_expired_token_is_refused(client, provider, doctor_signing_in, caplog):
    now = int(time.time())
    provider.id_token_claims = {"iat": now - 7200, "exp": now - 3600}
    assert refused(sign_in(client, provider), caplog, "expired") and signed_in_as(client) is None


def test_userinfo_for_another_subject_is_refused(client, provider, doctor_signing_in, caplog):
    provider.userinfo_claims = {"sub": "someone-else"}
    assert refused(sign_in(client, provider), caplog, "userinfo_subject")


def test_a_cancelled_sign_in_says_so(client, provider, doctor_signing_in):
    go_to_provider(client, provider)
    response = client.get(CALLBACK, {"error": "access_denied", "state": "x"})
    assert response.status_code == 400 and "annulée" in text(response)


def test_unknown_rpps_is_refused_clearly(client, provider, doctor, caplog):
    provider.national_id = "810000000000"
    response = sign_in(client, provider)
    assert response.status_code == 403
    assert "ne figure pas dans l'annuaire" in text(response)
    assert signed_in_as(client) is None


def test_an_identifier_that_is_not_8_plus_rpps_is_refused(client, provider, doctor):
    provider.national_id = doctor.rpps  # the bare RPPS is not the national identifier
    assert sign_in(client, provider).status_code == 403


def test_inactive_professional_is_refused_clearly(client, provider):
    inactive = make_pro("10", active=False)
    provider.national_id = inactive.national_id
    response = sign_in(client, provider)
    assert response.status_code == 403
    assert "n'est plus active" in text(response)
    assert signed_in_as(client) is None


def test_the_identifier_claim_is_configurable(client, provider, doctor, settings):
    settings.CARNET_PRO_OIDC_ID_CLAIM = "idnps"
    provider.national_id = "810000000000"  # SubjectNameID says someone unknown
    provider.userinfo_claims = {"idnps": doctor.national_id}
    assert sign_in(client, provider).status_code == 302
    assert signed_in_as(client) == str(doctor.uuid)


def test_an_http_provider_outside_the_loopback_is_refused(client, settings, caplog):
    settings.CARNET_PRO_OIDC_ISSUER = "http://provider.example"
    settings.CARNET_PRO_OIDC_CLIENT_ID = CLIENT_ID
    response = client.get(START)
    assert response.status_code == 502
    assert "insecure_url" in caplog.text


def test_no_token_or_identifier_reaches_the_logs_or_the_url(client, provider, doctor_signing_in, caplog):
    response = sign_in(client, provider, tamper={"state": "forged"})
    assert response.status_code == 400
    assert doctor_signing_in.national_id not in caplog.text
    params = go_to_provider(client, provider)
    assert doctor_signing_in.national_id not in urllib.parse.urlencode(params)
