"""A holder with a médecin traitant (given through the real sharing action), a caregiver with an accepted
delegation, and helpers to open conversations through the messaging actions themselves."""

import pytest

from carnet.messaging import actions
from carnet.sharing import actions as sharing_actions
from tests.caregivers.conftest import accepted
from tests.pro.conftest import make_pro

SUBJECT = "Résultats de glycémie"
BODY = "Ma mère a eu un malaise hypoglycémique hier soir, faut-il adapter l'insuline ?"


@pytest.fixture
def holder(family):
    return family.holder(age=82).person


@pytest.fixture
def caregiver(family):
    return family.holder(age=52).person


@pytest.fixture
def delegation(holder, caregiver):
    return accepted(holder, caregiver)


@pytest.fixture
def doctor(db):
    return make_pro("10", family_name="DURAND", given_names="Paul", email="dr.durand@example.org")


@pytest.fixture
def treating(holder, doctor):
    """The holder's médecin traitant (a role on the holder's list)."""
    return sharing_actions.assign_role(holder, holder, doctor, "medecin_traitant")


@pytest.fixture
def stranger_pro(db):
    return make_pro("10", family_name="ROBERT", given_names="Lucie", email="dr.robert@example.org")


def from_doctor(doctor, person, *, subject="Votre prochain rendez-vous", body="Pensez à faire la prise de sang."):
    return actions.start_conversation(doctor, person, doctor, subject=subject, body=body)
