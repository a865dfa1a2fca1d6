import sys

from django.core.management.base import BaseCommand, CommandError

from carnet.medical.medicines import BdpmFileError, import_bdpm


class Command(BaseCommand):
    help = (
        "Load the public BDPM (CIS_bdpm.txt and CIS_CIP_bdpm.txt, as downloaded from "
        "base-donnees-publique.medicaments.gouv.fr) into the medicine reference table; idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("cis_file", help="CIS_bdpm.txt (specialities)")
        parser.add_argument("cip_file", help="CIS_CIP_bdpm.txt (presentations)")

    def handle(self, *args, **options):
        def on_error(name: str, line: int, reason: str) -> None:
            self.stderr.write(f"{name} ligne {line} : {reason}")

        try:
            report = import_bdpm(options["cis_file"], options["cip_file"], on_error=on_error)
        except FileNotFoundError as exc:
            raise CommandError(f"fichier introuvable : {exc.filename}") from None
        except BdpmFileError as exc:
            raise CommandError(f"import refusé : {exc}") from None
        self.stdout.write(report.summary())
        if report.rejected:
            self.stdout.flush()
            sys.exit(1)
