"""Finding a patient by INS with the identity-traits check: every trait must match; unknown, mismatched, not
active and closed spaces get one and the same answer; the INS never travels in a URL."""

import datetime as dt
import html

import pytest
from django.test import Client

from carnet.identity.enums import SpaceStatus
from carnet.pro.services import PATIENTS_KEY, fold
from tests.pro.conftest import make_pro, pro_sign_in

pytestmark = pytest.mark.django_db
SEARCH = "/pro/patients/recherche/"
NOT_FOUND = "Aucun espace actif ne correspond à ces traits d'identité."


def traits(person, **changes) -> dict:
    data = {"ins": person.nir, "family_name": person.family_name, "given_name": person.first_name,
            "birth_date": person.birth_date.isoformat()}
    data.update(changes)
    return data


def search(client, data):
    return client.post(SEARCH, data)


@pytest.fixture
def signed_in(client, doctor):
    pro_sign_in(client, doctor)
    return client


def test_all_traits_matching_find_the_patient_behind_an_opaque_handle(signed_in, patient):
    response = search(signed_in, traits(patient, ins=" ".join([patient.nir[:1], patient.nir[1:]]),
                                        family_name="LEFEVRE", given_name="anne sophie"))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/pro/patients/")
    assert patient.nir not in location and str(patient.uuid) not in location
    handle = location.split("/")[3]
    assert signed_in.session[PATIENTS_KEY] == {handle: str(patient.uuid)}


def test_searching_twice_gives_the_same_handle(signed_in, patient):
    assert search(signed_in, traits(patient))["Location"] == search(signed_in, traits(patient))["Location"]


@pytest.mark.parametrize("change", [
    {"family_name": "Lefebvre"}, {"given_name": "Marie"}, {"given_name": "Anne"}, {"birth_date": "1950-01-01"},
])
def test_any_mismatched_trait_gives_the_one_answer(signed_in, patient, change):
    response = search(signed_in, traits(patient, **change))
    assert response.status_code == 200
    assert NOT_FOUND in html.unescape(response.content.decode())
    assert PATIENTS_KEY not in signed_in.session


@pytest.mark.parametrize("status", [SpaceStatus.NOTIFIED, SpaceStatus.CREATED, SpaceStatus.ARCHIVED])
def test_a_space_that_is_not_active_gives_the_same_answer_as_an_unknown_ins(signed_in, family, status):
    person = family.person(status=status)
    closed = html.unescape(search(signed_in, traits(person)).content.decode())
    person.delete()  # now unknown: an opposed person's row is gone the same way
    unknown = html.unescape(search(signed_in, traits(person)).content.decode())
    strip = lambda page: page.split('name="csrfmiddlewaretoken"')[0]  # noqa: E731
    assert NOT_FOUND in closed and strip(closed) == strip(unknown)


def test_an_invalid_ins_is_a_form_error(signed_in, patient):
    response = search(signed_in, traits(patient, ins="123"))
    assert response.status_code == 400
    assert "INS invalide" in html.unescape(response.content.decode())


def test_unmatched_searches_are_limited(signed_in, patient):
    for _ in range(10):
        assert search(signed_in, traits(patient, family_name="Autre")).status_code == 200
    assert search(signed_in, traits(patient)).status_code == 429


def test_a_handle_is_only_valid_in_the_session_that_found_the_patient(signed_in, patient):
    location = search(signed_in, traits(patient))["Location"]
    other = Client()
    pro_sign_in(other, make_pro("10"))
    assert other.get(location).status_code == 404


def test_names_are_folded_for_comparison():
    assert fold("Lefèvre") == fold("LEFEVRE") == fold("lefevre")
    assert fold("Anne-Sophie") == fold("anne sophie") == fold("ANNE  SOPHIE")
    assert fold("N'Diaye") == fold("N DIAYE")
    assert fold("Anne") != fold("Anne-Sophie")


def test_the_search_form_is_posted_never_in_a_url(signed_in, patient):
    page = signed_in.get("/pro/").content.decode()
    assert 'method="post" action="/pro/patients/recherche/"' in page
    assert signed_in.get(SEARCH, traits(patient)).status_code == 405


def test_birth_date_must_be_exact(signed_in, patient):
    response = search(signed_in, traits(patient, birth_date=(patient.birth_date + dt.timedelta(days=1)).isoformat()))
    assert NOT_FOUND in html.unescape(response.content.decode())


def test_a_professional_struck_off_since_signing_in_cannot_search(signed_in, doctor, patient):
    doctor.active = False
    doctor.save()
    response = search(signed_in, traits(patient))
    assert response.status_code == 403 and PATIENTS_KEY not in signed_in.session
