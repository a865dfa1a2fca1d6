"""`carnet import_directory`: validation (every kind of bad row), idempotent upsert by RPPS, activity places,
repeated rows. RPPS numbers are fictitious ("1999800..." + Luhn key), built by `rpps()`."""

import csv

import pytest
from django.core.management import CommandError, call_command

from carnet.sharing.directory import COLUMNS, DirectoryFileError, import_directory
from carnet.sharing.models import ActivityPlace, Establishment, Professional
from carnet.sharing.professions import with_luhn_key

pytestmark = pytest.mark.django_db


def rpps(index: int) -> str:
    return with_luhn_key(f"1999800{index:03d}")


def row(index: int, **overrides) -> dict:
    values = {"rpps": rpps(index), "family_name": f"NOM{index}", "given_names": "Jeanne Marie",
              "profession_code": "10", "specialty_code": "SM54", "finess": "750000019",
              "email": f"pro{index}@example.org"}
    values.update(overrides)
    return values


def write(path, rows, header=COLUMNS):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(tmp_path, rows):
    errors: list[tuple[int, str]] = []
    report = import_directory(write(tmp_path / "annuaire.csv", rows), on_error=lambda n, r: errors.append((n, r)))
    return report, errors


def test_a_valid_file_creates_professionals_establishments_and_places(tmp_path):
    rows = [row(1), row(2, profession_code="60", specialty_code="", finess=""),
            row(3, profession_code="21", specialty_code="", finess="2A0000015", email="")]

    report, errors = run(tmp_path, rows)

    assert errors == []
    assert (report.created, report.updated, report.unchanged, report.rejected) == (3, 0, 0, 0)
    assert (report.establishments, report.places_added) == (2, 2)
    doctor = Professional.objects.get(rpps=rpps(1))
    assert doctor.national_id == "8" + rpps(1)
    assert (doctor.family_name, doctor.given_names, doctor.email) == ("NOM1", "Jeanne Marie", "pro1@example.org")
    assert (doctor.profession_label, doctor.specialty_label) == ("Médecin", "Médecine Générale (SM)")
    assert [e.finess for e in doctor.establishments.all()] == ["750000019"]
    assert Professional.objects.get(rpps=rpps(2)).establishments.count() == 0
    assert Professional.objects.get(rpps=rpps(3)).establishments.get().finess == "2A0000015"


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"rpps": "1234567890"}, "numéro RPPS invalide (11 chiffres attendus)"),
    ({"rpps": "1999800001A"}, "numéro RPPS invalide (11 chiffres attendus)"),
    ({"rpps": "19998000010" if with_luhn_key("1999800001") != "19998000010" else "19998000011"},
     "clé de contrôle (Luhn) fausse"),
    ({"family_name": ""}, "nom ou prénoms manquants"),
    ({"given_names": "  "}, "nom ou prénoms manquants"),
    ({"family_name": "X" * 101}, "nom ou prénoms trop longs"),
    ({"profession_code": "99"}, "code de profession inconnu (TRE_G15)"),
    ({"profession_code": ""}, "code de profession inconnu (TRE_G15)"),
    ({"specialty_code": "SM99"}, "code de spécialité inconnu (TRE_R38)"),
    ({"specialty_code": "C07"}, "code de spécialité inconnu (TRE_R38)"),  # a compétence, not TRE_R38
    ({"profession_code": "60"}, "relève de la profession 10, pas de 60"),  # SM54 for a nurse
    ({"finess": "75000001"}, "numéro FINESS invalide"),
    ({"finess": "7500000AB"}, "numéro FINESS invalide"),
    ({"email": "pas-une-adresse"}, "adresse électronique invalide"),
])
def test_each_bad_row_is_reported_with_its_line_and_reason_and_the_good_rows_load(tmp_path, overrides, reason):
    report, errors = run(tmp_path, [row(1), row(2, **overrides), row(3)])

    assert report.rejected == 1 and report.created == 2
    assert len(errors) == 1
    line, message = errors[0]
    assert line == 3 and reason in message
    assert not Professional.objects.filter(rpps=row(2, **overrides)["rpps"]).exists()


def test_a_short_line_is_a_bad_row_not_a_crash(tmp_path):
    path = tmp_path / "annuaire.csv"
    path.write_text(",".join(COLUMNS) + "\n" + rpps(1) + ",DUPONT\n", encoding="utf-8")
    report = import_directory(path)
    assert report.rejected == 1 and report.errors == [(2, "nom ou prénoms manquants")]


def test_the_same_file_twice_changes_nothing(tmp_path):
    rows = [row(i, finess=f"75000{i:03d}9") for i in range(1, 6)] + [row(1, finess="")]
    run(tmp_path, rows)
    stamps = dict(Professional.objects.values_list("rpps", "updated_at"))
    places = set(ActivityPlace.objects.values_list("id", flat=True))

    again, errors = run(tmp_path, rows)

    assert errors == []
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 5, 0)
    assert (again.establishments, again.places_added, again.places_removed) == (0, 0, 0)
    assert dict(Professional.objects.values_list("rpps", "updated_at")) == stamps
    assert set(ActivityPlace.objects.values_list("id", flat=True)) == places
    assert Professional.objects.count() == 5 and Establishment.objects.count() == 5


def test_a_changed_row_updates_the_professional_and_keeps_its_public_id(tmp_path):
    run(tmp_path, [row(1), row(2)])
    before = Professional.objects.get(rpps=rpps(2))

    report, _ = run(tmp_path, [row(1), row(2, family_name="NOUVEAU", specialty_code="SM40")])

    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    after = Professional.objects.get(rpps=rpps(2))
    assert (after.family_name, after.specialty_code, after.uuid) == ("NOUVEAU", "SM40", before.uuid)
    assert after.updated_at > before.updated_at and after.created_at == before.created_at


def test_one_professional_on_several_rows_gets_every_place_and_a_new_extract_replaces_them(tmp_path):
    report, errors = run(tmp_path, [row(1, finess="750000019"), row(2), row(1, finess="690000027")])
    assert errors == [] and report.created == 2
    doctor = Professional.objects.get(rpps=rpps(1))
    assert sorted(doctor.establishments.values_list("finess", flat=True)) == ["690000027", "750000019"]

    report, errors = run(tmp_path, [row(1, finess="690000027"), row(1, finess="130000035")])

    assert errors == [] and (report.places_added, report.places_removed) == (1, 1)
    assert sorted(doctor.establishments.values_list("finess", flat=True)) == ["130000035", "690000027"]


def test_places_of_one_professional_across_chunks_are_all_kept(tmp_path):
    rows = [row(1, finess="750000019"), row(2), row(3), row(1, finess="690000027")]
    errors: list = []
    import_directory(write(tmp_path / "annuaire.csv", rows), chunk_size=2, on_error=lambda *e: errors.append(e))
    assert errors == []
    doctor = Professional.objects.get(rpps=rpps(1))
    assert sorted(doctor.establishments.values_list("finess", flat=True)) == ["690000027", "750000019"]


def test_a_repeated_row_is_reported_and_loaded_once(tmp_path):
    report, errors = run(tmp_path, [row(1), row(2), row(1)])

    assert errors == [(4, "ligne répétée (même RPPS et même FINESS que la ligne 2)")]
    assert (report.created, report.rejected) == (2, 1)
    assert ActivityPlace.objects.count() == 2


def test_a_repeated_rpps_with_a_different_identity_is_rejected(tmp_path):
    report, errors = run(tmp_path, [row(1), row(1, family_name="AUTRE", finess="690000027")])

    assert report.rejected == 1 and errors[0][0] == 3
    assert f"RPPS {rpps(1)} déjà ligne 2" in errors[0][1]
    assert Professional.objects.get(rpps=rpps(1)).family_name == "NOM1"


def test_a_file_without_the_required_columns_is_refused_whole(tmp_path):
    path = write(tmp_path / "annuaire.csv", [row(1)], header=["rpps", "family_name", "given_names", "email"])
    with pytest.raises(DirectoryFileError, match="colonnes manquantes dans l'en-tête : profession_code"):
        import_directory(path)
    assert not Professional.objects.exists()


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "annuaire.csv"
    path.write_bytes((",".join(COLUMNS) + "\n" + rpps(1) + ",HÉLÈNE,Zoé,10,,,\n").encode("latin-1"))
    with pytest.raises(CommandError, match="fichier illisible"):
        call_command("import_directory", str(path))


def test_command_reports_bad_rows_on_stderr_and_exits_1(tmp_path, capsys):
    path = write(tmp_path / "annuaire.csv", [row(1), row(2, profession_code="99")])
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_directory", str(path))
    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    assert "professionnels créés : 1" in out and "lignes rejetées : 1" in out
    assert "ligne 3 : code de profession inconnu (TRE_G15) : '99'" in err
    assert Professional.objects.filter(rpps=rpps(1)).exists()


def test_command_exits_0_when_every_row_is_good(tmp_path, capsys):
    call_command("import_directory", str(write(tmp_path / "annuaire.csv", [row(1)])))
    assert "professionnels créés : 1" in capsys.readouterr().out


def test_command_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="fichier introuvable"):
        call_command("import_directory", str(tmp_path / "absent.csv"))
