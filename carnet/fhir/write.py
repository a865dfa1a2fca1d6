"""The FHIR endpoint's writes (IHE MHD / PDSm for clinical software): ITI-65 `POST /fhir/` (transaction Bundle),
ITI-105 `POST /fhir/DocumentReference` and the metadata update `PATCH /fhir/DocumentReference[/<id>]`.

Writes take their own path (`by_method` sends POST/PATCH here, GET/HEAD to the read views): no read memo of policy
answers (`policy.remembering`), since a write changes what they would answer. The body is bounded before it is
read: a Content-Length above the limit is a 413 at once, and at most limit + 1 bytes are ever read otherwise.
Every refusal is an OperationOutcome with the element (`expression`) and, for the policy's and the publication's
refusals, a reason code in `issue.details`.
"""

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from carnet.interop.mhd import MhdError, parse_simplified, parse_transaction
from carnet.portal.middleware import login_exempt
from carnet.sharing.policy import PolicyDenied

from . import patch, publish
from .http import FhirError, authenticate, error_response, fhir_response, media_types, negotiate
from .views import _base, denial

logger = logging.getLogger(__name__)
READ_METHODS = ("GET", "HEAD")
FHIR_BODY = {"application/fhir+json", "application/json", "application/json+fhir"}
JSON_PATCH = {"application/json-patch+json"}
# A bundle carries its documents in base64 (4/3 of their size): 64 MB of JSON is about 48 MB of documents.
DEFAULT_MAX_BODY = 64 * 1024 * 1024


def max_body() -> int:
    return int(getattr(settings, "CARNET_FHIR_MAX_BODY_BYTES", DEFAULT_MAX_BODY))


def read_json(request: HttpRequest, accepted: set[str]) -> Any:
    """The request body as JSON, refused before reading when too large (413), of the wrong media type (415) or
    not JSON (400). Never through `request.body`, which would load any size."""
    kind = (media_types(request.headers.get("Content-Type", "")) or [""])[0]
    if kind not in accepted:
        raise FhirError(415, "not-supported", _("Type de contenu non pris en charge : %(types)s attendu.")
                        % {"types": " ou ".join(sorted(accepted))})
    limit = max_body()
    declared = request.META.get("CONTENT_LENGTH") or ""
    try:
        length = int(declared) if declared else None
    except ValueError:
        raise FhirError(400, "structure", _("En-tête Content-Length mal formé.")) from None
    too_large = FhirError(413, "too-long", _("Requête trop volumineuse (maximum %(mb)s Mo).")
                          % {"mb": limit // (1024 * 1024)})
    if length is not None and length > limit:
        raise too_large
    data = request.read(limit + 1)
    if len(data) > limit:
        raise too_large
    try:
        return orjson.loads(data)  # twice the standard library's speed on a 50 KB bundle
    except orjson.JSONDecodeError:
        pass  # what orjson refuses and json accepts (a byte-order mark, UTF-16), judged as before
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise FhirError(400, "structure", _("Le corps de la requête n'est pas un JSON valide.")) from None


def _as_fhir(error: MhdError) -> FhirError:
    return FhirError(error.status, error.code, error.diagnostics, expression=error.expression, reason=error.reason)


def fhir_write_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Like `views.fhir_view` for writes: every failure an OperationOutcome, without the read memo."""
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except MhdError as error:
            return error_response(_as_fhir(error))
        except FhirError as error:
            return error_response(error)
        except PolicyDenied as denied:
            return error_response(denial(denied))
        except Exception:
            logger.exception("fhir: unexpected error on a write")
            return error_response(FhirError(500, "exception", _("Erreur interne du serveur.")))
    return wrapper


@fhir_write_view
def transaction(request: HttpRequest) -> HttpResponse:
    """ITI-65 Provide Document Bundle."""
    negotiate(request)
    actor = authenticate(request)
    submission = parse_transaction(read_json(request, FHIR_BODY))
    filed = publish.provide(actor, submission)
    return fhir_response(publish.transaction_response(filed, submission, _base(request)))


@fhir_write_view
def create(request: HttpRequest, resource_type: str) -> HttpResponse:
    """ITI-105 Simplified Publish (the only create)."""
    negotiate(request)
    actor = authenticate(request)
    if resource_type != "DocumentReference":
        raise FhirError(405, "not-supported", _("Création non proposée sur ce type de ressource."),
                        headers={"Allow": ", ".join(READ_METHODS)})
    document, created = publish.publish(actor, parse_simplified(read_json(request, FHIR_BODY)))
    response = fhir_response(patch.as_resource(document), 201 if created else 200)
    response["Location"] = f"{_base(request)}DocumentReference/{document.uuid}/_history/{document.version}"
    response["ETag"] = f'W/"{document.version}"'
    return response


@fhir_write_view
def update_metadata(request: HttpRequest, resource_type: str, resource_id: str | None = None) -> HttpResponse:
    """PDSm metadata update (JSON Patch), by id or conditional on `identifier`."""
    negotiate(request)
    actor = authenticate(request)
    if resource_type != "DocumentReference":
        raise FhirError(405, "not-supported", _("Modification non proposée sur ce type de ressource."),
                        headers={"Allow": ", ".join(READ_METHODS)})
    operations = read_json(request, JSON_PATCH)
    identifiers = request.GET.getlist("identifier")
    if resource_id is None and (len(identifiers) != 1 or set(request.GET) - {"identifier", "_format"}):
        raise FhirError(400, "required", _("Mise à jour conditionnelle : un seul paramètre identifier."),
                        expression="identifier")
    document = patch.find(resource_id, identifiers[0] if identifiers else None)
    updated = patch.update(actor, document, operations, request.headers.get("If-Match", ""))
    response = fhir_response(patch.as_resource(updated))
    response["ETag"] = f'W/"{updated.version}"'
    return response


def by_method(read_view: Callable[..., HttpResponseBase], writes: dict[str, Callable[..., HttpResponseBase]],
              types: tuple[str, ...] = ()):
    """One URL, reads and writes on their own paths: GET/HEAD to the read view, POST/PATCH to the write views
    named for the route (only for the resource `types` given, when the route names a type), anything else a 405
    naming what this address accepts."""
    def dispatch(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        kind = kwargs.get("resource_type")
        here = writes if kind is None or kind in types else {}
        if request.method in here:
            return here[request.method](request, *args, **kwargs)
        if request.method in READ_METHODS:
            return read_view(request, *args, **kwargs)
        return error_response(FhirError(405, "not-supported", _("Méthode non prise en charge sur cette adresse."),
                                        headers={"Allow": ", ".join((*READ_METHODS, *here))}))
    functools.update_wrapper(dispatch, read_view)
    return csrf_exempt(login_exempt(dispatch))
