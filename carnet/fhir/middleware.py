"""A short path through the middleware for the FHIR writes (ITI-65, ITI-105, PDSm metadata update).

Clinical software authenticates each request with a bearer token and gets JSON back: sessions, messages,
authentication by cookie, CSRF (the write views are exempt), the portal's login redirect, htmx and CSP (no HTML
is ever answered) have nothing to do there, and together cost a tenth of an ITI-65 request. `FhirWriteMiddleware`
sits right after `SecurityMiddleware` (https redirect, HSTS, nosniff still apply, as does `ChannelMiddleware`
before it) and, for a POST or PATCH under /fhir/, calls the view itself. It keeps what those requests do need
from the skipped ones: the language of the OperationOutcome from Accept-Language (as `LocaleMiddleware`),
`Content-Language`, `Vary` and `X-Frame-Options`. Every other request takes the whole stack. The policy, the
access events and every check of the bundle are in the views, untouched by this.
"""

from django.conf import settings
from django.urls import get_resolver, get_urlconf
from django.utils import translation
from django.utils.cache import patch_vary_headers

WRITE_METHODS = frozenset({"POST", "PATCH"})
PREFIX = "/fhir/"


class FhirWriteMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in WRITE_METHODS or not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        match = get_resolver(get_urlconf()).resolve(request.path_info)
        request.resolver_match = match
        language = translation.get_language_from_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = match.func(request, *match.args, **match.kwargs)
            patch_vary_headers(response, ("Accept-Language",))
            response.headers.setdefault("Content-Language", language)
        response.headers.setdefault("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY"))
        return response
