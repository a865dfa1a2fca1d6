from django.apps import AppConfig


class ExportConfig(AppConfig):
    name = "carnet.export"
    label = "export"
    verbose_name = "Export des données"
