from django.apps import AppConfig


class MedicalConfig(AppConfig):
    name = "carnet.medical"
    label = "medical"
    verbose_name = "Profil médical"
