from django.core.management.base import BaseCommand

from carnet.vault.keys import current_master, rotate_master_key


class Command(BaseCommand):
    help = (
        "Rewrap every person's data key with the current master key (the first of CARNET_MASTER_KEYS). "
        "No document is rewritten. Keep the old key configured until this reports 0 left."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size, **options):
        key_id, _ = current_master()
        count = rotate_master_key(batch_size=batch_size)
        self.stdout.write(f"{count} clé(s) de données rechiffrée(s) avec la clé maître « {key_id} ».")
