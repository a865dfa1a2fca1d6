"""What every FHIR answer shares: the media type, OperationOutcome errors, content negotiation and
bearer authentication (a holder's device token or a professional's token).

Errors are raised as `FhirError` anywhere below a view and turned into an OperationOutcome with the
HTTP status here, so a client always gets `application/fhir+json`, never Django's HTML pages.
Diagnostics never carry health content: they name a parameter or say what went wrong.
"""

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from carnet.identity.actions.login import device_for_token
from carnet.identity.models import Person
from carnet.sharing.models import Professional
from carnet.sharing.tokens import is_professional_token, professional_for_token

FHIR_JSON = "application/fhir+json; charset=utf-8"
REALM = "carnet"
# What the client may ask for and get JSON: FHIR's own type, plain JSON, and the short `_format` forms.
JSON_TYPES = {"application/fhir+json", "application/json", "application/json+fhir", "json"}
XML_TYPES = {"application/fhir+xml", "application/xml", "application/xml+fhir", "text/xml", "xml"}
# Where a 403's reason code lives (OperationOutcome.issue.details.coding): the policy's reason, e.g.
# `no_authorisation`, `blocked`, `habilitation`, `masked`, or this face's `private_section`.
ACCESS_DECISION_SYSTEM = "https://carnet.sante.fr/fhir/CodeSystem/access-decision"


class FhirError(Exception):
    """An answer other than success: HTTP status, OperationOutcome issue code, and what to tell the client."""

    def __init__(self, status: int, code: str, diagnostics: str, *, expression: str = "",
                 headers: dict[str, str] | None = None, reason: str = ""):
        self.status, self.code, self.diagnostics = status, code, str(diagnostics)
        self.expression, self.headers, self.reason = expression, headers or {}, reason
        super().__init__(self.diagnostics)


def outcome(code: str, diagnostics: str, *, severity: str = "error", expression: str = "",
            reason: str = "") -> dict[str, Any]:
    """An OperationOutcome with one issue; `reason` (an access decision's reason) goes in `details.coding`
    so that software can act on it (ask consent, stop asking) without parsing the French diagnostics."""
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if reason:
        issue["details"] = {"coding": [{"system": ACCESS_DECISION_SYSTEM, "code": reason}], "text": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def fhir_response(resource: dict[str, Any], status: int = 200, *, pretty: bool = False) -> HttpResponse:
    body = json.dumps(resource, ensure_ascii=False, indent=2 if pretty else None,
                      separators=None if pretty else (",", ":"))
    response = HttpResponse(body, status=status, content_type=FHIR_JSON)
    response["Cache-Control"] = "no-store"  # health data: never in a shared or browser cache
    return response


def error_response(error: FhirError) -> HttpResponse:
    response = fhir_response(outcome(error.code, error.diagnostics, expression=error.expression, reason=error.reason),
                             error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def not_found() -> FhirError:
    """One answer for an unknown id and for a space the caller has no relationship with: ids can't be probed."""
    return FhirError(404, "not-found", _("Ressource introuvable."))


def forbidden(reason: str, message: str) -> FhirError:
    """A denial the caller may know about (a professional told why, to ask consent or stop asking)."""
    return FhirError(403, "forbidden", message, reason=reason)


def media_types(value: str) -> list[str]:
    """The media types of an Accept header, without their parameters (q-values are not ranked: any
    acceptable type is enough since this server only speaks JSON)."""
    return [part.split(";")[0].strip().lower() for part in value.split(",") if part.strip()]


def wants(request: HttpRequest) -> str:
    """'json' when the client asked for FHIR JSON explicitly (`_format` or Accept), 'any' when it did not
    say (no Accept, or a wildcard), 'other' when it asked only for something else (XML, PDF...)."""
    requested = request.GET.get("_format", "").strip().lower()
    if requested:
        return "json" if requested in JSON_TYPES else "other"
    types = media_types(request.headers.get("Accept", ""))
    if not types or any(t in JSON_TYPES for t in types):
        return "json" if any(t in JSON_TYPES for t in types) else "any"
    if any(t in {"*/*", "application/*"} for t in types):
        return "any"
    return "other"


def negotiate(request: HttpRequest) -> None:
    """JSON is the only format: anything else the client insists on (XML, Turtle) is a 406."""
    if wants(request) == "other":
        raise FhirError(406, "not-supported", _("Seul le format JSON (application/fhir+json) est proposé."))


def authenticate(request: HttpRequest) -> Person | Professional:
    """Who is behind `Authorization: Bearer <token>`: the person of a patient-API device token, or the
    professional of a professional token (clinical software; `carnet dev_token` in demo mode). Else a 401
    that names the scheme (RFC 6750), saying `invalid_token` when a token was sent but is not valid
    (unknown, expired, revoked, or an inactive professional's). A professional's token (`pro.` prefix) is looked
    up in its own table only; any other token is a device's first, then a professional's issued before the prefix."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    token = token.strip()
    challenge = f'Bearer realm="{REALM}"'
    if scheme.lower() == "bearer" and token and len(token) <= 256:
        if is_professional_token(token):
            professional = professional_for_token(token)
            if professional is not None:
                return professional
            raise FhirError(401, "login", _("Authentification requise : jeton d'accès absent ou non valide."),
                            headers={"WWW-Authenticate": challenge + ', error="invalid_token"'})
        device = device_for_token(token)
        if device is not None and device.account.person is not None:
            return device.account.person
        professional = professional_for_token(token)
        if professional is not None:
            return professional
    if scheme.lower() == "bearer":
        challenge += ', error="invalid_token"'
    raise FhirError(401, "login", _("Authentification requise : jeton d'accès absent ou non valide."),
                    headers={"WWW-Authenticate": challenge})
