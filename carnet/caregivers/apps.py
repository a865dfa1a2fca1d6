from django.apps import AppConfig


class CaregiversConfig(AppConfig):
    name = "carnet.caregivers"
    label = "caregivers"
    verbose_name = "Aidants"
