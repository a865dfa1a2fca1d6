"""« Accès en urgence » in the pro portal (bris de glace, SAMU régulateur): offered next to the consent declaration
to a professional the holder has not authorised; the SAMU choice only to a régulateur; an opening redirects to the
patient's page, which shows "Accès en urgence jusqu'à HH:MM" for the whole access and no longer once it expired;
every refusal is a 403 with the policy's reason, recorded and writing nothing else; the reason never appears in a
URL, a log, an event or a notice."""

import datetime as dt
import logging
import re
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from carnet.notifications.models import Notification, OutboundMessage
from carnet.sharing.models import AccessEvent, ActivityPlace, Block, EmergencyAccess, EmergencySettings, Establishment
from tests.portal.helpers import sign_in
from tests.pro.conftest import authorise, make_pro, pro_sign_in
from tests.pro.helpers import add_doc, found, text

pytestmark = pytest.mark.django_db
REASON = "Patient inconscient après une chute, suspicion d'hémorragie"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def long_sessions(settings):
    """Hours pass in these tests: the professional's session must outlive the idle timeout."""
    settings.SESSION_COOKIE_AGE = 7 * 24 * 3600  # at() is up to two days ahead: the session must outlive the jump


def regulator():
    professional = make_pro("10", family_name="REGULATEUR")
    centre = Establishment.objects.create(finess="750000001", name="SAMU de Paris", samu_regulation=True)
    ActivityPlace.objects.create(professional=professional, establishment=centre)
    return professional


def at(hour: int, minute: int = 0, *, days: int = 1) -> dt.datetime:
    """A fixed moment (Paris time) in the coming days: the alert's HH:MM does not depend on when tests run."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


def open_access(client, url, *, reason=REASON, kind="break_glass"):
    return client.post(f"{url}urgence/", {"kind": kind, "reason": reason})


def events(person, **filters):
    return list(AccessEvent.objects.filter(person=person, **filters).order_by("sequence"))


def test_an_unauthorised_doctor_is_offered_emergency_access_next_to_consent(client, doctor, patient):
    pro_sign_in(client, doctor)
    response = client.get(found(client, patient))
    page = text(response)
    assert response.status_code == 403
    assert "Le patient m'a donné son accord" in page and "Accès en urgence" in page
    assert '<label for="urgence-reason" class="fr-label">' in page  # a labelled textarea, its limit enforced
    assert re.search(r'<textarea name="reason"[^>]*maxlength="500"[^>]*required[^>]*id="urgence-reason"', page)
    assert 'type="hidden" name="kind" value="break_glass"' in page  # bris de glace only: nothing to choose
    assert "Médecin régulateur du SAMU" not in page


def test_a_samu_regulator_chooses_between_samu_and_break_glass(client, patient):
    pro_sign_in(client, regulator())
    page = text(client.get(found(client, patient)))
    assert '<fieldset class="fr-fieldset' in page and "Type d'accès" in page
    assert 'type="radio" name="kind" value="samu"' in page and 'type="radio" name="kind" value="break_glass"' in page


def test_authorised_and_blocked_professionals_are_not_offered_it(client, doctor, patient):
    authorise(patient, doctor)
    pro_sign_in(client, doctor)
    url = found(client, patient)
    assert "urgence/" not in text(client.get(url))
    blocked = make_pro("10", family_name="BLOQUE")
    Block.objects.create(person=patient, professional=blocked, blocked_by=patient)
    pro_sign_in(client, blocked)
    page = text(client.get(found(client, patient)))
    assert "vous a bloqué" in page and "urgence/" not in page


def test_an_opening_shows_the_emergency_mode_for_the_whole_access_and_not_after(csrf_client, doctor, patient,
                                                                                 settings):
    document = add_doc(patient, title="Compte rendu d'hospitalisation")
    pro_sign_in(csrf_client, doctor)
    url = found(csrf_client, patient)
    start = at(10, 15)
    with time_machine.travel(start, tick=False):
        token = csrf_client.get(url).context["csrf_token"]
        response = csrf_client.post(f"{url}urgence/", {"kind": "break_glass", "reason": REASON,
                                                       "csrfmiddlewaretoken": str(token)})
        assert response.status_code == 302 and response["Location"] == url
        page = csrf_client.get(url)
        assert page.status_code == 200
        assert "Accès en urgence jusqu'à 14:15" in text(page) and "bris de glace" in text(page)
        assert "Compte rendu d'hospitalisation" in text(page)
        assert "Le patient m'a donné son accord" not in text(page)  # readable now: nothing to offer
        assert "L'accès en urgence est ouvert." in text(page)
    with time_machine.travel(start + dt.timedelta(hours=3, minutes=59), tick=False):
        doc_page = csrf_client.get(f"{url}documents/{document.uuid}/")
        assert doc_page.status_code == 200 and "Accès en urgence jusqu'à 14:15" in text(doc_page)
        assert "Accès en urgence jusqu'à 14:15" in text(csrf_client.get(f"{url}deposer/"))
    with time_machine.travel(start + dt.timedelta(hours=4), tick=False):
        after = csrf_client.get(url)
        assert after.status_code == 403
        assert "Accès en urgence jusqu'à" not in text(after) and "Compte rendu d'hospitalisation" not in text(after)
        assert "Ouvrir l'accès en urgence" in text(after)  # offered again
        assert csrf_client.get(f"{url}documents/{document.uuid}/").status_code == 403
    [opening] = events(patient, action="sharing.emergency")
    assert (opening.allowed, opening.reason, opening.channel, opening.professional) == (
        True, "emergency", "emergency", doctor)
    reads = [(e.action, e.allowed, e.reason, e.channel) for e in events(patient, professional=doctor)
             if e.action in ("record.read", "document.read")]
    assert reads == [
        ("record.read", False, "no_authorisation", "portal"),
        ("record.read", True, "emergency", "emergency"),
        ("document.read", True, "emergency", "emergency"),
        ("record.read", False, "no_authorisation", "portal"),
        ("document.read", False, "no_authorisation", "portal"),
    ]
    assert Notification.objects.filter(person=patient, code="emergency_access").count() == 1


def test_an_opening_past_midnight_says_which_day_it_ends(client, doctor, patient):
    pro_sign_in(client, doctor)
    url = found(client, patient)
    with time_machine.travel(at(22, 30), tick=False):
        assert open_access(client, url).status_code == 302
        page = text(client.get(url))
    end = at(2, 30, days=2)
    assert f"Accès en urgence jusqu'à 02:30 le {end.day} " in page


def test_a_samu_opening_by_a_regulator_is_shown_as_such(client, patient):
    samu = regulator()
    pro_sign_in(client, samu)
    url = found(client, patient)
    assert open_access(client, url, kind="samu").status_code == 302
    assert EmergencyAccess.objects.get(person=patient).kind == "samu"
    assert "en tant que médecin régulateur du SAMU" in text(client.get(url))
    assert events(patient, action="sharing.emergency")[0].reason == "samu"


def test_the_reason_is_never_in_a_url_a_log_an_event_or_a_notice(client, doctor, patient, caplog):
    pro_sign_in(client, doctor)
    url = found(client, patient)
    caplog.set_level(logging.DEBUG)
    response = open_access(client, url)
    assert response.status_code == 302 and "Patient" not in response["Location"]
    follow = client.get(url)
    assert REASON not in caplog.text and "inconscient" not in caplog.text
    assert REASON not in text(follow)
    for event in AccessEvent.objects.filter(person=patient):
        assert "inconscient" not in f"{event.action} {event.reason} {event.subject}"
    for notice in Notification.objects.filter(person=patient):
        assert "inconscient" not in notice.title
    for message in OutboundMessage.objects.all():
        assert "inconscient" not in message.body + message.subject


def test_the_holder_sees_the_emergency_access_in_the_history(client, family, doctor):
    holder = family.holder()
    pro_sign_in(client, doctor)
    assert open_access(client, found(client, holder.person)).status_code == 302
    client.logout()
    sign_in(client, holder)
    page = text(client.get("/historique/"))
    assert "Accès au dossier en situation d'urgence" in page and doctor.full_name in page
    assert "inconscient" not in page


@pytest.mark.parametrize("case, code, message", [
    ("opposed", "emergency_refused", "Le titulaire s'est opposé à l'accès à son espace en situation d'urgence."),
    ("samu_opposed", "samu_refused", "Le titulaire s'est opposé à l'accès à son espace par le médecin régulateur"),
    ("forged_samu", "not_samu_regulator", "L'accès SAMU est réservé aux médecins régulateurs d'un centre 15."),
    ("blocked", "blocked", "Le titulaire de cet espace vous a bloqué."),
    ("inactive", "inactive_professional", "Votre inscription au répertoire des professionnels n'est pas active."),
])
def test_refusals_are_403_with_the_reason_recorded_and_write_nothing_else(client, doctor, patient, case, code,
                                                                           message):
    professional, kind = doctor, "break_glass"
    if case == "opposed":
        EmergencySettings.objects.create(person=patient, break_glass_allowed=False)
    elif case == "samu_opposed":
        EmergencySettings.objects.create(person=patient, samu_allowed=False)
        professional, kind = regulator(), "samu"
    elif case == "forged_samu":
        kind = "samu"  # the form does not offer it to a non-régulateur: a forged post
    elif case == "blocked":
        Block.objects.create(person=patient, professional=doctor, blocked_by=patient)
    elif case == "inactive":
        doctor.active = False
        doctor.save()
    pro_sign_in(client, professional)
    response = open_access(client, found(client, patient), kind=kind)
    page = text(response)
    assert response.status_code == 403
    assert message in page and "L'accès en urgence est refusé" in page
    assert REASON not in page  # the refusal page does not echo the reason either
    assert not EmergencyAccess.objects.exists()
    assert not Notification.objects.filter(person=patient).exists()
    [event] = events(patient)
    assert (event.action, event.allowed, event.reason, event.channel, event.professional) == (
        "sharing.emergency", False, code, "emergency", professional)


@pytest.mark.parametrize("data, error", [
    ({"kind": "break_glass", "reason": "   "}, "Ce champ est obligatoire."),
    ({"kind": "break_glass", "reason": "x" * 501}, "au plus 500 caractères"),
    ({"kind": "whatever", "reason": REASON}, "Sélectionnez un choix valide."),
])
def test_bad_input_is_a_400_that_writes_nothing(client, doctor, patient, data, error):
    pro_sign_in(client, doctor)
    response = client.post(f"{found(client, patient)}urgence/", data)
    assert response.status_code == 400 and error in text(response)
    assert not EmergencyAccess.objects.exists() and not AccessEvent.objects.exists()


def test_no_opening_without_csrf_nor_by_get(csrf_client, doctor, patient):
    pro_sign_in(csrf_client, doctor)
    url = found(csrf_client, patient)
    assert csrf_client.post(f"{url}urgence/", {"kind": "break_glass", "reason": REASON}).status_code == 403
    assert csrf_client.get(f"{url}urgence/").status_code == 405
    assert not EmergencyAccess.objects.exists()


def test_a_signed_out_visitor_or_an_unknown_handle_opens_nothing(client, doctor, patient):
    assert client.post("/pro/patients/nope/urgence/", {"kind": "break_glass", "reason": REASON}).status_code == 302
    pro_sign_in(client, doctor)
    assert client.post("/pro/patients/nope/urgence/", {"kind": "break_glass", "reason": REASON}).status_code == 404
    assert not EmergencyAccess.objects.exists()
