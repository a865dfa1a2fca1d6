import sys

from django.core.management.base import BaseCommand, CommandError

from carnet.sharing.directory import DirectoryFileError, import_directory


class Command(BaseCommand):
    help = "Import a professionals' directory extract (UTF-8 CSV: rpps,family_name,given_names,profession_code,...)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file with the columns rpps,family_name,given_names,profession_code,"
                                         "specialty_code,finess,email")
        parser.add_argument("--chunk-size", type=int, default=5000)

    def handle(self, *args, **options):
        def on_error(line: int, reason: str) -> None:
            self.stderr.write(f"ligne {line} : {reason}")

        try:
            report = import_directory(options["file"], chunk_size=options["chunk_size"], on_error=on_error)
        except FileNotFoundError:
            raise CommandError(f"fichier introuvable : {options['file']}") from None
        except DirectoryFileError as exc:
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
