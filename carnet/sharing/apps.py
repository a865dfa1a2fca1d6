from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "carnet.sharing"
    label = "sharing"
    verbose_name = "Partage et traçabilité"
