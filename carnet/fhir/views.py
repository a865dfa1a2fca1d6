"""The FHIR endpoint's read views: plain Django, GET only, bearer-authenticated, every answer FHIR JSON (the
writes, POST and PATCH, take their own path: `write.py`, routed by `write.by_method` in urls.py).

CSRF-exempt because the caller authenticates with an `Authorization: Bearer` header that a browser
never sends on its own, and exempt from the portal's login redirect (`login_exempt`) for the same
reason: a FHIR client gets a 401 with `WWW-Authenticate` and an OperationOutcome, not a login page.
"""

import functools
import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from carnet.common.paths import cached_reverse
from carnet.portal.middleware import login_exempt
from carnet.sharing.policy import PolicyDenied, Role, remembering
from carnet.vault.services import TamperedBlob

from .capability import capability_statement
from .http import FhirError, authenticate, error_response, fhir_response, forbidden, negotiate, not_found
from .params import parse_search, searchset
from .resources import Context, Handler, handlers

logger = logging.getLogger(__name__)
ALLOWED_METHODS = ("GET", "HEAD")
# Denials where the caller has no relationship to the space: answered like an unknown id.
NOT_FOUND_REASONS = {"no_relationship", "not_attached_parent"}
# For a professional, also a space that is not open (notified, opposed, closed...): saying "not active"
# would tell them that this person has, or refused, a space (see the package docstring).
PROFESSIONAL_NOT_FOUND_REASONS = NOT_FOUND_REASONS | {"not_active"}


def denial(denied: PolicyDenied) -> FhirError:
    """A policy denial as FHIR: 404 where the answer must not reveal that a space exists, else a 403
    carrying the policy's reason code and its French message."""
    decision = denied.decision
    hidden = PROFESSIONAL_NOT_FOUND_REASONS if decision.role == Role.PROFESSIONAL else NOT_FOUND_REASONS
    if decision.reason in hidden:
        return not_found()
    return forbidden(decision.reason, denied.message)


def fhir_view(view: Callable[..., HttpResponseBase], methods: tuple[str, ...] = ALLOWED_METHODS
              ) -> Callable[..., HttpResponseBase]:
    """Method check, then the view; every failure becomes an OperationOutcome with its status. These views only
    read (GET, HEAD; writes never come here, see write.py): the policy's lookups of blocks, authorisations and
    roles are remembered for the request (`policy.remembering`), so a search decided on the space does not ask
    them again to list the documents."""
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        try:
            if request.method not in methods:
                raise FhirError(405, "not-supported", _("Méthode non prise en charge : seule la lecture (GET) "
                                                        "est proposée."), headers={"Allow": ", ".join(methods)})
            with remembering():  # read-only: each policy question about a (person, professional) asked once
                return view(request, *args, **kwargs)
        except FhirError as error:
            return error_response(error)
        except PolicyDenied as denied:
            return error_response(denial(denied))
        except TamperedBlob:
            logger.error("fhir: stored content failed verification (%s)", request.path)
            return error_response(FhirError(500, "exception", _("Le contenu stocké n'a pas pu être vérifié ; il "
                                                                 "n'est pas transmis.")))
        except Exception:
            logger.exception("fhir: unexpected error")
            return error_response(FhirError(500, "exception", _("Erreur interne du serveur.")))
    return csrf_exempt(login_exempt(wrapper))


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri(cached_reverse("fhir:base"))


def _handler(resource_type: str) -> Handler:
    found = handlers().get(resource_type)
    if found is None:
        raise FhirError(404, "not-supported", _("Type de ressource non pris en charge : %(type)s.")
                        % {"type": resource_type[:64]})
    return found


@fhir_view
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: public, as FHIR clients read it before authenticating."""
    negotiate(request)
    return fhir_response(capability_statement(_base(request)), pretty=request.GET.get("_pretty") == "true")


@fhir_view
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    return _search(request, resource_type, request.GET)


def _search_post(request: HttpRequest, resource_type: str) -> HttpResponse:
    """`POST <Type>/_search` (FHIR R4 §3.1.1.5.7): the same search, with its parameters in a form body as well as
    the query string, so that an INS or identity traits need not travel in a URL (DESIGN.md §4)."""
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise FhirError(415, "not-supported", _("Type de contenu non pris en charge : %(types)s attendu.")
                        % {"types": "application/x-www-form-urlencoded"})
    params = request.GET.copy()
    for name, values in request.POST.lists():
        params.setlist(name, params.getlist(name) + values)
    return _search(request, resource_type, params)


search_post = fhir_view(_search_post, methods=("POST",))


def _search(request: HttpRequest, resource_type: str, params: QueryDict) -> HttpResponse:
    handler = _handler(resource_type)
    negotiate(request)
    actor = authenticate(request)
    if "search-type" not in handler.interactions:
        raise FhirError(400, "not-supported", _("La recherche n'est pas proposée sur %(type)s.")
                        % {"type": handler.type})
    wanted = parse_search(request, handler.type, set(handler.params), params)
    base = _base(request)
    total, resources = handler.search(Context(request, actor, base), wanted)
    return fhir_response(searchset(wanted, base, total, resources), pretty=wanted.pretty)


@fhir_view
def read(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponseBase:
    handler = _handler(resource_type)
    if handler.type != "Binary":  # a Binary may be served raw: it negotiates for itself
        negotiate(request)
    actor = authenticate(request)
    answer = handler.read(Context(request, actor, _base(request)), resource_id)
    if isinstance(answer, HttpResponseBase):  # a Binary served raw (a streaming FileResponse)
        return answer
    return fhir_response(answer, pretty=request.GET.get("_pretty") == "true")


@fhir_view
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Anything else under /fhir/ (the base itself, operations, history): a FHIR 404, not an HTML page."""
    raise FhirError(404, "not-supported", _("Interaction non prise en charge."))
