import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from carnet.cli.daily import run_daily
from carnet.common.dates import today


class Command(BaseCommand):
    help = "Run every daily job as of a date (default: today). Idempotent: safe to re-run or catch up."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today, Europe/Paris)")

    def handle(self, *args, **options):
        try:
            day = dt.date.fromisoformat(options["date"]) if options["date"] else today()
        except ValueError:
            raise CommandError("--date attend une date AAAA-MM-JJ") from None
        for name, summary in run_daily(day):
            self.stdout.write(f"{day} {name}: {summary}")
