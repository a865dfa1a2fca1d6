"""The refusal every medical action raises: a readable French message and the field it is about."""

from carnet.identity.errors import ActionRefused


class MedicalError(ActionRefused):
    """Invalid entry or refused rule; nothing was written."""
