"""Production defaults are safe; demo mode is opt-in. Settings are read in a fresh interpreter."""

import json
import os
import subprocess
import sys

import pytest

PROBE = (
    "import json, carnet.settings as s; print(json.dumps({k: str(getattr(s, k)) for k in ["
    "'DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT',"
    "'CARNET_DEMO', 'EMAIL_BACKEND', 'CARNET_SMS_BACKEND', 'SESSION_COOKIE_HTTPONLY', 'X_FRAME_OPTIONS']}"
    " | {'engine': s.DATABASES['default']['ENGINE'], 'name': s.DATABASES['default']['NAME']}))"
)


def read_settings(**env) -> dict:
    return json.loads(_probe(PROBE, env))


def read_settings_expr(expression: str, **env) -> str:
    """What `expression` (Python, with the settings module as `s` and `json` imported) prints in a fresh
    interpreter under `env` alone (none of this process's CARNET_/DATABASE_ variables)."""
    return _probe(f"import json, carnet.settings as s; print({expression})", env)


def _probe(code: str, env: dict) -> str:
    ours = ("CARNET_", "DATABASE_", "SECRET_KEY", "DEBUG")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    result = subprocess.run([sys.executable, "-c", code], env=clean | env, capture_output=True, text=True,
                            check=False)
    if result.returncode:
        raise RuntimeError(result.stderr.strip().splitlines()[-1])
    return result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        read_settings()


def test_production_refuses_to_start_without_master_keys():
    with pytest.raises(RuntimeError, match="CARNET_MASTER_KEYS must be set"):
        read_settings(SECRET_KEY="k" * 50)


def test_production_defaults_are_secure():
    values = read_settings(SECRET_KEY="k" * 50, DATABASE_URL="postgres://u@db.example:5432/carnet",
                           CARNET_MASTER_KEYS="2026:" + "a" * 43 + "=")
    assert values["DEBUG"] == "False" and values["CARNET_DEMO"] == "False"
    assert values["SESSION_COOKIE_SECURE"] == values["CSRF_COOKIE_SECURE"] == "True"
    assert int(values["SECURE_HSTS_SECONDS"]) >= 31536000 and values["SECURE_SSL_REDIRECT"] == "True"
    assert values["SESSION_COOKIE_HTTPONLY"] == "True" and values["X_FRAME_OPTIONS"] == "DENY"
    assert values["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
    assert values["CARNET_SMS_BACKEND"].endswith("HttpGateway")
    assert values["engine"] == "django.db.backends.postgresql" and values["name"] == "carnet"


def test_demo_mode_uses_an_embedded_sqlite_file_by_default():
    values = read_settings(CARNET_DEMO="1")
    assert values["engine"] == "django.db.backends.sqlite3" and values["name"].endswith(".sqlite3")
    assert values["CARNET_DEMO"] == "True" and values["SESSION_COOKIE_SECURE"] == "False"


def test_csp_header_is_sent(client, db):
    response = client.get("/healthz")
    assert "default-src 'self'" in response["Content-Security-Policy"]
