"""Who is calling and which space they act on: every other person's space goes through the policy.

Kept apart from urls.py so routers can use it without importing the API object.
"""

from typing import cast
from uuid import UUID

from django.http import HttpRequest
from ninja.errors import HttpError

from carnet.common.http import client_ip  # noqa: F401 - re-exported for the routers
from carnet.identity.models import Account, DeviceSession, Person
from carnet.sharing.events import authorise
from carnet.sharing.policy import DENIAL_MESSAGES, Action

# Denials where the actor has no relationship to the target: answered like an unknown id (404).
NOT_FOUND_REASONS = {"no_relationship", "not_attached_parent"}


class ApiRequest(HttpRequest):
    """A request past BearerAuth: ninja sets `auth` (the account), BearerAuth sets `device` (typing only)."""

    auth: Account
    device: DeviceSession


def me(request: HttpRequest) -> Person:
    """The signed-in holder's own person (BearerAuth only lets accounts with a person through)."""
    return cast(ApiRequest, request).auth.person  # type: ignore[return-value]  # BearerAuth requires a person


def not_found() -> HttpError:
    """The same 404 as a policy denial for an unrelated person, so ids cannot be probed."""
    return HttpError(404, str(DENIAL_MESSAGES["no_relationship"]))


def profile(request: HttpRequest, profile_id: UUID | None, action: Action = Action.VIEW_SPACE) -> Person:
    """The space the caller acts on (their own when `profile_id` is empty), after asking the policy;
    `authorise` records the access event (every non-holder act, every denial)."""
    actor = me(request)
    if profile_id is None or profile_id == actor.uuid:
        target = actor
    else:
        target = Person.objects.filter(uuid=profile_id).first()  # type: ignore[assignment]  # None: authorise denies
    authorise(actor, action, target)  # raises PolicyDenied, answered 404/403 by the API
    return target


def person_or_404(profile_id: UUID) -> Person:
    """For domain actions that ask the policy themselves (activate a child, invite a representative)."""
    target = Person.objects.filter(uuid=profile_id).first()
    if target is None:
        raise not_found()
    return target
