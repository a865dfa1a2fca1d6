"""Paths of named URLs that a hot path asks for on every request (an ITI-65 bundle asks two)."""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


def cached_reverse(viewname: str) -> str:
    """`reverse(viewname)` for a route without arguments, remembered per URLconf and script prefix, which are all
    its answer depends on: resolving it again cost about 0.1 ms of CPU each time."""
    return _reverse(viewname, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


@functools.lru_cache(maxsize=64)
def _reverse(viewname: str, urlconf: str, prefix: str) -> str:
    return reverse(viewname, urlconf=urlconf)
