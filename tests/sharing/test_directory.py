"""The directory's code tables, models, demo directory and professional tokens.

Code table spot checks use literal values read from /work/shared/samples/valuesets/JDV_J01_XdsAuthorSpecialty_CISIS.xml
(ansforge/TestContenuCDA-3-0 @7cd489b3)."""

import datetime as dt
import importlib.util
import json
from pathlib import Path

import pytest
import time_machine
from django.db import IntegrityError
from django.utils import timezone

from carnet.common.secrets import keyed_hash
from carnet.sharing import professions
from carnet.sharing.demo import PROFESSIONALS, fill_demo_directory
from carnet.sharing.models import CareTeam, CareTeamMember, Establishment, Professional, ProfessionalToken
from carnet.sharing.tokens import (
    TOKEN_PURPOSE,
    issue_professional_token,
    professional_for_token,
    revoke_all_tokens,
    revoke_professional_token,
)

SAMPLES = Path("/work/shared/samples/valuesets")


def make_professional(index: int = 1, **overrides) -> Professional:
    fields = {"rpps": professions.with_luhn_key(f"1999700{index:03d}"), "family_name": "DURAND",
              "given_names": "Paul", "profession_code": "10", "specialty_code": "SM54"}
    fields.update(overrides)
    return Professional.objects.create(**fields)


# -- code tables --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "label"), [
    ("10", "Médecin"), ("21", "Pharmacien"), ("40", "Chirurgien-Dentiste"), ("50", "Sage-Femme"),
    ("60", "Infirmier"), ("70", "Masseur-Kinésithérapeute"), ("91", "Orthophoniste"), ("98", "Manipulateur ERM"),
])
def test_profession_labels_are_those_of_the_jdv(code, label):
    assert professions.profession_label(code) == label
    assert professions.is_profession(code)


@pytest.mark.parametrize(("code", "label", "profession"), [
    ("SM54", "Médecine Générale (SM)", "10"),
    ("SM26", "Qualifié en Médecine Générale (SM)", "10"),
    ("SM40", "Pédiatrie (SM)", "10"),
    ("SM95", "Santé publique option administration de la santé (SM)", "10"),
    ("SCD02", "Chirurgie orale (SCD)", "40"),
    ("SI04", "Exercice infirmier en pratique avancée santé mentale (SI)", "60"),
])
def test_specialty_labels_and_professions_are_those_of_the_jdv(code, label, profession):
    assert professions.specialty_label(code) == label
    assert professions.specialties()[code].profession == profession
    assert professions.specialty_problem(profession, code) == ""


def test_what_is_not_in_the_tables():
    assert len(professions.professions()) == 29 and len(professions.specialties()) == 103
    assert not professions.is_profession("G16_10") and not professions.is_profession("41")
    assert "C07" not in professions.specialties()  # a compétence (C), another nomenclature than TRE_R38
    assert "CAPA01" not in professions.specialties()
    assert professions.profession_label("77") == "77" and professions.specialty_label("") == ""


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared samples not mounted")
def test_the_json_tables_are_what_build_professions_derives_from_the_jdv():
    spec = importlib.util.spec_from_file_location("build_professions", professions.DATA / "build_professions.py")
    build_professions = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_professions)
    derived = build_professions.derive(SAMPLES / "JDV_J01_XdsAuthorSpecialty_CISIS.xml")
    for name, table in zip(("professions.json", "specialties.json"), derived, strict=True):
        stored = json.loads((professions.DATA / name).read_text())
        stored.pop("notes")
        assert stored == table, name
        assert stored["source"]["commit"] == "7cd489b39368809df9bcf2cfef5e5d6354438a02"


def test_rpps_numbers_carry_a_luhn_key():
    assert professions.rpps_is_valid("10107350778")  # as published by the ANS directory (IDNPS 810107350778)
    assert not professions.rpps_is_valid("10107350779")
    assert not professions.rpps_is_valid("1010735077")
    assert professions.with_luhn_key("1010735077") == "10107350778"


def test_finess_numbers():
    assert professions.finess_is_valid("750712184") and professions.finess_is_valid("2B0000012")
    assert not professions.finess_is_valid("2C0000012") and not professions.finess_is_valid("75071218")


# -- models ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rpps_and_finess_are_unique():
    make_professional()
    with pytest.raises(IntegrityError):
        make_professional()


@pytest.mark.django_db
def test_a_professional_reads_as_its_codes_say():
    doctor = make_professional()
    assert doctor.national_id == "8" + doctor.rpps
    assert (doctor.full_name, doctor.profession_label, doctor.specialty_label) == (
        "Paul DURAND", "Médecin", "Médecine Générale (SM)")


# -- demo directory ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_directory_is_complete_and_idempotent():
    assert fill_demo_directory() == len(PROFESSIONALS) == 30
    stamps = dict(Professional.objects.values_list("rpps", "updated_at"))
    counts = (Professional.objects.count(), Establishment.objects.count(), CareTeam.objects.count(),
              CareTeamMember.objects.count())

    fill_demo_directory()

    assert (Professional.objects.count(), Establishment.objects.count(), CareTeam.objects.count(),
            CareTeamMember.objects.count()) == counts
    assert dict(Professional.objects.values_list("rpps", "updated_at")) == stamps
    assert counts[:3] == (30, 2, 1)
    codes = list(Professional.objects.values_list("profession_code", "specialty_code"))
    for wanted in [("10", "SM54"), ("21", ""), ("50", ""), ("60", ""), ("40", ""), ("70", "")]:
        assert wanted in codes
    for professional in Professional.objects.all():
        assert professions.rpps_is_valid(professional.rpps)
        assert professions.is_profession(professional.profession_code)
        assert professions.specialty_problem(professional.profession_code, professional.specialty_code) == ""
    team = CareTeam.objects.get()
    assert team.establishment.name.startswith("Maison de santé")
    assert {"10", "50", "60", "70"} <= set(team.members.values_list("profession_code", flat=True))


# -- professional tokens ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_identifies_its_professional_and_only_its_keyed_hash_is_stored():
    doctor = make_professional()
    row, token = issue_professional_token(doctor)

    assert professional_for_token(token) == doctor
    stored = ProfessionalToken.objects.get()
    assert stored.token_hash == keyed_hash(token, TOKEN_PURPOSE) and token not in stored.token_hash
    assert len(token) >= 40 and stored.expires_at - stored.created_at == dt.timedelta(hours=1)
    assert professional_for_token(token + "x") is None and professional_for_token("") is None
    # The same value hashed for another purpose (an app's API token) never matches.
    assert stored.token_hash != keyed_hash(token, "api-token")


@pytest.mark.django_db
def test_a_token_expires(settings):
    settings.CARNET_PRO_TOKEN_SECONDS = 600
    doctor = make_professional()
    _row, token = issue_professional_token(doctor)
    _long, lasting = issue_professional_token(doctor, lifetime=dt.timedelta(hours=2))
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=599)):
        assert professional_for_token(token) == doctor
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=601)):
        assert professional_for_token(token) is None
        assert professional_for_token(lasting) == doctor


@pytest.mark.django_db
def test_a_revoked_token_no_longer_works():
    doctor, other = make_professional(1), make_professional(2)
    _row, token = issue_professional_token(doctor)
    _row2, second = issue_professional_token(doctor)
    _row3, others = issue_professional_token(other)

    assert revoke_professional_token(token) and not revoke_professional_token(token)
    assert professional_for_token(token) is None and professional_for_token(second) == doctor
    assert revoke_all_tokens(doctor) == 1
    assert professional_for_token(second) is None and professional_for_token(others) == other


@pytest.mark.django_db
def test_an_inactive_professional_gets_no_token_and_loses_access():
    doctor = make_professional()
    _row, token = issue_professional_token(doctor)
    Professional.objects.filter(pk=doctor.pk).update(active=False)
    doctor.refresh_from_db()
    assert professional_for_token(token) is None
    with pytest.raises(ValueError):
        issue_professional_token(doctor)
