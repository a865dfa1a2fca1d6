from carnet.identity.errors import ActionRefused


class RecordError(ActionRefused):
    """A record action refused, with a message the person can act on (never any content)."""
