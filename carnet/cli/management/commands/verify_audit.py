import sys
import uuid

from django.core.management.base import BaseCommand, CommandError

from carnet.identity.models import Person
from carnet.sharing import audit


class Command(BaseCommand):
    help = (
        "Check every person's access-event chain (or one person's): one line per altered, removed, "
        "reordered or inserted event, then a summary; exit status 1 if anything is broken. "
        "--write-anchors FILE saves the chain heads (to keep outside the database); --anchors FILE "
        "checks against heads saved earlier, which also reveals deleted last events."
    )

    def add_arguments(self, parser):
        parser.add_argument("--person", help="uuid de la personne (sinon : toutes)")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--anchors", help="fichier d'ancrages écrit auparavant par --write-anchors")
        parser.add_argument("--write-anchors", help="écrire les têtes de chaîne actuelles dans ce fichier")

    def handle(self, *args, person=None, batch_size=500, anchors=None, write_anchors=None, **options):
        if batch_size < 1:
            raise CommandError("--batch-size doit être positif.")
        anchor_stream = None
        try:
            anchor_stream = open(anchors, encoding="utf-8", newline="") if anchors else None  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"ancrages illisibles : {exc.strerror}") from None
        try:
            anchor_rows = audit.read_anchors(anchor_stream) if anchor_stream else iter(())
            if person:
                reports = [self._one(person, anchor_rows)]
            else:
                reports = audit.verify_all(batch_size, anchor_rows)
            chains = events = broken = 0
            for report in reports:
                chains += 1
                events += report.events
                for brk in report.breaks:
                    broken += 1
                    self.stdout.write(brk.line())
        except ValueError as exc:
            raise CommandError(f"ancrages : {exc}") from None
        finally:
            if anchor_stream:
                anchor_stream.close()
        self.stdout.write(f"{chains} chaîne(s) vérifiée(s), {events} événement(s), {broken} rupture(s).")
        if write_anchors:
            with open(write_anchors, "w", encoding="utf-8", newline="") as stream:
                count = audit.write_anchors(stream, audit.chain_heads(batch_size))
            self.stdout.write(f"{count} tête(s) de chaîne ancrée(s) dans {write_anchors}.")
        if broken:
            sys.exit(1)

    def _one(self, value: str, anchor_rows) -> audit.ChainReport:
        try:
            wanted = uuid.UUID(value)
        except ValueError:
            raise CommandError("--person attend un uuid.") from None
        target = Person.objects.filter(uuid=wanted).first()
        if target is None:
            raise CommandError("personne inconnue.")
        anchor = next((a for a in anchor_rows if a.person == wanted), None)
        return audit.check_person(target, anchor)
