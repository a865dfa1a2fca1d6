"""Daily vault housekeeping."""

import datetime as dt

from .services import sweep_orphans


def sweep_unreferenced_files(day: dt.date) -> str:
    """Files left by a process that died between writing a blob and committing its row."""
    return f"{sweep_orphans(dt.timedelta(days=1))} fichier(s) orphelin(s) supprimé(s)"
