import itertools

import pytest

from carnet.identity.enums import SpaceStatus
from carnet.pro import oidc
from carnet.pro.services import METHOD_KEY, PROFESSIONAL_KEY
from carnet.sharing.models import Authorisation, Professional
from carnet.sharing.professions import with_luhn_key
from tests.pro.provider import CLIENT_ID, CLIENT_SECRET, Provider

_index = itertools.count(1)


def make_pro(profession="10", *, family_name="MARTIN", given_names="Claire", **fields) -> Professional:
    return Professional.objects.create(rpps=with_luhn_key(f"1888800{next(_index):03d}"), family_name=family_name,
                                       given_names=given_names, profession_code=profession, **fields)


def pro_sign_in(client, professional: Professional) -> None:
    """A professional's session, as the pro portal opens it (its own keys, no holder's login)."""
    session = client.session
    session[PROFESSIONAL_KEY] = str(professional.uuid)
    session[METHOD_KEY] = "demo"
    session.save()


def authorise(person, professional, **fields) -> Authorisation:
    return Authorisation.objects.create(person=person, professional=professional, granted_by=person, **fields)


@pytest.fixture
def doctor(db):
    return make_pro("10")


@pytest.fixture
def patient(family):
    """An active space with accents and a compound given name in the registry."""
    return family.person(status=SpaceStatus.ACTIVE, family_name="Lefèvre", given_names="Anne-Sophie Marie")


@pytest.fixture
def provider(settings):
    oidc._cache.clear()
    with Provider() as running:
        settings.CARNET_PRO_OIDC_ISSUER = running.base
        settings.CARNET_PRO_OIDC_DISCOVERY_URL = ""
        settings.CARNET_PRO_OIDC_CLIENT_ID = CLIENT_ID
        settings.CARNET_PRO_OIDC_CLIENT_SECRET = CLIENT_SECRET
        yield running
    oidc._cache.clear()
