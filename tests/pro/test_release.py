"""« Rendre visible au patient »: on the page of a result held for an announcement consultation (INVISIBLE_PATIENT),
its author (and only its author) gets the button; releasing shows the document to the holder at once, is recorded,
and tells the holder without content. An authorised non-author and an unrelated professional never see the button,
and their forged posts are refused (403) and recorded; a document no longer held has nothing to release."""

import datetime as dt

import pytest
from django.utils import timezone

from carnet.notifications.models import Notification
from carnet.record import actions as record_actions
from carnet.record.actions import Author
from carnet.record.enums import AuthorKind, DocumentSource
from carnet.record.models import Document
from carnet.record.visibility import visible_documents
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import Role
from tests.pro.conftest import authorise, make_pro, pro_sign_in
from tests.pro.helpers import add_doc, found, text
from tests.record.conftest import make_pdf

pytestmark = pytest.mark.django_db
BUTTON = "Rendre visible au patient"


@pytest.fixture
def held(patient, doctor):
    """A result the doctor filed, held from the patient until an announcement consultation."""
    return record_actions.add_document(
        None, patient, content=make_pdf("Biopsie"), title="Résultat de biopsie",
        type_code="11502-2", source=DocumentSource.PROFESSIONAL, invisible_to_holder=True,
        author=Author(AuthorKind.PROFESSIONAL, doctor.full_name, doctor.national_id))


def release_url(url, document) -> str:
    return f"{url}documents/{document.uuid}/rendre-visible/"


def holder_sees(patient, document) -> bool:
    return visible_documents(patient, Role.HOLDER).filter(pk=document.pk).exists()


def releases(patient, **filters):
    return list(AccessEvent.objects.filter(person=patient, action="document.release", **filters))


def test_the_author_releases_a_held_result(csrf_client, doctor, patient, held):
    pro_sign_in(csrf_client, doctor)
    url = found(csrf_client, patient)
    page = csrf_client.get(f"{url}documents/{held.uuid}/")
    assert page.status_code == 200
    assert BUTTON in text(page) and "le patient ne le voit pas encore" in text(page)
    until = held.invisible_to_holder_until
    assert f"Il le verra automatiquement le {until.day} " in text(page)
    assert "Pas encore visible par le patient" in text(csrf_client.get(url))  # flagged in the list too
    assert not holder_sees(patient, held)
    response = csrf_client.post(release_url(url, held), {"csrfmiddlewaretoken": str(page.context["csrf_token"])})
    assert response.status_code == 302 and response["Location"] == f"{url}documents/{held.uuid}/"
    held.refresh_from_db()
    assert not held.invisible_to_holder and holder_sees(patient, held)
    [event] = releases(patient)
    assert (event.allowed, event.professional, event.subject, event.channel) == (
        True, doctor, f"document:{held.uuid}", "portal")
    notice = Notification.objects.get(person=patient, code="document_released")
    assert "biopsie" not in notice.title.lower()
    after = text(csrf_client.get(f"{url}documents/{held.uuid}/"))
    assert "Le document est maintenant visible par le patient." in after and BUTTON not in after


def test_an_authorised_non_author_sees_the_result_but_cannot_release_it(client, patient, held):
    colleague = make_pro("10", family_name="COLLEGUE")
    authorise(patient, colleague)
    pro_sign_in(client, colleague)
    url = found(client, patient)
    page = client.get(f"{url}documents/{held.uuid}/")
    assert page.status_code == 200 and "le patient ne le voit pas encore" in text(page)
    assert BUTTON not in text(page) and "rendre-visible" not in text(page)
    response = client.post(release_url(url, held))
    assert response.status_code == 403
    assert "Seul l'auteur de ce document peut le rendre visible au titulaire." in text(response)
    held.refresh_from_db()
    assert held.invisible_to_holder and not holder_sees(patient, held)
    [event] = releases(patient)
    assert (event.allowed, event.reason, event.professional) == (False, "not_author", colleague)
    assert not Notification.objects.filter(person=patient, code="document_released").exists()


def test_an_unrelated_professional_cannot_release_it(client, patient, held):
    stranger = make_pro("10", family_name="INCONNU")
    pro_sign_in(client, stranger)
    url = found(client, patient)
    assert client.get(f"{url}documents/{held.uuid}/").status_code == 403
    assert client.post(release_url(url, held)).status_code == 403
    held.refresh_from_db()
    assert held.invisible_to_holder
    assert [(e.allowed, e.reason) for e in releases(patient)] == [(False, "not_author")]


def test_the_author_of_an_ordinary_document_gets_no_button(client, doctor, patient):
    mine = add_doc(patient, title="Courrier", author_rpps=doctor.national_id)
    pro_sign_in(client, doctor)
    url = found(client, patient)
    page = text(client.get(f"{url}documents/{mine.uuid}/"))
    assert BUTTON not in page and "le patient ne le voit pas encore" not in page
    response = client.post(release_url(url, mine))
    assert response.status_code == 302
    assert "Ce document est déjà visible par le patient." in text(client.get(response["Location"]))
    assert not releases(patient)


def test_a_result_past_its_legal_delay_has_nothing_to_release(client, doctor, patient, held):
    Document.objects.filter(pk=held.pk).update(invisible_to_holder_until=timezone.localdate() - dt.timedelta(days=1))
    pro_sign_in(client, doctor)
    url = found(client, patient)
    assert BUTTON not in text(client.get(f"{url}documents/{held.uuid}/"))
    client.post(release_url(url, held))
    assert not releases(patient)


def test_another_patients_document_or_an_unknown_one_is_not_found(client, doctor, patient, held, family):
    from carnet.identity.enums import SpaceStatus

    other = family.person(status=SpaceStatus.ACTIVE)
    pro_sign_in(client, doctor)
    other_url = found(client, other)
    assert client.post(release_url(other_url, held)).status_code == 404
    assert client.post(f"{other_url}documents/00000000-0000-0000-0000-000000000000/rendre-visible/").status_code == 404
    held.refresh_from_db()
    assert held.invisible_to_holder


def test_releasing_needs_csrf_and_post(csrf_client, doctor, patient, held):
    pro_sign_in(csrf_client, doctor)
    url = found(csrf_client, patient)
    assert csrf_client.post(release_url(url, held)).status_code == 403
    assert csrf_client.get(release_url(url, held)).status_code == 405
    held.refresh_from_db()
    assert held.invisible_to_holder and not releases(patient)
