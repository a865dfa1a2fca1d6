"""What every `carnet import_*` command of a chunked CSV extract does around its domain importer: line-numbered
refusals on stderr, a summary on stdout, exit status 1 when a row was refused, and a clear word on a file that
stops half-way (earlier chunks kept, re-running is safe because imports are idempotent)."""

import sys

from django.core.management.base import BaseCommand, CommandError


class ChunkedCsvImportCommand(BaseCommand):
    columns = ""  # shown in --help

    def importer(self, path: str, *, chunk_size: int, on_error):
        raise NotImplementedError

    file_error: type[Exception] = Exception  # the importer's "this file cannot be read" error (with `.line`)

    def add_arguments(self, parser):
        parser.add_argument("file", help=f"CSV file with the columns {self.columns}")
        parser.add_argument("--chunk-size", type=int, default=5000)

    def handle(self, *args, **options):
        def on_error(line: int, reason: str) -> None:
            self.stderr.write(f"ligne {line} : {reason}")

        try:
            report = self.importer(options["file"], chunk_size=options["chunk_size"], on_error=on_error)
        except FileNotFoundError:
            raise CommandError(f"fichier introuvable : {options['file']}") from None
        except self.file_error as exc:
            if getattr(exc, "line", 0) <= 1:
                raise CommandError(f"fichier refusé, rien n'a été importé : {exc}") from None
            raise CommandError(
                f"lecture interrompue : {exc}. Les lignes précédentes ont pu être importées ; corrigez le fichier "
                "et relancez l'import (il est idempotent : rien ne sera créé deux fois)."
            ) from None
        self.stdout.write(report.summary())
        if report.rejected:
            self.stdout.flush()
            sys.exit(1)
