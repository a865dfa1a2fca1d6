"""The notification centre of my space, or of a space I represent (`?profile=<uuid>`), and my
channel preferences. A notification says that something happened, never what."""

from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from carnet.notifications import actions as notifications
from carnet.notifications.enums import MANDATORY_KINDS, Kind
from carnet.notifications.models import Notification
from carnet.sharing.policy import Action

from ..access import not_found, profile
from ..schemas import Error, NotificationPageOut, PreferenceOut, PreferencesIn

router = Router()
ERRORS = {401: Error, 403: Error, 404: Error}


class ProfileQuery(Schema):
    profile: UUID | None = Field(None, description="Un profil que je représente (le mien par défaut)")


class PageQuery(ProfileQuery):
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=100)
    unread_only: bool = False


def notification_out(n: Notification) -> dict:
    about = n.about
    return {
        "id": n.uuid, "kind": n.kind, "code": n.code, "title": n.title, "url": n.url,
        "created_at": n.created_at, "read": n.read_at is not None, "read_at": n.read_at,
        "about": {"id": about.uuid, "given_names": about.given_names, "family_name": about.family_name}
        if about else None,
    }


@router.get("", response={200: NotificationPageOut, **ERRORS}, summary="Mes notifications")
def list_notifications(request: HttpRequest, query: Query[PageQuery]):
    person = profile(request, query.profile)
    rows = Notification.objects.filter(person=person)
    unread = rows.unread().count()
    if query.unread_only:
        rows = rows.unread()
    count = unread if query.unread_only else rows.count()
    start = (query.page - 1) * query.page_size
    page = rows.select_related("about").order_by("-created_at", "-id")[start:start + query.page_size]
    return {"count": count, "unread": unread, "page": query.page, "page_size": query.page_size,
            "items": [notification_out(n) for n in page]}


@router.post("/read-all", response={204: None, **ERRORS}, summary="Tout marquer comme lu")
def read_all(request: HttpRequest, query: Query[ProfileQuery]):
    notifications.mark_all_read(profile(request, query.profile))
    return Status(204, None)


@router.get("/preferences", response={200: list[PreferenceOut], **ERRORS},
            summary="Mes préférences de notification")
def preferences(request: HttpRequest):
    person = profile(request, None, Action.MANAGE_ACCOUNT)
    return preferences_out(person)


@router.put("/preferences", response={200: list[PreferenceOut], 400: Error, **ERRORS},
            summary="Modifier mes préférences de notification")
def update_preferences(request: HttpRequest, payload: PreferencesIn):
    """Only the kinds sent change. Security notices stay on by email (the domain enforces it)."""
    person = profile(request, None, Action.MANAGE_ACCOUNT)
    for item in payload.preferences:
        notifications.set_preference(person, item.kind, email=item.email, sms=item.sms)
    return preferences_out(person)


def preferences_out(person) -> list[dict]:
    return [
        {"kind": kind, "label": str(Kind(kind).label), "email": pref.email, "sms": pref.sms,
         "mandatory": kind in MANDATORY_KINDS}
        for kind, pref in notifications.preferences_for(person).items()
    ]


@router.post("/{notification_id}/read", response={204: None, **ERRORS}, summary="Marquer comme lue")
def read(request: HttpRequest, notification_id: UUID, query: Query[ProfileQuery]):
    if not notifications.mark_read(profile(request, query.profile), notification_id):
        raise not_found()
    return Status(204, None)


@router.post("/{notification_id}/unread", response={204: None, **ERRORS}, summary="Marquer comme non lue")
def unread(request: HttpRequest, notification_id: UUID, query: Query[ProfileQuery]):
    if not notifications.mark_read(profile(request, query.profile), notification_id, read=False):
        raise not_found()
    return Status(204, None)


@router.delete("/{notification_id}", response={204: None, **ERRORS}, summary="Supprimer une notification")
def delete(request: HttpRequest, notification_id: UUID, query: Query[ProfileQuery]):
    if not notifications.delete_notification(profile(request, query.profile), notification_id):
        raise not_found()
    return Status(204, None)
