import datetime as dt

from .actions import pending_ids
from .letters import render_pending
from .tasks import deliver_messages


def retry_pending_messages(day: dt.date) -> str:
    """Emails and SMS left pending (worker down, gateway outage) are queued again."""
    ids = pending_ids()
    for start in range(0, len(ids), 500):
        deliver_messages.enqueue(ids[start:start + 500])
    return f"{len(ids)} message(s) en attente remis en file"


def print_pending_letters(day: dt.date) -> str:
    """Letters queued one by one (new codes, coming of age) go to print as one PDF per batch."""
    paths = render_pending()
    return f"{len(paths)} lot(s) de courriers imprimé(s)" + (f" : {', '.join(map(str, paths))}" if paths else "")
