"""The refusal every identity action raises: a message the person can act on, the form field it is
about, and a code ("locked" when an attempt limit answered: faces reply 429)."""

from django.utils.translation import gettext_lazy

LOCKED = gettext_lazy("Trop de tentatives. Pour votre sécurité, réessayez plus tard.")


class ActionRefused(Exception):
    def __init__(self, message, field: str = "", code: str = "invalid"):
        self.message = str(message)
        self.field = field
        self.code = code
        super().__init__(self.message)
