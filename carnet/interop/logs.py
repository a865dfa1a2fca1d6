"""Keep third-party parsers quiet while they read untrusted files.

pypdf and pydicom log warnings (and tracebacks) that quote bytes of the file they are reading: for a health
document that is health data, which never goes to logs (DESIGN.md §4). Both libraries log on per-module child
loggers, and a filter only applies to records logged on its own logger, so the filter goes on every existing
logger under the prefix. Filters, rather than level changes, so that concurrent calls cannot leave a logger muted.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


def _drop(record: logging.LogRecord) -> bool:
    return False


_found: dict[tuple, list[logging.Logger]] = {}


def _loggers(prefixes: tuple[str, ...], modules: int, existing: int) -> list[logging.Logger]:
    """Every logger under the prefixes; recomputed only when modules or loggers were added (cheap per call)."""
    key = (prefixes, modules, existing)
    if key not in _found:
        known = {*logging.root.manager.loggerDict, *sys.modules}
        names = [n for n in known if any(n == prefix or n.startswith(prefix + ".") for prefix in prefixes)]
        _found.clear()
        _found[key] = [logging.getLogger(name) for name in {*names, *prefixes}]
    return _found[key]


@contextmanager
def muted(*prefixes: str) -> Iterator[None]:
    """Drop log records and warnings from the libraries under ``prefixes`` for the duration of the block."""
    # Loggers are created lazily (``getLogger(__name__)`` at the first warning), so include every imported
    # module of the library, not only the loggers that exist already.
    loggers = _loggers(prefixes, len(sys.modules), len(logging.root.manager.loggerDict))
    for logger in loggers:
        logger.addFilter(_drop)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger in loggers:
            logger.removeFilter(_drop)
