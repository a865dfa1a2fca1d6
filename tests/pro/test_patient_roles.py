"""The pro portal's patient page tells a professional on what ground they read: until when the holder authorised
them, and the roles the holder gave them (médecin traitant, administrateur de santé...), which change what they
see: authorisations and roles in force only, nothing for anyone else."""

import datetime as dt

import pytest
from django.utils import timezone

from carnet.sharing.models import CareRole
from tests.pro.conftest import authorise, pro_sign_in
from tests.pro.helpers import found, text

pytestmark = pytest.mark.django_db
ROLE_LINE = "Votre rôle auprès de ce patient :"
AUTHORISED = "Le patient vous a autorisé à consulter son espace"


def page(client, professional, patient) -> str:
    pro_sign_in(client, professional)
    response = client.get(found(client, patient))
    assert response.status_code == 200
    return text(response)


def test_the_roles_in_force_are_shown(client, doctor, patient):
    authorise(patient, doctor)
    CareRole.objects.create(person=patient, professional=doctor, kind="medecin_traitant", assigned_by=patient)
    CareRole.objects.create(person=patient, professional=doctor, kind="administrateur_sante", assigned_by=patient)
    shown = page(client, doctor, patient)
    assert ROLE_LINE in shown and "Médecin traitant" in shown and "Administrateur de santé" in shown


def test_an_ended_role_and_no_role_show_nothing(client, doctor, patient):
    authorise(patient, doctor)
    assert ROLE_LINE not in page(client, doctor, patient)
    CareRole.objects.create(person=patient, professional=doctor, kind="medecin_traitant", assigned_by=patient,
                            ended_at=timezone.now())
    shown = page(client, doctor, patient)
    assert ROLE_LINE not in shown and "Médecin traitant" not in shown


def test_a_permanent_authorisation_says_so(client, doctor, patient):
    authorise(patient, doctor)
    assert f"{AUTHORISED}, sans limite de durée." in page(client, doctor, patient)


def test_a_temporary_authorisation_shows_its_end_the_latest_in_force_winning(client, doctor, patient):
    end = timezone.localtime(timezone.now() + dt.timedelta(days=30)).replace(hour=18, minute=30, second=0,
                                                                              microsecond=0)
    authorise(patient, doctor, expires_at=end - dt.timedelta(days=10))
    authorise(patient, doctor, expires_at=end)
    authorise(patient, doctor, expires_at=end + dt.timedelta(days=90), revoked_at=timezone.now())  # revoked
    shown = page(client, doctor, patient)
    assert f"{AUTHORISED} jusqu'au {end.day} " in shown and f"{end.year} à 18:30." in shown
    assert "sans limite de durée" not in shown


def test_an_unauthorised_professional_is_told_nothing_of_the_kind(client, doctor, patient):
    authorise(patient, doctor, expires_at=timezone.now() - dt.timedelta(days=1))  # expired
    pro_sign_in(client, doctor)
    response = client.get(found(client, patient))
    assert response.status_code == 403 and AUTHORISED not in text(response)
