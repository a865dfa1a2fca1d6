from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "carnet.sharing"
    label = "sharing"
    verbose_name = "Partage et traçabilité"

    def ready(self):
        # Load and validate the habilitation matrix now: a broken operator file stops the start, naming the line.
        from carnet.sharing import habilitation

        habilitation.matrix()
