"""`carnet daily`: every daily job, as of a given date. Later areas add theirs to DAILY_JOBS.

Each job takes the date and returns a one-line summary; each is idempotent, so running a day twice
or catching up a missed day is safe.
"""

import datetime as dt

from django.utils.module_loading import import_string

DAILY_JOBS = [
    "carnet.identity.jobs.open_spaces_after_opposition_window",
    "carnet.identity.jobs.coming_of_age",
    "carnet.identity.jobs.purge_expired_secrets",
    "carnet.notifications.jobs.retry_pending_messages",
    "carnet.notifications.jobs.print_pending_letters",
    "carnet.vault.jobs.sweep_unreferenced_files",
    "carnet.record.jobs.announcement_reminders",
    "carnet.caregivers.actions.expire_invitations",
    "carnet.export.actions.purge_expired",
]


def run_daily(day: dt.date) -> list[tuple[str, str]]:
    return [(path.rsplit(".", 1)[1], import_string(path)(day)) for path in DAILY_JOBS]
