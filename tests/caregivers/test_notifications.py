"""A caregiver gets the helped person's notifications: in their own notification centre, labelled with the
helped person's first name, by email/SMS as the caregiver chose; never the person's account or family notices."""

import pytest

from carnet.caregivers import actions
from carnet.notifications import actions as notifications
from carnet.notifications.enums import Kind
from carnet.notifications.models import Notification, OutboundMessage

pytestmark = pytest.mark.django_db


def news(holder):
    return notifications.notify(holder, kind=Kind.DOCUMENTS, code="document_added",
                                title="Un nouveau document est disponible dans votre espace.", url="/documents/")


def test_the_caregiver_gets_the_holders_notification_labelled_with_the_first_name(holder, caregiver, delegation):
    news(holder)
    received = Notification.objects.get(person=caregiver, code="document_added")
    assert received.about == holder
    assert received.title.startswith(f"{holder.first_name} : ")
    assert received.kind == Kind.DOCUMENTS
    email = OutboundMessage.objects.filter(person=caregiver, channel="email").latest("id")
    assert email.recipient == caregiver.account.email and holder.first_name in email.subject


def test_email_and_sms_follow_the_caregivers_own_preferences(holder, caregiver, delegation):
    notifications.set_preference(caregiver, Kind.DOCUMENTS, email=False, sms=True)
    before = OutboundMessage.objects.filter(person=caregiver).count()
    news(holder)
    sent = OutboundMessage.objects.filter(person=caregiver).order_by("id")[before:]
    assert [m.channel for m in sent] == ["sms"]
    assert Notification.objects.filter(person=caregiver, code="document_added").exists()  # in-app always


def test_account_and_family_notices_stay_the_holders(holder, caregiver, delegation):
    notifications.notify(holder, kind=Kind.ACCOUNT, code="MOT_DE_PASSE_MODIFIE", title="Mot de passe modifié")
    notifications.notify(holder, kind=Kind.FAMILY, code="INVIT_ACCES_SECOND_RL", title="Invitation")
    assert not Notification.objects.filter(person=caregiver, code__in=["MOT_DE_PASSE_MODIFIE",
                                                                       "INVIT_ACCES_SECOND_RL"]).exists()


def test_no_more_notifications_once_the_delegation_ended_or_before_it_is_accepted(family, holder, caregiver):
    from .conftest import invite

    pending = invite(holder, caregiver)
    news(holder)
    actions.respond_to_invitation(caregiver, pending.uuid, accept=True)
    actions.end_delegation(holder, pending.uuid)
    news(holder)
    assert not Notification.objects.filter(person=caregiver, code="document_added").exists()


def test_a_document_added_by_a_caregiver_tells_the_holder(holder, caregiver, delegation):
    from carnet.record.actions import add_document
    from tests.record.conftest import make_pdf

    add_document(caregiver, holder, content=make_pdf(), filename="a.pdf", type_code="DOCPAT02")
    assert Notification.objects.filter(person=holder, code="document_added").exists()
