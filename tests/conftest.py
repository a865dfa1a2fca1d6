"""Shared fixtures: people in every state of the lifecycle, built through the real domain actions
where it matters (codes are issued, hashed and sent as in production)."""

import datetime as dt
import re

import pytest
from django.test import Client

from carnet.common.dates import today
from carnet.identity.actions.codes import issue_provisional_code
from carnet.identity.enums import Channel, SpaceStatus
from carnet.identity.models import Account, Person
from carnet.identity.synthetic import People
from carnet.notifications.models import OutboundMessage

PASSWORD = "Sécurité-2026!"


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.CARNET_LETTERS_DIR = tmp_path / "letters"
    settings.CARNET_PUBLIC_URL = "https://carnet.test"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {**settings.STORAGES, "vault": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "vault"), "base_url": None},
    }}


@pytest.fixture
def people():
    return People(seed=7)


class Family:
    """Builds Person rows directly (registry import has its own tests) and issues real codes."""

    def __init__(self, people: People):
        self.people = people

    def person(self, *, age: int = 40, status=SpaceStatus.NOTIFIED, parent: Person | None = None, email=True,
               sex=None, **overrides) -> Person:
        birth = overrides.pop("birth_date", None) or self.people.birth(age, age + 1, today())
        row = self.people.row(birth=birth, sex=sex, email=email, parent=None)
        row.pop("parent_nir")
        row["birth_date"] = birth
        fields = dict(row, status=status, parent=parent, opposition_deadline=today() + dt.timedelta(days=42),
                      came_of_age_on=None if (parent or age < 18) else today())
        fields.update(overrides)
        return Person.objects.create(**fields)

    def code_for(self, person: Person) -> str:
        return issue_provisional_code(person)

    def holder(self, *, age: int = 40, channel=Channel.EMAIL, **overrides) -> Account:
        """An activated person with a login, password PASSWORD, receiving one-time codes by email."""
        person = self.person(age=age, status=SpaceStatus.ACTIVE, **overrides)
        account = Account(person=person, username=f"titulaire{person.pk:04d}", email=person.email or
                          f"p{person.pk}@example.org", phone="+33612345678", otp_channel=channel)
        account.set_password(PASSWORD)
        account.save()
        return account


@pytest.fixture
def family(people):
    return Family(people)


def last_message_to(recipient: str) -> OutboundMessage:
    return OutboundMessage.objects.filter(recipient=recipient).order_by("-id").first()


def code_in(text: str) -> str:
    """The provisional code (XXXX-XXXX-XXXX) or the 6-digit one-time code in a message body."""
    match = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})\b", text) or re.search(r"\b(\d{6})\b", text)
    assert match, "no code in the message"
    return match.group(1)


@pytest.fixture
def csrf_client():
    """A client that enforces CSRF, as browsers face it (fetch the form, post with its token)."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def represented_child(family):
    """A parent (Account) and their 8-year-old child's active space, the parent an accepted representative."""
    from carnet.identity.enums import RepresentationKind, RepresentationStatus
    from carnet.identity.models import Representation

    parent = family.holder()
    child = family.person(age=8, status=SpaceStatus.ACTIVE, parent=parent.person,
                          family_name=parent.person.family_name)
    Representation.objects.create(person=child, representative=parent.person, status=RepresentationStatus.ACCEPTED,
                                  kind=RepresentationKind.ATTACHED_PARENT)
    return parent, child
