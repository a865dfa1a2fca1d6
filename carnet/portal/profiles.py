"""Which space the signed-in person is looking at: their own, or one they represent.

The choice lives in the session (`acting_for`, a person's public uuid) and is re-checked against
the policy on every request, so an ended representation takes effect at once.
"""

from carnet.identity.actions.family import represented_profiles
from carnet.identity.models import Person
from carnet.sharing.policy import Action, decide

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
    profile = me
    wanted = request.session.get(SESSION_KEY) if me else None
    if wanted and wanted != str(me.uuid):
        target = Person.objects.filter(uuid=wanted).first()
        if decide(me, Action.VIEW_SPACE, target):
            profile = target
        else:
            request.session.pop(SESSION_KEY, None)
    request._carnet_profile = profile
    return profile


def switchable_profiles(request) -> list[Person]:
    me = own_person(request)
    return [me, *represented_profiles(me)] if me else []
