import pytest


@pytest.fixture
def holder(family):
    """An adult holder's active space (a Person)."""
    return family.holder(age=40).person
