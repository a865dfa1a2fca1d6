"""Request helpers shared by the faces (portal, API)."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The caller's address for per-address attempt limits. Behind the reverse proxy (BEHIND_PROXY,
    which sets SECURE_PROXY_SSL_HEADER), the last X-Forwarded-For hop is the one the proxy saw."""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1][:64]
    return request.META.get("REMOTE_ADDR", "")[:64]
