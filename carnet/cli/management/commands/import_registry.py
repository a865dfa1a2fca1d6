import sys

from django.core.management.base import BaseCommand, CommandError

from carnet.identity.registry import RegistryFileError, import_registry


class Command(BaseCommand):
    help = "Import an insurance registry extract (UTF-8 CSV) and notify the new persons."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file with the columns nir,vitale_serial,family_name,...")
        parser.add_argument("--chunk-size", type=int, default=5000)

    def handle(self, *args, **options):
        def on_error(line: int, reason: str) -> None:
            self.stderr.write(f"ligne {line} : {reason}")

        try:
            report = import_registry(options["file"], chunk_size=options["chunk_size"], on_error=on_error)
        except FileNotFoundError:
            raise CommandError(f"fichier introuvable : {options['file']}") from None
        except RegistryFileError as exc:
            if exc.line <= 1:
                raise CommandError(f"fichier refusé, rien n'a été importé : {exc}") from None
            raise CommandError(
                f"lecture interrompue : {exc}. Les lignes précédentes ont pu être importées ; corrigez le fichier "
                "et relancez l'import (il est idempotent : rien ne sera créé deux fois)."
            ) from None
        self.stdout.write(report.summary())
        if report.rejected:
            self.stdout.flush()
            sys.exit(1)
