from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "carnet.vault"
    label = "vault"
    verbose_name = "Coffre chiffré"
