"""How an access happened (portal, patient API, FHIR, system), for the access history: set once per request
by `ChannelMiddleware`, read by `events.record`. Jobs and commands run outside a request: "system"."""

import contextvars
from contextlib import contextmanager

PORTAL, API, FHIR, SYSTEM, EMERGENCY = "portal", "api", "fhir", "system", "emergency"
_current: contextvars.ContextVar[str] = contextvars.ContextVar("carnet_channel", default=SYSTEM)


def current() -> str:
    return _current.get()


@contextmanager
def using(channel: str):
    token = _current.set(channel)
    try:
        yield
    finally:
        _current.reset(token)


def for_path(path: str) -> str:
    if path.startswith("/api/"):
        return API
    if path.startswith("/fhir/"):
        return FHIR
    return PORTAL


class ChannelMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with using(for_path(request.path)):
            return self.get_response(request)
