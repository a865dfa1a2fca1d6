from django.apps import AppConfig


class ProConfig(AppConfig):
    """The professionals' portal ("portail professionnel"): a face, no models of its own."""

    name = "carnet.pro"
    label = "pro"
    verbose_name = "Portail professionnel"
