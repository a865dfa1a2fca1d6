"""Professionals' sign-in through OpenID Connect, the way Pro Santé Connect works: authorization code flow with
PKCE (S256), `state` and `nonce`, the ID token's signature checked against the provider's JWKS, its issuer,
audience, expiry and nonce checked, then userinfo (whose `sub` must be the ID token's).

The professional is identified by their national identifier (IDNPS, "8" + RPPS), read from the claim named by
`CARNET_PRO_OIDC_ID_CLAIM`, looked up in userinfo first, then in the ID token. Pro Santé Connect returns it as
`SubjectNameID` in userinfo (`preferred_username` carries the same value; `sub` is an opaque technical id), hence
the default. Its default scopes (`openid scope_all`) and `acr_values=eidas1` are Pro Santé Connect's too; any
provider that works the same way can be configured through the settings.

Why hand-written on joserfc and the standard library rather than authlib: authlib's Django client pulls in
`requests` and its own JOSE module is deprecated in favour of joserfc (same author). What remains is small and
explicit — build one URL, one form POST, one GET — so every check this face relies on is in this file, in
order, and tested against a real provider over HTTP (tests/pro/provider.py). Secrets (the code verifier, tokens)
never leave this module; errors carry a code, never a token or a claim's value.
"""

import base64
import dataclasses
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings
from django.urls import reverse
from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import KeySet

SESSION_KEY = "pro:oidc"
FLOW_SECONDS = 600  # a sign-in started more than 10 minutes ago is stale
LEEWAY_SECONDS = 60  # clock skew tolerated on exp/iat
CACHE_SECONDS = 600  # discovery document and JWKS
ALGORITHMS = ("RS256", "PS256", "ES256")  # asymmetric only: never "none", never HS* with a public key
_cache: dict[str, tuple[float, Any]] = {}


class OidcError(Exception):
    """The sign-in could not be verified. `code` says which check failed (for logs and tests); never a token."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


@dataclasses.dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    algorithms: tuple[str, ...] = ALGORITHMS


@dataclasses.dataclass(frozen=True)
class Identity:
    """What the provider vouched for: the national identifier, and the subject it was issued under."""

    national_id: str
    subject: str


def configured() -> bool:
    return bool(settings.CARNET_PRO_OIDC_ISSUER and settings.CARNET_PRO_OIDC_CLIENT_ID)


def provider_name() -> str:
    return settings.CARNET_PRO_OIDC_NAME


def redirect_uri() -> str:
    """Where the provider sends the professional back: built from the public URL, never from the Host header."""
    return settings.CARNET_PUBLIC_URL.rstrip("/") + reverse("pro:oidc_callback")


# --- HTTP -------------------------------------------------------------------------------------------------------


def _check_url(url: str) -> str:
    """https only, except on the loopback (a provider on the same machine, as in tests)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return url
    raise OidcError("insecure_url")


def _http(url: str, *, data: dict | None = None, headers: dict | None = None) -> tuple[str, bytes]:
    request = urllib.request.Request(  # noqa: S310 - scheme checked by _check_url
        _check_url(url), data=urllib.parse.urlencode(data).encode() if data is not None else None,
        headers={"Accept": "application/json", **(headers or {})}, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=settings.CARNET_PRO_OIDC_TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.headers.get_content_type(), response.read(1 << 20)
    except urllib.error.HTTPError as exc:
        raise OidcError("provider_refused") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise OidcError("provider_unreachable") from exc


def _json(url: str, **kwargs) -> dict:
    _type, body = _http(url, **kwargs)
    try:
        value = json.loads(body)
    except ValueError:
        raise OidcError("provider_bad_response") from None
    if not isinstance(value, dict):
        raise OidcError("provider_bad_response")
    return value


def _cached(key: str, fetch, *, refresh: bool = False):
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is None or refresh or now - hit[0] > CACHE_SECONDS:
        hit = (now, fetch())
        _cache[key] = hit
    return hit[1]


def provider() -> Provider:
    """The provider's endpoints, from its discovery document; its issuer must be the configured one."""
    if not configured():
        raise OidcError("not_configured")
    issuer = settings.CARNET_PRO_OIDC_ISSUER.rstrip("/")
    url = settings.CARNET_PRO_OIDC_DISCOVERY_URL or issuer + "/.well-known/openid-configuration"
    document = _cached(f"discovery:{url}", lambda: _json(url))
    if str(document.get("issuer", "")).rstrip("/") != issuer:
        raise OidcError("issuer")
    try:
        advertised = document.get("id_token_signing_alg_values_supported") or ALGORITHMS
        return Provider(
            issuer=document["issuer"], authorization_endpoint=_check_url(document["authorization_endpoint"]),
            token_endpoint=_check_url(document["token_endpoint"]), jwks_uri=_check_url(document["jwks_uri"]),
            userinfo_endpoint=_check_url(document["userinfo_endpoint"]) if document.get("userinfo_endpoint") else "",
            algorithms=tuple(a for a in ALGORITHMS if a in advertised) or ALGORITHMS,
        )
    except (KeyError, TypeError):
        raise OidcError("provider_bad_response") from None


def _keys(found: Provider, *, refresh: bool = False) -> KeySet:
    try:
        return _cached(f"jwks:{found.jwks_uri}", lambda: KeySet.import_key_set(_json(found.jwks_uri)),  # type: ignore[arg-type]
                       refresh=refresh)
    except (jose_errors.JoseError, ValueError, TypeError, KeyError):
        raise OidcError("provider_bad_keys") from None


# --- the flow ---------------------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def begin(session) -> str:
    """Start a sign-in: remember state, nonce and the PKCE verifier in the session; the provider's URL."""
    found = provider()
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    session[SESSION_KEY] = {"state": state, "nonce": nonce, "verifier": verifier, "at": time.time()}
    params = {
        "response_type": "code", "client_id": settings.CARNET_PRO_OIDC_CLIENT_ID, "redirect_uri": redirect_uri(),
        "scope": settings.CARNET_PRO_OIDC_SCOPES, "state": state, "nonce": nonce,
        "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()), "code_challenge_method": "S256",
    }
    if settings.CARNET_PRO_OIDC_ACR_VALUES:
        params["acr_values"] = settings.CARNET_PRO_OIDC_ACR_VALUES
    separator = "&" if "?" in found.authorization_endpoint else "?"
    return found.authorization_endpoint + separator + urllib.parse.urlencode(params)


def complete(session, params) -> Identity:
    """Finish a sign-in from the provider's redirect (`params`: its query string). The pending flow is used once,
    whatever the outcome. Raises OidcError naming the failed check."""
    pending = session.pop(SESSION_KEY, None)
    if params.get("error"):
        raise OidcError("cancelled" if params.get("error") == "access_denied" else "provider_error")
    if not pending or not hmac.compare_digest(str(params.get("state", "")), pending["state"]):
        raise OidcError("state")
    if time.time() - pending["at"] > FLOW_SECONDS:
        raise OidcError("stale")
    code = params.get("code", "")
    if not code:
        raise OidcError("no_code")
    found = provider()
    tokens = _exchange(found, code, pending["verifier"])
    claims = _verify_id_token(found, tokens.get("id_token", ""), pending["nonce"])
    info = _userinfo(found, tokens.get("access_token", ""))
    if info and info.get("sub") != claims.get("sub"):
        raise OidcError("userinfo_subject")
    claim = settings.CARNET_PRO_OIDC_ID_CLAIM
    value = info.get(claim) if info.get(claim) not in (None, "") else claims.get(claim)
    if not isinstance(value, str) or not value:
        raise OidcError("no_identifier")
    return Identity(national_id=value.strip(), subject=str(claims["sub"]))


def _exchange(found: Provider, code: str, verifier: str) -> dict:
    client_id, secret = settings.CARNET_PRO_OIDC_CLIENT_ID, settings.CARNET_PRO_OIDC_CLIENT_SECRET
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(),
            "code_verifier": verifier}
    headers = {}
    if secret:  # client_secret_basic (RFC 6749 §2.3.1: form-encoded id and secret)
        pair = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        data["client_id"] = client_id
    tokens = _json(found.token_endpoint, data=data, headers=headers)
    if not tokens.get("id_token"):
        raise OidcError("no_id_token")
    return tokens


def _decode(found: Provider, value: str):
    for refresh in (False, True):  # the provider may have rotated its keys: fetch them again once
        try:
            return jwt.decode(value, _keys(found, refresh=refresh), algorithms=list(found.algorithms))
        except (jose_errors.MissingKeyError, jose_errors.InvalidKeyIdError):
            continue
        except jose_errors.BadSignatureError:
            if not refresh:
                continue
            raise OidcError("signature") from None
        except (jose_errors.JoseError, ValueError, TypeError):
            raise OidcError("malformed_token") from None
    raise OidcError("signature")


def _verify_id_token(found: Provider, id_token: str, nonce: str) -> dict:
    token = _decode(found, id_token)
    claims = dict(token.claims)
    client_id = settings.CARNET_PRO_OIDC_CLIENT_ID
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS, iss={"essential": True, "value": found.issuer},
        aud={"essential": True, "value": client_id}, sub={"essential": True}, exp={"essential": True},
        iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except jose_errors.ExpiredTokenError:
        raise OidcError("expired") from None
    except jose_errors.InvalidClaimError as exc:
        raise OidcError({"aud": "audience", "iss": "issuer"}.get(exc.claim, "claims")) from None
    except jose_errors.JoseError:
        raise OidcError("claims") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OidcError("audience")
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise OidcError("nonce")
    return claims


def _userinfo(found: Provider, access_token: str) -> dict:
    if not found.userinfo_endpoint or not access_token:
        return {}
    content_type, body = _http(found.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"})
    if content_type == "application/jwt":  # a signed userinfo: same keys, same issuer and audience
        claims = dict(_decode(found, body.decode("ascii", "replace")).claims)
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if claims.get("iss") != found.issuer or settings.CARNET_PRO_OIDC_CLIENT_ID not in audiences:
            raise OidcError("userinfo_claims")
        return claims
    try:
        value = json.loads(body)
    except ValueError:
        raise OidcError("provider_bad_response") from None
    if not isinstance(value, dict):
        raise OidcError("provider_bad_response")
    return value
