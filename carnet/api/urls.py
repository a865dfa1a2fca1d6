"""The patient JSON API for mobile apps: one NinjaAPI, bearer-token auth, domain errors as JSON.

Mounted at /api/ (carnet/urls.py): OpenAPI document at /api/openapi.json, interactive docs at
/api/docs. Every endpoint requires a bearer token unless it opts out with `auth=None` (enrolment,
login, password reset). Endpoints validate input, call one domain action and shape its answer;
rules live in the domain and the policy, never here.

No CSRF: django-ninja 1.x marks its views csrf-exempt and only cookie-based auth re-checks CSRF;
this API authenticates with an `Authorization: Bearer` header that a browser never sends on its own.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer

from carnet.identity.actions.login import device_for_token
from carnet.identity.errors import ActionRefused
from carnet.sharing.policy import PolicyDenied

from .access import NOT_FOUND_REASONS
from .routers import account, auth, documents, enrolment, export, family, medical, messaging, notifications, sharing

REALM = "carnet"


class BearerAuth(HttpBearer):
    """An app's token, as issued by POST /api/auth/login/otp: only its keyed hash is stored.

    `request.auth` becomes the Account, `request.device` its DeviceSession. Operator accounts (no
    person) have no space to show and are refused here.
    """

    def authenticate(self, request: HttpRequest, token: str):
        if not token or len(token) > 256:
            return None
        device = device_for_token(token)
        if device is None or not device.account.person_id:
            return None
        request.device = device  # type: ignore[attr-defined]  # read back through access.ApiRequest
        return device.account


class CarnetAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        """Short, stable ids for client generators: `<router>_<function>`, e.g. `auth_login_otp`."""
        router = operation.view_func.__module__.rsplit(".", 1)[-1]
        return f"{router}_{operation.view_func.__name__}"


api = CarnetAPI(
    title="Carnet — API patient",
    version="1",
    description=(
        "L'API JSON des applications mobiles de Carnet : activation et opposition, connexion "
        "(mot de passe + code à usage unique), compte, notifications, proches. Les identifiants "
        "publics sont des UUID ; NIR, codes et données de santé ne passent que dans le corps des "
        "requêtes POST, jamais dans une URL."
    ),
    urls_namespace="api",
    auth=BearerAuth(),
)

api.add_router("/enrolment", enrolment.router, tags=["enrolment"])
api.add_router("/auth", auth.router, tags=["auth"])
api.add_router("/", account.router, tags=["account"])
api.add_router("/notifications", notifications.router, tags=["notifications"])
api.add_router("/", family.router, tags=["family"])
api.add_router("/", documents.router, tags=["documents"])
api.add_router("/", medical.router, tags=["medical"])
api.add_router("/", sharing.router, tags=["sharing"])
api.add_router("/", export.router, tags=["export"])
api.add_router("/", messaging.router, tags=["messaging"])


def error_body(detail: str, field: str = "") -> dict:
    return {"detail": detail, "field": field}


@api.exception_handler(ActionRefused)
def domain_error(request: HttpRequest, exc: ActionRefused) -> HttpResponse:
    """Refusals the person can act on: 400 with the message, 429 when an attempt limit is hit, 404 when
    the thing asked for is not there (or not theirs to see), 413 for a file too large."""
    status = {"locked": 429, "not_found": 404, "too_large": 413}.get(exc.code, 400)
    return api.create_response(request, error_body(exc.message, exc.field), status=status)


@api.exception_handler(PolicyDenied)
def policy_denied(request: HttpRequest, exc: PolicyDenied) -> HttpResponse:
    """No relationship to the target: 404, the same as an id that does not exist (nothing to learn).
    A relationship that does not allow this: 403 with the policy's reason."""
    status = 404 if exc.decision.reason in NOT_FOUND_REASONS else 403
    return api.create_response(request, error_body(exc.message), status=status)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """RFC 6750: a 401 names the scheme; a token that was sent but is not valid says so."""
    response = api.create_response(
        request, error_body(_("Authentification requise : connectez-vous à nouveau.")), status=401
    )
    challenge = f'Bearer realm="{REALM}"'
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        challenge += ', error="invalid_token"'
    response["WWW-Authenticate"] = challenge
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, error_body(exc.message), status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    """A body past DATA_UPLOAD_MAX_MEMORY_SIZE: a JSON 413, not Django's HTML 400."""
    return api.create_response(request, error_body("Requête trop volumineuse."), status=413)
