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


@contextmanager
def muted(*prefixes: str) -> Iterator[None]:
    """Drop log records and warnings from the libraries under ``prefixes`` for the duration of the block."""
    # Loggers are created lazily (``getLogger(__name__)`` at the first warning), so include every imported
    # module of the library, not only the loggers that exist already.
    known = {*logging.root.manager.loggerDict, *sys.modules}
    names = [name for name in known if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)]
    loggers = [logging.getLogger(name) for name in {*names, *prefixes}]
    for logger in loggers:
        logger.addFilter(_drop)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger in loggers:
            logger.removeFilter(_drop)
