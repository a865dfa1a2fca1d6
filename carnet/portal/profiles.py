"""Which space the signed-in person is looking at: their own, or one they represent.

The choice lives in the session (`acting_for`, a person's public uuid) and is re-checked against
the policy on every request, so an ended representation takes effect at once.
"""

from carnet.identity.actions.family import represented_profiles
from carnet.identity.models import Person
from carnet.sharing.events import authorise
from carnet.sharing.policy import Action, PolicyDenied

SESSION_KEY = "acting_for"


def own_person(request) -> Person | None:
    user = request.user
    return user.person if user.is_authenticated and user.person_id else None


def current_profile(request) -> Person | None:
    """The person whose space is shown; falls back to the holder's own if access has ended."""
    me = own_person(request)
    if me is None:
        return None
    wanted = request.session.get(SESSION_KEY)
    if not wanted or wanted == str(me.uuid):
        return me
    target = Person.objects.filter(uuid=wanted).first()
    try:
        authorise(me, Action.VIEW_SPACE, target)
    except PolicyDenied:
        request.session.pop(SESSION_KEY, None)
        return me
    return target


def switchable_profiles(request) -> list[Person]:
    me = own_person(request)
    return [me, *represented_profiles(me)] if me else []
