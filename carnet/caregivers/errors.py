from carnet.identity.errors import ActionRefused


class CaregiverError(ActionRefused):
    """A caregiver action refused, with a message the person can act on and a stable code:
    `not_found` (no active space matches the identity traits), `pending_exists`, `already_has_access`,
    `holder_at_maximum`, `caregiver_at_maximum`, `declaration`, `self`, `minor`, `not_valid`, `locked`."""
