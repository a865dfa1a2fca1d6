from django.core.management.base import BaseCommand

from carnet.notifications.actions import pending_ids
from carnet.notifications.tasks import deliver_messages


class Command(BaseCommand):
    help = "Deliver every pending email and SMS now, in this process (no worker needed)."

    def handle(self, *args, **options):
        ids = pending_ids()
        counts = deliver_messages.call(ids) if ids else {}
        self.stdout.write(f"{len(ids)} message(s) traités : {counts}")
