from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from carnet.record.dmp_import import REFUSED, DmpArchiveError, EntryOutcome, import_dmp


class Command(BaseCommand):
    help = ("Import an old-DMP export (IHE XDM ZIP: IHE_XDM/SUBSET*/METADATA.XML + documents) into the holders' "
            "spaces, matched by INS. Idempotent and resumable; one line per document, then a summary.")

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the XDM ZIP file")
        parser.add_argument("--report", metavar="FILE", help="also write the per-document report (CSV) to FILE")

    def handle(self, *args, **options):
        seen = [0]

        def on_outcome(outcome: EntryOutcome) -> None:
            seen[0] += 1
            line = f"{outcome.subset} {outcome.unique_id or '(sans uniqueId)'} {outcome.outcome}"
            if outcome.outcome == REFUSED:
                line += f" {outcome.reason} : {outcome.reason_text}"
            self.stdout.write(line)

        try:
            report = import_dmp(options["archive"], on_outcome=on_outcome)
        except DmpArchiveError as exc:
            raise CommandError(f"archive refusée, rien n'a été importé : {exc.message}") from None
        except Exception as exc:  # a crash: say how to resume, never the exception text (it may quote content)
            raise CommandError(
                f"import interrompu ({type(exc).__name__}) après {seen[0]} document(s) traité(s). Relancez la même "
                "commande : les documents déjà importés sont reconnus (uniqueId) et ne seront pas dupliqués."
            ) from None
        if options["report"]:
            Path(options["report"]).write_text(report.csv(), encoding="utf-8")
        self.stdout.write(report.summary())
