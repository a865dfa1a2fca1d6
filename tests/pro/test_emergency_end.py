"""« Mettre fin à l'accès d'urgence »: a professional ends their own emergency opening before its term from any page
of the patient that shows the emergency alert. The access stops at once, the end is an access event on the
emergency channel that the holder reads in « Historique des accès », and nobody ends someone else's opening."""

import html

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carnet.sharing.models import AccessEvent, Block, EmergencyAccess
from carnet.sharing.policy import emergency_in_force
from tests.portal.helpers import sign_in
from tests.pro.conftest import make_pro, pro_sign_in
from tests.pro.helpers import add_doc, found, text

pytestmark = pytest.mark.django_db
BUTTON = "Mettre fin à l'accès d'urgence"
REASON = "Patient inconscient, accident de la route"


@pytest.fixture
def holder(family):
    """A holder with a login: they read their history in the portal."""
    return family.holder(age=60)


def token(client, url) -> str:
    return str(client.get(url).context["csrf_token"])


def open_emergency(client, url) -> None:
    response = client.post(f"{url}urgence/", {"kind": "break_glass", "reason": REASON,
                                              "csrfmiddlewaretoken": token(client, url)})
    assert response.status_code == 302


def end(client, url, *, page=None):
    return client.post(f"{url}urgence/fin/", {"csrfmiddlewaretoken": token(client, page or url)})


def ends(person):
    return list(AccessEvent.objects.filter(person=person, action="sharing.emergency_end", allowed=True)
                .order_by("sequence"))


def refused_ends(person):
    return list(AccessEvent.objects.filter(person=person, action="sharing.emergency_end", allowed=False))


def test_the_professional_ends_their_emergency_access_early(csrf_client, doctor, holder):
    patient = holder.person
    document = add_doc(patient, title="Compte rendu d'hospitalisation")
    pro_sign_in(csrf_client, doctor)
    url = found(csrf_client, patient)
    open_emergency(csrf_client, url)
    document_page = f"{url}documents/{document.uuid}/"
    assert BUTTON in text(csrf_client.get(document_page))  # on every page carrying the alert
    response = end(csrf_client, url, page=document_page)
    assert response.status_code == 302 and response["Location"] == url
    opening = EmergencyAccess.objects.get(person=patient, professional=doctor)
    assert opening.expires_at <= timezone.now() and not opening.in_force()
    assert emergency_in_force(patient, doctor) is None
    after = csrf_client.get(url)
    assert after.status_code == 403 and "L'accès en urgence est terminé." in text(after)
    assert BUTTON not in text(after) and "Compte rendu d'hospitalisation" not in text(after)
    assert csrf_client.get(document_page).status_code == 403
    [event] = ends(patient)
    assert (event.allowed, event.professional, event.reason, event.channel, event.subject) == (
        True, doctor, "emergency", "emergency", f"emergency:{opening.uuid}")
    assert REASON not in str(vars(event))  # the stated reason stays sealed
    # The holder reads it in their history, in plain French, with the professional's name.
    portal = Client(enforce_csrf_checks=True)
    sign_in(portal, holder)
    history = html.unescape(portal.get(reverse("portal:history")).content.decode())
    assert "Fin anticipée de l'accès en situation d'urgence par le professionnel" in history
    assert doctor.full_name in history


def test_ending_without_an_access_in_force_changes_nothing(csrf_client, doctor, holder):
    pro_sign_in(csrf_client, doctor)
    url = found(csrf_client, holder.person)
    response = end(csrf_client, url)
    assert response.status_code == 302
    assert "Vous n'avez pas d'accès en urgence en cours à ce dossier." in text(csrf_client.get(url))
    assert not ends(holder.person)
    [refusal] = refused_ends(holder.person)  # a denial is an access event the holder sees
    assert (refusal.professional, refusal.reason) == (doctor, "no_emergency_access")


def test_another_professional_cannot_end_someone_elses_emergency_access(csrf_client, doctor, holder):
    patient = holder.person
    pro_sign_in(csrf_client, doctor)
    open_emergency(csrf_client, found(csrf_client, patient))
    colleague = make_pro("10", family_name="COLLEGUE")
    other = Client(enforce_csrf_checks=True)
    pro_sign_in(other, colleague)
    other_url = found(other, patient)
    assert end(other, other_url).status_code == 302
    assert emergency_in_force(patient, doctor) is not None  # still open for the one who opened it
    assert not ends(patient)
    assert [e.professional for e in refused_ends(patient)] == [colleague]


def test_a_professional_blocked_during_the_access_can_still_end_it(csrf_client, doctor, holder):
    patient = holder.person
    pro_sign_in(csrf_client, doctor)
    url = found(csrf_client, patient)
    open_emergency(csrf_client, url)
    page_token = token(csrf_client, url)
    Block.objects.create(person=patient, professional=doctor, blocked_by=patient)
    response = csrf_client.post(f"{url}urgence/fin/", {"csrfmiddlewaretoken": page_token})
    assert response.status_code == 302
    assert emergency_in_force(patient, doctor) is None and len(ends(patient)) == 1


def test_ending_needs_a_post_with_the_csrf_token(csrf_client, doctor, holder):
    patient = holder.person
    pro_sign_in(csrf_client, doctor)
    url = found(csrf_client, patient)
    open_emergency(csrf_client, url)
    assert csrf_client.get(f"{url}urgence/fin/").status_code == 405
    assert csrf_client.post(f"{url}urgence/fin/").status_code == 403
    assert emergency_in_force(patient, doctor) is not None and not ends(patient)
