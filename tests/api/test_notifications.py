"""The notification centre through the API: mine, a represented child's, never a stranger's."""

import pytest

from carnet.identity.actions import activate_child
from carnet.notifications import actions as notifications
from carnet.notifications.enums import Kind
from carnet.notifications.models import Notification, NotificationPreference
from carnet.sharing.models import AccessEvent
from tests.api.conftest import sign_in

pytestmark = pytest.mark.django_db


def notify(person, title="Un nouveau document est disponible"):
    return notifications.notify(person, kind=Kind.DOCUMENTS, code="DOC", title=title)


def test_list_is_paginated_with_the_unread_count(family):
    account = family.holder()
    for i in range(3):
        notify(account.person, title=f"Notification {i}")
    client = sign_in(account)

    page = client.get("/api/notifications", {"page_size": 2}).json()

    assert (page["count"], page["unread"], len(page["items"])) == (3, 3, 2)
    assert page["items"][0]["title"] == "Notification 2"
    assert len(client.get("/api/notifications", {"page": 2, "page_size": 2}).json()["items"]) == 1


def test_read_unread_delete_and_read_all(family):
    account = family.holder()
    first, second = notify(account.person), notify(account.person)
    client = sign_in(account)

    assert client.post(f"/api/notifications/{first.uuid}/read").status_code == 204
    assert client.get("/api/notifications").json()["unread"] == 1
    assert client.post(f"/api/notifications/{first.uuid}/unread").status_code == 204
    assert client.get("/api/notifications").json()["unread"] == 2
    assert client.post("/api/notifications/read-all").status_code == 204
    assert client.get("/api/notifications").json()["unread"] == 0
    assert client.delete(f"/api/notifications/{second.uuid}").status_code == 204
    assert not Notification.objects.filter(pk=second.pk).exists()


def test_another_persons_notification_is_a_404(family):
    mine, theirs = family.holder(), family.holder()
    notify(mine.person)
    their_notification = notify(theirs.person)
    client = sign_in(mine)

    assert client.post(f"/api/notifications/{their_notification.uuid}/read").status_code == 404
    assert client.post(f"/api/notifications/{their_notification.uuid}/unread").status_code == 404
    assert client.delete(f"/api/notifications/{their_notification.uuid}").status_code == 404
    their_notification.refresh_from_db()
    assert their_notification.read_at is None
    listed = [n["id"] for n in client.get("/api/notifications").json()["items"]]
    assert str(their_notification.uuid) not in listed


def test_a_representative_reads_the_childs_notifications_and_it_is_traced(family):
    parent = family.holder()
    child = family.person(age=7, parent=parent.person)
    activate_child(parent.person, child, certify=True)
    notify(child)
    client = sign_in(parent)

    page = client.get("/api/notifications", {"profile": str(child.uuid)}).json()

    assert page["count"] == 1
    assert AccessEvent.objects.filter(
        person=child, actor=parent.person, action="space.view", allowed=True).exists()


def test_a_stranger_cannot_read_a_childs_notifications(family):
    parent, stranger = family.holder(), family.holder()
    child = family.person(age=7, parent=parent.person)
    activate_child(parent.person, child, certify=True)
    notification = notify(child)
    client = sign_in(stranger)

    assert client.get("/api/notifications", {"profile": str(child.uuid)}).status_code == 404
    response = client.post(f"/api/notifications/{notification.uuid}/read?profile={child.uuid}")
    assert response.status_code == 404
    assert AccessEvent.objects.filter(person=child, actor=stranger.person, allowed=False).count() == 2


def test_preferences_read_and_update(family):
    account = family.holder()
    client = sign_in(account)

    prefs = {p["kind"]: p for p in client.get("/api/notifications/preferences").json()}
    assert prefs["documents"] == {**prefs["documents"], "email": True, "sms": False, "mandatory": False}
    assert prefs["account"]["mandatory"]

    response = client.put("/api/notifications/preferences", {"preferences": [
        {"kind": "documents", "email": False, "sms": True},
        {"kind": "account", "email": False, "sms": False},
    ]})

    assert response.status_code == 200, response.content
    prefs = {p["kind"]: p for p in response.json()}
    assert (prefs["documents"]["email"], prefs["documents"]["sms"]) == (False, True)
    assert prefs["account"]["email"]  # security notices always go out
    assert NotificationPreference.objects.filter(person=account.person, kind="documents", sms=True).exists()


def test_an_unknown_preference_kind_is_a_422(family):
    client = sign_in(family.holder())
    response = client.put("/api/notifications/preferences", {"preferences": [
        {"kind": "nope", "email": True, "sms": False}]})
    assert response.status_code == 422


def test_listing_does_not_query_per_notification(family, django_assert_max_num_queries):
    parent = family.holder()
    child = family.person(age=7, parent=parent.person)
    activate_child(parent.person, child, certify=True)
    for _ in range(30):
        notifications.notify(parent.person, kind=Kind.FAMILY, code="X", title="Un profil a changé",
                             about=child)
    client = sign_in(parent)

    with django_assert_max_num_queries(8):
        page = client.get("/api/notifications", {"page_size": 30}).json()

    assert page["items"][0]["about"]["id"] == str(child.uuid)
