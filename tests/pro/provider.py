"""A small OpenID Connect provider, in-process, over real HTTP: discovery, JWKS, authorize (redirects back with a
code), token (checks the code, redirect URI, PKCE verifier and client secret; returns a signed ID token) and
userinfo. Its RSA key is generated here. Knobs on the instance make it misbehave the way a test needs (wrong
audience, stale token, another key, another nonce...): our client is exercised for real, nothing of ours mocked."""

import base64
import hashlib
import http.client
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "carnet-test"
CLIENT_SECRET = "secret-de-test"


class Provider:
    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.signing_key = self.key  # a test swaps in another key (same kid) to forge a signature
        self.national_id = ""
        self.id_token_claims: dict = {}  # overrides of the ID token's claims
        self.userinfo_claims: dict = {}  # overrides of userinfo's claims
        self.codes: dict[str, dict] = {}
        self.seen: dict[str, dict] = {"authorize": {}, "token": {}}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    # -- endpoints ----------------------------------------------------------------------------------------------

    def discovery(self) -> dict:
        return {
            "issuer": self.base, "authorization_endpoint": self.base + "/authorize",
            "token_endpoint": self.base + "/token", "userinfo_endpoint": self.base + "/userinfo",
            "jwks_uri": self.base + "/jwks", "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
        }

    def authorize(self, query: dict) -> str:
        self.seen["authorize"] = query
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        back = {"code": code, "state": query.get("state", "")}
        return query["redirect_uri"] + "?" + urllib.parse.urlencode(back)

    def token(self, form: dict, authorization: str) -> tuple[int, dict]:
        self.seen["token"] = form
        pending = self.codes.pop(form.get("code", ""), None)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if pending is None or authorization != expected or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != pending["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        challenge = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
        if challenge.rstrip(b"=").decode() != pending.get("code_challenge"):
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        now = int(time.time())
        claims = {"iss": self.base, "sub": "f:psc:" + (self.national_id or "x"), "aud": CLIENT_ID, "iat": now,
                  "exp": now + 300, "nonce": pending.get("nonce", ""), "acr": "eidas1", **self.id_token_claims}
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.signing_key)
        return 200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                     "id_token": id_token}

    def userinfo(self) -> dict:
        return {"sub": "f:psc:" + (self.national_id or "x"), "SubjectNameID": self.national_id,
                "preferred_username": self.national_id, "given_name": "Claire", "family_name": "MARTIN",
                **self.userinfo_claims}

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                if parts.path == "/.well-known/openid-configuration":
                    return self._json(200, provider.discovery())
                if parts.path == "/jwks":
                    return self._json(200, KeySet([provider.key]).as_dict(private=False))
                if parts.path == "/authorize":
                    query = dict(urllib.parse.parse_qsl(parts.query))
                    self.send_response(302)
                    self.send_header("Location", provider.authorize(query))
                    self.end_headers()
                    return None
                if parts.path == "/userinfo":
                    if not self.headers.get("Authorization", "").startswith("Bearer "):
                        return self._json(401, {"error": "invalid_token"})
                    return self._json(200, provider.userinfo())
                return self._json(404, {"error": "not_found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if urllib.parse.urlsplit(self.path).path == "/token":
                    status, body = provider.token(form, self.headers.get("Authorization", ""))
                    return self._json(status, body)
                return self._json(404, {"error": "not_found"})

        return Handler

    # -- the browser's part -------------------------------------------------------------------------------------

    def follow_authorize(self, url: str) -> dict:
        """What a browser does at the provider: GET the authorize URL, read where it redirects back."""
        parts = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        connection.request("GET", parts.path + "?" + parts.query)
        response = connection.getresponse()
        assert response.status == 302, response.status
        location = response.getheader("Location")
        connection.close()
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
