"""Holders and caregivers built as in the other tests (active spaces with a login), and invitations made
through the domain action itself."""

import pytest

from carnet.caregivers import actions
from carnet.identity.models import Person


def invite(holder: Person, caregiver: Person, **overrides):
    """The holder invites `caregiver` with the right identity traits (unless overridden) and the declaration."""
    data = {"nir": caregiver.nir, "family_name": caregiver.family_name, "given_name": caregiver.first_name,
            "birth_date": caregiver.birth_date, "sworn": True, **overrides}
    return actions.invite_caregiver(holder, holder, **data)


def accepted(holder: Person, caregiver: Person):
    delegation = invite(holder, caregiver)
    return actions.respond_to_invitation(caregiver, delegation.uuid, accept=True)


@pytest.fixture
def holder(family) -> Person:
    return family.holder(age=82).person


@pytest.fixture
def caregiver(family) -> Person:
    return family.holder(age=52).person


@pytest.fixture
def delegation(holder, caregiver):
    """An accepted delegation: `caregiver` helps `holder`."""
    return accepted(holder, caregiver)
