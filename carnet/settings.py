"""Settings from environment variables (12-factor), with production-safe defaults.

Demo mode (CARNET_DEMO=1, set by `make run` only) relaxes what a laptop needs
(plain http, a development key) and adds the dev outbox page.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env(name: str, default: str = "") -> str:
    """A setting from the environment, or from the file named by NAME_FILE (secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(name, default)


def envbool(name: str, default: str = "0") -> bool:
    return env(name, default).strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: int, minimum: int | None = None) -> int:
    value = env(name, str(default))
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be {minimum} or more, not {number}.")
    return number


CARNET_DEMO = envbool("CARNET_DEMO")
DEBUG = envbool("DEBUG")
TESTING = envbool("CARNET_TESTING")

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if CARNET_DEMO or DEBUG or TESTING:
        SECRET_KEY = "carnet-demo-only-not-secret-" + "x" * 24  # noqa: S105
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set outside demo mode.")
# Key for the keyed hashes (HMAC) of generated secrets: provisional codes, one-time codes, links.
CARNET_HMAC_KEY = env("CARNET_HMAC_KEY", SECRET_KEY)

ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env("CSRF_TRUSTED_ORIGINS").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django_htmx",
    "csp",
    "dsfr",
    "widget_tweaks",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    # domain
    "carnet.identity",
    "carnet.notifications",
    "carnet.sharing",
    "carnet.vault",
    "carnet.record",
    "carnet.medical",
    "carnet.caregivers",
    "carnet.export",
    "carnet.messaging",
    # faces
    "carnet.portal",
    "carnet.pro",
    "carnet.api",
    "carnet.fhir",
    "carnet.cli",
]

MIDDLEWARE = [
    "carnet.sharing.channels.ChannelMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "carnet.fhir.middleware.FhirWriteMiddleware",  # FHIR writes (bearer token, JSON): the rest is for the portal
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "carnet.identity.middleware.DeviceSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "carnet.portal.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "carnet.urls"
WSGI_APPLICATION = "carnet.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "carnet.portal.context_processors.carnet",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{PROJECT_DIR / 'var' / 'carnet.sqlite3'}"),
        # Persistent connections (checked before reuse): opening one per request cost ITI-65 five times the
        # database CPU of the request itself (bench/README.md). 0 to open one per request.
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 600), conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web server and worker share one file: WAL and immediate transactions avoid "locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Web requests never hold the database for long (statement timeout in milliseconds).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", f"-c statement_timeout={envint('DATABASE_STATEMENT_TIMEOUT_MS', 30000)}"
    )
    # Server-side binding, and psycopg prepares a statement from its 5th run on a connection (persistent, above):
    # PostgreSQL then parses and plans it once, not on every request. Django leaves preparing off unless told
    # (prepare_threshold None); bench/README.md measures both. DATABASE_SERVER_SIDE_BINDING=0 for client-side
    # binding, DATABASE_PREPARE_THRESHOLD=0 for no prepared statements (either behind a transaction-pooling PgBouncer).
    if envbool("DATABASE_SERVER_SIDE_BINDING", "1"):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        threshold = envint("DATABASE_PREPARE_THRESHOLD", 5, minimum=0)
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = threshold or None  # psycopg: None is "never"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identity.Account"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "portal:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(PROJECT_DIR / "var" / "static")))
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(PROJECT_DIR / "var" / "media")))
# Print-ready letter batches (notices with provisional codes): private, never served by the web.
CARNET_LETTERS_DIR = Path(env("CARNET_LETTERS_DIR", str(PROJECT_DIR / "var" / "letters")))

# The vault (encrypted blobs, DESIGN.md §3): filesystem by default, any Django storage otherwise
# (S3-compatible through django-storages: CARNET_VAULT_STORAGE=s3 plus AWS_* / CARNET_VAULT_S3_* settings).
CARNET_VAULT_DIR = Path(env("CARNET_VAULT_DIR", str(PROJECT_DIR / "var" / "vault")))
if env("CARNET_VAULT_STORAGE", "filesystem") == "s3":
    _vault_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("CARNET_VAULT_S3_BUCKET"),
            "endpoint_url": env("CARNET_VAULT_S3_ENDPOINT") or None,
            "region_name": env("CARNET_VAULT_S3_REGION") or None,
            "default_acl": "private",
            "file_overwrite": False,
        },
    }
else:
    _vault_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(CARNET_VAULT_DIR), "base_url": None, "file_permissions_mode": 0o600,
                    "directory_permissions_mode": 0o700},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "vault": _vault_storage,
}
# Master keys that wrap the per-person data keys: "id:base64(32 bytes)" separated by commas, the
# first one current (new keys are wrapped with it; `carnet rotate_master_key` rewraps the others).
CARNET_MASTER_KEYS = env("CARNET_MASTER_KEYS")
if not CARNET_MASTER_KEYS:
    if CARNET_DEMO or DEBUG or TESTING:
        CARNET_MASTER_KEYS = "demo:" + "ZGVtby1vbmx5LW1hc3Rlci1rZXktbm90LXNlY3JldCE="  # 32 bytes, demo only
    else:
        raise ImproperlyConfigured("CARNET_MASTER_KEYS must be set outside demo mode.")
# The habilitation matrix (which professions read which document types): the shipped file by default;
# the operator points this at an updated copy, validated at start (carnet/sharing/habilitation.py).
CARNET_HABILITATION_FILE = env("CARNET_HABILITATION_FILE")
# Lifetime of the bearer tokens of professionals' software (OAuth2 access tokens: short).
CARNET_PRO_TOKEN_SECONDS = envint("CARNET_PRO_TOKEN_SECONDS", 3600)
# Professionals' sign-in to the pro portal through OpenID Connect (Pro Santé Connect or any provider that works
# the same way): unset issuer or client id, no button. The national identifier ("8" + RPPS) is read from the claim
# CARNET_PRO_OIDC_ID_CLAIM (Pro Santé Connect: `SubjectNameID`, in userinfo). carnet/pro/oidc.py.
CARNET_PRO_OIDC_ISSUER = env("CARNET_PRO_OIDC_ISSUER")
CARNET_PRO_OIDC_DISCOVERY_URL = env("CARNET_PRO_OIDC_DISCOVERY_URL")  # default: issuer + /.well-known/...
CARNET_PRO_OIDC_CLIENT_ID = env("CARNET_PRO_OIDC_CLIENT_ID")
CARNET_PRO_OIDC_CLIENT_SECRET = env("CARNET_PRO_OIDC_CLIENT_SECRET")
CARNET_PRO_OIDC_SCOPES = env("CARNET_PRO_OIDC_SCOPES", "openid scope_all")
CARNET_PRO_OIDC_ACR_VALUES = env("CARNET_PRO_OIDC_ACR_VALUES", "eidas1")
CARNET_PRO_OIDC_ID_CLAIM = env("CARNET_PRO_OIDC_ID_CLAIM", "SubjectNameID")
CARNET_PRO_OIDC_NAME = env("CARNET_PRO_OIDC_NAME", "Pro Santé Connect")
CARNET_PRO_OIDC_TIMEOUT_SECONDS = envint("CARNET_PRO_OIDC_TIMEOUT_SECONDS", 10)
# Uploads: files past this size are spooled to disk by Django, never held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
CARNET_MAX_DOCUMENT_BYTES = envint("CARNET_MAX_DOCUMENT_BYTES", 300 * 1024 * 1024)
# A FHIR write (ITI-65/ITI-105) carries its documents in base64 inside one JSON body, read whole: capped lower.
CARNET_FHIR_MAX_BODY_BYTES = envint("CARNET_FHIR_MAX_BODY_BYTES", 64 * 1024 * 1024)
# Test INS (OID 1.2.250.1.213.1.4.10, used by the CI-SIS examples and test cards) match persons only where this
# is on: demo and tests by default, never in production unless set (carnet/interop/ins.py, decision 0009-dmp-migration).
CARNET_ACCEPT_TEST_INS = envbool("CARNET_ACCEPT_TEST_INS", "1" if (CARNET_DEMO or DEBUG or TESTING) else "0")

# Sessions: server-side, expire after inactivity, never readable by scripts.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = envint("CARNET_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

SECURE = not (CARNET_DEMO or DEBUG or TESTING) and envbool("CARNET_SECURE", "1")
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and envbool("SECURE_SSL_REDIRECT", "1")
SECURE_HSTS_SECONDS = 63072000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_PROXY") else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [] if SECURE else ["security.W004", "security.W008", "security.W012", "security.W016"]

from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Mail: SMTP by default (EMAIL_HOST/EMAIL_PORT...); demo and tests keep mail in the outbox table.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Carnet <ne-pas-repondre@carnet.example>")
if CARNET_DEMO and not env("EMAIL_BACKEND"):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# SMS through a pluggable gateway: a dotted path to a class with send(number, text).
CARNET_SMS_BACKEND = env(
    "CARNET_SMS_BACKEND",
    "carnet.notifications.sms.OutboxOnlyBackend" if (CARNET_DEMO or TESTING)
    else "carnet.notifications.sms.HttpGateway",
)
CARNET_SMS_GATEWAY_URL = env("CARNET_SMS_GATEWAY_URL")
CARNET_SMS_GATEWAY_TOKEN = env("CARNET_SMS_GATEWAY_TOKEN")
CARNET_PUBLIC_URL = env("CARNET_PUBLIC_URL", "http://127.0.0.1:8000")

# Account lifecycle parameters.
CARNET_PROVISIONAL_CODE_DAYS = envint("CARNET_PROVISIONAL_CODE_DAYS", 42)
CARNET_OPPOSITION_WINDOW_DAYS = envint("CARNET_OPPOSITION_WINDOW_DAYS", 42)
# Results held for an announcement consultation (INVISIBLE_PATIENT): the holder is told after 14 days that
# something awaits a consultation; after 30 days the document becomes visible to them automatically.
CARNET_ANNOUNCEMENT_REMINDER_DAYS = envint("CARNET_ANNOUNCEMENT_REMINDER_DAYS", 14)
CARNET_ANNOUNCEMENT_RELEASE_DAYS = envint("CARNET_ANNOUNCEMENT_RELEASE_DAYS", 30)
# How long a holder's export (extraire ses données) stays downloadable before the daily purge deletes it.
CARNET_EXPORT_DAYS = envint("CARNET_EXPORT_DAYS", 7)
# Documents arriving while the holder has not read the last "new document" notice join it (one email per burst).
CARNET_NOTICE_COALESCE_MINUTES = envint("CARNET_NOTICE_COALESCE_MINUTES", 30)
# How long an emergency access (bris de glace, SAMU régulateur) lasts once opened: short, since opening again is
# one stated reason away and every opening is traced and notified (carnet/sharing/emergency.py says why 4 hours).
CARNET_EMERGENCY_ACCESS_HOURS = envint("CARNET_EMERGENCY_ACCESS_HOURS", 4)
CARNET_OTP_TTL_SECONDS = envint("CARNET_OTP_TTL_SECONDS", 10 * 60)
CARNET_LINK_TTL_SECONDS = envint("CARNET_LINK_TTL_SECONDS", 30 * 60)
CARNET_MAX_ATTEMPTS = envint("CARNET_MAX_ATTEMPTS", 5)
CARNET_LOCKOUT_BASE_SECONDS = envint("CARNET_LOCKOUT_BASE_SECONDS", 15 * 60)
CARNET_API_TOKEN_IDLE_SECONDS = envint("CARNET_API_TOKEN_IDLE_SECONDS", 30 * 60)

TASKS = {
    "default": {
        "BACKEND": env("CARNET_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
if TESTING:
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

DSFR_USE_INTEGRITY_CHECKSUMS = True
CARNET_SITE_TITLE = _("Carnet — mon espace santé")
