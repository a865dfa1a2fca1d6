from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from carnet.sharing.models import Professional
from carnet.sharing.tokens import issue_professional_token


class Command(BaseCommand):
    help = ("Print a bearer token identifying a professional of the directory, for trying clinical software "
            "against the FHIR API (demo mode only).")

    def add_arguments(self, parser):
        parser.add_argument("--rpps", required=True, help="the professional's 11-digit RPPS number")

    def handle(self, *args, **options):
        if not (settings.CARNET_DEMO or settings.DEBUG):
            raise CommandError("dev_token ne fonctionne qu'en mode démonstration (CARNET_DEMO=1) : en production, "
                               "les logiciels obtiennent leurs jetons par OAuth2.")
        rpps = options["rpps"].strip()
        professional = Professional.objects.filter(rpps=rpps).first()
        if professional is None:
            raise CommandError(f"aucun professionnel de RPPS {rpps!r} dans l'annuaire "
                               "(carnet import_directory ou carnet demo_data le remplissent).")
        if not professional.active:
            raise CommandError(f"le professionnel de RPPS {rpps} n'est plus actif dans l'annuaire.")
        _row, token = issue_professional_token(professional)
        self.stdout.write(token)
