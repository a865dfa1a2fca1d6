"""Emergency access (bris de glace, SAMU régulateur), the service: an opening is time-boxed, its reason sealed, it
is recorded on the "emergency" channel and notified to the holder and their médecin traitant without health
content; every refusal is recorded and writes nothing; reads during an opening are emergency events, and nothing
is granted once it expired. The holder's three settings: defaults, changes recorded, who may change them."""

import datetime as dt
import itertools

import pytest
import time_machine
from django.utils import timezone

from carnet.identity.enums import SpaceStatus
from carnet.notifications.models import Notification, OutboundMessage
from carnet.record import actions as record_actions
from carnet.record.actions import Author
from carnet.record.enums import AuthorKind, DocumentSource
from carnet.sharing import emergency
from carnet.sharing.emergency import EmergencyError, open_emergency_access, set_emergency_settings
from carnet.sharing.events import authorise
from carnet.sharing.models import (
    AccessEvent,
    ActivityPlace,
    Block,
    CareRole,
    EmergencyAccess,
    EmergencySettings,
    Establishment,
    Professional,
)
from carnet.sharing.policy import Action, PolicyDenied, Role, decide
from tests.record.conftest import make_pdf

pytestmark = pytest.mark.django_db
_rpps = itertools.count(40000000001)
REASON = "Coma hypoglycémique, patient inconscient"


def pro(profession="10", email="", family_name="Urgentiste", **fields) -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name=family_name, given_names="Paul",
                                       profession_code=profession, email=email, **fields)


def regulator() -> Professional:
    professional = pro("10")
    centre = Establishment.objects.create(finess=f"7{next(_rpps) % 10**8:08d}", name="SAMU", samu_regulation=True)
    ActivityPlace.objects.create(professional=professional, establishment=centre)
    return professional


@pytest.fixture
def holder(family):
    return family.holder()  # an account: e-mails reach them


@pytest.fixture
def doctor_mt(holder):
    mt = pro("10", email="dr.traitant@cabinet.example", family_name="Traitant")
    CareRole.objects.create(person=holder.person, professional=mt, kind="medecin_traitant")
    return mt


def events(person, **filters):
    return AccessEvent.objects.filter(person=person, **filters).order_by("sequence")


def test_defaults_follow_the_law_and_the_dmp(family):
    chosen = emergency.settings_of(family.person(status=SpaceStatus.ACTIVE))
    assert (chosen.samu_allowed, chosen.break_glass_allowed, chosen.masked_visible) == (True, True, False)


def test_an_opening_is_time_boxed_sealed_and_recorded_on_the_emergency_channel(holder, settings):
    settings.CARNET_EMERGENCY_ACCESS_HOURS = 2
    me, urgentiste = holder.person, pro("10")
    access = open_emergency_access(urgentiste, me, kind="break_glass", reason=f"  {REASON}  ")
    assert access.expires_at - access.opened_at == dt.timedelta(hours=2)
    assert REASON.encode() not in bytes(access.reason_sealed)  # sealed with the person's key
    assert emergency.reason_of(access) == REASON
    (event,) = events(me)
    assert (event.professional_id, event.action, event.allowed, event.reason, event.channel, event.subject,
            event.actor_role) == (urgentiste.pk, "sharing.emergency", True, "emergency", "emergency",
                                  f"emergency:{access.uuid}", Role.PROFESSIONAL)
    assert REASON not in str(event.__dict__)


def test_a_samu_opening_by_a_regulator(holder):
    access = open_emergency_access(regulator(), holder.person, kind="samu", reason=REASON)
    assert access.kind == "samu"
    assert events(holder.person).get().reason == "samu"


def test_holder_and_medecin_traitant_are_told_without_health_content(holder, doctor_mt,
                                                                      django_capture_on_commit_callbacks):
    me = holder.person
    with django_capture_on_commit_callbacks(execute=True):
        open_emergency_access(pro("10"), me, kind="break_glass", reason=REASON)
    notice = Notification.objects.get(person=me, code="emergency_access")
    to_holder = OutboundMessage.objects.get(recipient=holder.email)
    to_mt = OutboundMessage.objects.get(recipient=doctor_mt.email)
    assert "urgence" in notice.title and "urgence" in to_holder.subject and "urgence" in to_mt.subject
    for text in (notice.title, to_holder.subject, to_holder.body, to_mt.subject, to_mt.body):
        for secret in ("Coma", "inconscient", me.family_name, me.given_names, "Urgentiste", me.nir):
            assert secret not in text, (secret, text)
    assert to_mt.person_id is None  # not a message to the holder


def test_every_opening_is_notified_but_not_to_a_medecin_traitant_who_opens_or_has_no_email(
        holder, doctor_mt, family):
    me = holder.person
    open_emergency_access(doctor_mt, me, kind="break_glass", reason=REASON)
    assert not OutboundMessage.objects.filter(recipient=doctor_mt.email).exists()
    assert Notification.objects.filter(person=me, code="emergency_access").count() == 1
    other = family.person(status=SpaceStatus.ACTIVE)
    silent_mt = pro("10")
    CareRole.objects.create(person=other, professional=silent_mt, kind="medecin_traitant")
    open_emergency_access(pro("10"), other, kind="break_glass", reason=REASON)
    open_emergency_access(pro("10"), other, kind="break_glass", reason=REASON)
    assert Notification.objects.filter(person=other, code="emergency_access").count() == 2


@pytest.mark.parametrize("case, reason_code", [
    ("empty_reason", "emergency_no_reason"), ("opposed", "emergency_refused"), ("samu_opposed", "samu_refused"),
    ("not_regulator", "not_samu_regulator"), ("blocked", "blocked"), ("inactive", "inactive_professional"),
])
def test_refusals_are_recorded_and_write_nothing(holder, doctor_mt, case, reason_code):
    me = holder.person
    kind, reason, professional = "break_glass", REASON, pro("10")
    if case == "empty_reason":
        reason = "  "
    elif case == "opposed":
        EmergencySettings.objects.create(person=me, break_glass_allowed=False)
    elif case == "samu_opposed":
        EmergencySettings.objects.create(person=me, samu_allowed=False)
        kind, professional = "samu", regulator()
    elif case == "not_regulator":
        kind = "samu"
    elif case == "blocked":
        Block.objects.create(person=me, professional=professional)
    elif case == "inactive":
        Professional.objects.filter(pk=professional.pk).update(active=False)
        professional.refresh_from_db()
    with pytest.raises(PolicyDenied) as denied:
        open_emergency_access(professional, me, kind=kind, reason=reason)
    assert denied.value.decision.reason == reason_code
    assert str(denied.value.message)
    assert not EmergencyAccess.objects.exists()
    assert not OutboundMessage.objects.filter(recipient=doctor_mt.email).exists()
    assert not Notification.objects.filter(code="emergency_access").exists()
    (event,) = events(me)
    assert (event.allowed, event.reason, event.action, event.channel, event.professional_id) == (
        False, reason_code, "sharing.emergency", "emergency", professional.pk)


def test_a_space_that_is_not_active_cannot_be_opened(family):
    notified = family.person(status=SpaceStatus.NOTIFIED)
    with pytest.raises(PolicyDenied) as denied:
        open_emergency_access(pro("10"), notified, kind="break_glass", reason=REASON)
    assert denied.value.decision.reason == "not_active"
    assert events(notified).get().allowed is False


def test_bad_input_is_a_clear_error_that_writes_nothing(holder):
    with pytest.raises(EmergencyError) as error:
        open_emergency_access(pro("10"), holder.person, kind="whatever", reason=REASON)
    assert error.value.field == "kind"
    with pytest.raises(EmergencyError) as error:
        open_emergency_access(pro("10"), holder.person, kind="break_glass", reason="x" * 501)
    assert error.value.code == "too_long"
    with pytest.raises(TypeError):
        open_emergency_access(holder.person, holder.person, kind="break_glass", reason=REASON)
    assert not EmergencyAccess.objects.exists() and not AccessEvent.objects.exists()


def test_a_person_never_opens_in_an_emergency_through_the_policy(holder):
    from carnet.sharing.emergency import EmergencyRequest

    decision = decide(holder.person, Action.EMERGENCY_ACCESS, EmergencyRequest(holder.person, "break_glass", "x"))
    assert (decision.allowed, decision.reason) == (False, "professionals_only")


def test_reads_during_an_opening_are_emergency_events_and_stop_when_it_expires(holder):
    me, urgentiste = holder.person, pro("10")
    document = record_actions.add_document(
        None, me, content=make_pdf("cr"), type_code="11488-4", source=DocumentSource.PROFESSIONAL,
        author=Author(AuthorKind.PROFESSIONAL, "Dr Autre", "10000000000"))
    with pytest.raises(PolicyDenied):
        authorise(urgentiste, Action.READ_DOCUMENT, document)  # no authorisation, no opening yet
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        open_emergency_access(urgentiste, me, kind="break_glass", reason=REASON)
    with time_machine.travel(start + dt.timedelta(hours=3, minutes=59), tick=False):
        assert authorise(urgentiste, Action.READ_DOCUMENT, document).reason == "emergency"
        assert authorise(urgentiste, Action.READ_RECORD, me).reason == "emergency"
    with time_machine.travel(start + dt.timedelta(hours=4), tick=False):
        with pytest.raises(PolicyDenied) as denied:
            authorise(urgentiste, Action.READ_DOCUMENT, document)
    assert denied.value.decision.reason == "no_authorisation"
    rows = list(events(me, professional=urgentiste).values_list("action", "allowed", "reason", "channel"))
    assert rows == [
        ("document.read", False, "no_authorisation", "system"),
        ("sharing.emergency", True, "emergency", "emergency"),
        ("document.read", True, "emergency", "emergency"),
        ("record.read", True, "emergency", "emergency"),
        ("document.read", False, "no_authorisation", "system"),
    ]


def test_the_holder_or_a_representative_sets_the_three_settings_and_it_is_recorded(holder, represented_child):
    me = holder.person
    chosen = set_emergency_settings(me, me, samu_allowed=False, break_glass_allowed=True, masked_visible=True)
    assert (chosen.samu_allowed, chosen.break_glass_allowed, chosen.masked_visible) == (False, True, True)
    assert events(me).get().action == "settings.emergency"
    set_emergency_settings(me, me, samu_allowed=True, break_glass_allowed=False, masked_visible=False)
    assert EmergencySettings.objects.filter(person=me).count() == 1
    assert not emergency.settings_of(me).break_glass_allowed
    parent, child = represented_child
    set_emergency_settings(parent.person, child, samu_allowed=True, break_glass_allowed=True, masked_visible=True)
    assert events(child).get().actor_role == Role.REPRESENTATIVE


def test_strangers_and_professionals_cannot_change_the_settings(holder, family):
    me, stranger = holder.person, family.holder().person
    for actor in (stranger, pro("10")):
        with pytest.raises(PolicyDenied):
            set_emergency_settings(actor, me, samu_allowed=False, break_glass_allowed=False, masked_visible=True)
    assert not EmergencySettings.objects.exists()
    assert list(events(me).values_list("allowed", flat=True)) == [False, False]
