"""`carnet demo_data` loads people, accounts, documents and profiles, and is safe to run twice."""

import io

import pytest
from django.core.management import call_command

from carnet.identity.models import Account
from carnet.record.models import Document
from carnet.vault import services as vault

pytestmark = pytest.mark.django_db


def test_demo_data_twice_gives_the_same_records(settings):
    settings.CARNET_DEMO = True
    out = io.StringIO()
    call_command("demo_data", households=30, stdout=out)
    holders = Account.objects.filter(username__startswith="demo.titulaire")
    assert holders.count() == 8
    documents = Document.objects.count()
    assert documents >= 8 * 6
    sample = Document.objects.filter(person=holders.first().person).first()
    assert vault.read_bytes(sample.blob).startswith(b"%PDF")
    call_command("demo_data", households=30, stdout=io.StringIO())
    assert Document.objects.count() == documents and holders.count() == 8
