"""Which space the signed-in person is looking at: their own, one they represent, or one of a person they
help as a caregiver (aidant).

The choice lives in the session (`acting_for`, a person's public uuid) and is re-checked against
the policy on every request, so an ended representation or delegation takes effect at once.
"""

from typing import cast

from carnet.caregivers.actions import helped_profiles
from carnet.identity.actions.family import represented_profiles
from carnet.identity.models import Person
from carnet.sharing.policy import Action, Role, decide

SESSION_KEY = "acting_for"


def own_person(request) -> Person | None:
    user = request.user
    return user.person if user.is_authenticated and user.person_id else None


def current_profile(request) -> Person | None:
    """The person whose space is shown; falls back to the holder's own if access has ended.

    Asked once per request (cached). The switch itself is the traced access (`switch_profile`
    records it through `authorise`); pages that read content record their own access.
    """
    if hasattr(request, "_carnet_profile"):
        return request._carnet_profile
    me = own_person(request)
    profile, role = me, Role.HOLDER if me else Role.NONE
    wanted = request.session.get(SESSION_KEY) if me else None
    if wanted and wanted != str(cast(Person, me).uuid):  # wanted implies me
        target = Person.objects.filter(uuid=wanted).first()
        decision = decide(me, Action.VIEW_SPACE, target)
        if decision:
            profile, role = target, decision.role
        else:
            request.session.pop(SESSION_KEY, None)
    request._carnet_profile = profile
    request._carnet_profile_role = role
    return profile


def current_role(request) -> Role:
    """How the signed-in person sees the profile shown: holder, representative or caregiver (for the wording
    "mon/ma/mes" against "son/sa/ses" and the notices saying in which capacity they act)."""
    current_profile(request)
    return getattr(request, "_carnet_profile_role", Role.NONE)


def switchable_profiles(request) -> list[Person]:
    """One's own space, then those one represents, then those one helps (each once, a representation first)."""
    me = own_person(request)
    if me is None:
        return []
    profiles = [me, *represented_profiles(me)]
    seen = {p.pk for p in profiles}
    return profiles + [p for p in helped_profiles(me) if p.pk not in seen]
