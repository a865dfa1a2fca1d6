from django.apps import AppConfig


class RecordConfig(AppConfig):
    name = "carnet.record"
    label = "record"
    verbose_name = "Dossier : documents"
