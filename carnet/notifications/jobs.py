import datetime as dt

from .actions import pending_ids
from .tasks import deliver_messages


def retry_pending_messages(day: dt.date) -> str:
    """Emails and SMS left pending (worker down, gateway outage) are queued again."""
    ids = pending_ids()
    for start in range(0, len(ids), 500):
        deliver_messages.enqueue(ids[start:start + 500])
    return f"{len(ids)} message(s) en attente remis en file"
