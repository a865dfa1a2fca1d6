from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "carnet.cli"
    label = "cli"
    verbose_name = "Commandes"
