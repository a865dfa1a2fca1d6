"""The pro portal's upload carries the author's confidentiality flags: « invisible au patient » (a result held for an
announcement consultation, hidden from the holder and representatives until the author releases it or the legal
delay passes) and, for a minor only, « confidentiel » (hidden from the representatives). Masking to professionals
is the holder's choice: the form has no such field, and a forged one changes nothing."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carnet.identity.enums import RepresentationKind, RepresentationStatus, SpaceStatus
from carnet.identity.models import Representation
from carnet.notifications.models import Notification
from carnet.record.models import Document
from carnet.record.visibility import visible_documents
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import Role
from tests.portal.helpers import sign_in
from tests.pro.conftest import pro_sign_in
from tests.pro.helpers import found, text
from tests.record.conftest import make_pdf

pytestmark = pytest.mark.django_db
INVISIBLE = "Invisible au patient en attendant la consultation d'annonce"
CONFIDENTIAL = "Confidentiel : invisible aux représentants légaux du patient mineur"


def upload(client, url: str, title: str, **flags):
    """Fetch the upload page (its CSRF token), then post the form as a browser does."""
    page = client.get(f"{url}deposer/")
    assert page.status_code == 200
    data = {"file": SimpleUploadedFile("resultat.pdf", make_pdf(title), content_type="application/pdf"),
            "title": title, "type_code": "11502-2", "csrfmiddlewaretoken": str(page.context["csrf_token"])}
    data.update({name: "on" for name, on in flags.items() if on})
    return page, client.post(f"{url}deposer/", data)


def seen_by(person, role: Role, document) -> bool:
    return visible_documents(person, role).filter(pk=document.pk).exists()


@pytest.fixture
def guarded(family):
    """An adult holder (with a login) under guardianship: their guardian is a representative."""
    holder = family.holder(age=45)
    guardian = family.holder(age=50)
    Representation.objects.create(person=holder.person, representative=guardian.person,
                                  kind=RepresentationKind.GUARDIAN, status=RepresentationStatus.ACCEPTED)
    return holder, guardian


def test_the_form_explains_the_invisible_option_and_its_legal_delay(csrf_client, doctor, patient, settings):
    settings.CARNET_ANNOUNCEMENT_REMINDER_DAYS, settings.CARNET_ANNOUNCEMENT_RELEASE_DAYS = 14, 30
    pro_sign_in(csrf_client, doctor)
    page = text(csrf_client.get(f"{found(csrf_client, patient)}deposer/"))
    assert INVISIBLE in page and "Au bout de 14 jours" in page and "au bout de 30 jours" in page
    assert CONFIDENTIAL not in page  # an adult: no such option
    assert "masqu" not in page.lower()  # masking is the holder's choice


def test_an_invisible_upload_is_hidden_from_the_holder_and_representatives_until_released(csrf_client, doctor,
                                                                                          guarded):
    holder, guardian = guarded
    pro_sign_in(csrf_client, doctor)
    url = found(csrf_client, holder.person)
    _page, response = upload(csrf_client, url, "Résultat de biopsie", invisible_to_holder=True)
    assert response.status_code == 302 and response["Location"] == url
    document = Document.objects.get(person=holder.person, title="Résultat de biopsie")
    expected_until = timezone.localdate() + dt.timedelta(days=30)
    assert document.invisible_to_holder and document.invisible_to_holder_until == expected_until
    assert document.author_identifier == doctor.national_id and not document.hidden_from_representatives
    assert not seen_by(holder.person, Role.HOLDER, document)
    assert not seen_by(holder.person, Role.REPRESENTATIVE, document)
    assert not seen_by(holder.person, Role.CAREGIVER, document)
    # Not announced: "a new document is available" would show nothing, and announcing is the consultation's job.
    assert not Notification.objects.filter(person=holder.person, code="document_added").exists()
    assert "invisible jusqu'à ce que vous le rendiez visible" in text(csrf_client.get(url))
    assert "Pas encore visible par le patient" in text(csrf_client.get(url))
    # The holder's own portal does not list it.
    portal = Client(enforce_csrf_checks=True)
    sign_in(portal, holder)
    assert "Résultat de biopsie" not in text(portal.get(reverse("portal:documents")))
    # The author releases it from the document's page: both see it now, and the release is recorded.
    page = csrf_client.get(f"{url}documents/{document.uuid}/")
    released = csrf_client.post(f"{url}documents/{document.uuid}/rendre-visible/",
                                {"csrfmiddlewaretoken": str(page.context["csrf_token"])})
    assert released.status_code == 302
    assert seen_by(holder.person, Role.HOLDER, document) and seen_by(holder.person, Role.REPRESENTATIVE, document)
    assert "Résultat de biopsie" in text(portal.get(reverse("portal:documents")))
    assert AccessEvent.objects.filter(person=holder.person, action="document.release", allowed=True,
                                      professional=doctor).count() == 1
    assert Notification.objects.filter(person=holder.person, code="document_released").count() == 1


def test_an_invisible_upload_shows_itself_after_the_legal_delay(csrf_client, doctor, guarded, time_machine):
    holder, guardian = guarded
    pro_sign_in(csrf_client, doctor)
    _page, response = upload(csrf_client, found(csrf_client, holder.person), "Anatomopathologie",
                             invisible_to_holder=True)
    assert response.status_code == 302
    document = Document.objects.get(person=holder.person, title="Anatomopathologie")
    time_machine.move_to(timezone.now() + dt.timedelta(days=29))
    assert not seen_by(holder.person, Role.HOLDER, document)
    time_machine.move_to(timezone.now() + dt.timedelta(days=2))
    assert seen_by(holder.person, Role.HOLDER, document) and seen_by(holder.person, Role.REPRESENTATIVE, document)


def test_an_ordinary_upload_is_visible_at_once(csrf_client, doctor, guarded):
    holder, guardian = guarded
    pro_sign_in(csrf_client, doctor)
    _page, response = upload(csrf_client, found(csrf_client, holder.person), "Compte rendu")
    assert response.status_code == 302
    document = Document.objects.get(person=holder.person, title="Compte rendu")
    assert not document.invisible_to_holder and document.invisible_to_holder_until is None
    assert seen_by(holder.person, Role.HOLDER, document) and seen_by(holder.person, Role.REPRESENTATIVE, document)
    assert Notification.objects.filter(person=holder.person, code="document_added").count() == 1


def test_a_minors_confidential_upload_is_hidden_from_the_representatives_only(csrf_client, doctor, family):
    teenager = family.person(age=16, status=SpaceStatus.ACTIVE)
    parent = family.holder(age=45)
    Representation.objects.create(person=teenager, representative=parent.person,
                                  kind=RepresentationKind.ATTACHED_PARENT, status=RepresentationStatus.ACCEPTED)
    pro_sign_in(csrf_client, doctor)
    url = found(csrf_client, teenager)
    page, response = upload(csrf_client, url, "Contraception", hidden_from_representatives=True)
    assert CONFIDENTIAL in text(page) and "L1111-5" in text(page)
    assert response.status_code == 302
    document = Document.objects.get(person=teenager, title="Contraception")
    assert document.hidden_from_representatives and not document.invisible_to_holder
    assert seen_by(teenager, Role.HOLDER, document)
    assert not seen_by(teenager, Role.REPRESENTATIVE, document)
    assert not seen_by(teenager, Role.CAREGIVER, document)


def test_an_adults_upload_ignores_a_forged_confidential_flag(csrf_client, doctor, guarded):
    holder, guardian = guarded
    pro_sign_in(csrf_client, doctor)
    _page, response = upload(csrf_client, found(csrf_client, holder.person), "Bilan",
                             hidden_from_representatives=True, masked=True)
    assert response.status_code == 302
    document = Document.objects.get(person=holder.person, title="Bilan")
    assert not document.hidden_from_representatives and seen_by(holder.person, Role.REPRESENTATIVE, document)
    assert document.masked_to_professionals is False  # the holder's default (visible), not the author's wish
