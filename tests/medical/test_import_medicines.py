"""`carnet import_medicines CIS_bdpm.txt CIS_CIP_bdpm.txt`: the public BDPM into the reference table.

The fixture files (tests/medical/fixtures/, see the README there) are lines copied verbatim from the BDPM files
stored in github.com/betagouv/api-medicaments @41e27f060db4ac39383a19053f45494901df95f1 (data/CIS_bdpm.txt,
data/CIS_CIP_bdpm.txt), e.g. "60282999 3910487 plaquette(s) thermoformée(s) polyamide PVC aluminium de 10
comprimé(s) avec fermeture de sécurité enfant ... 3400939104874".
"""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from carnet.medical import medicines
from carnet.medical.models import MedicinePresentation

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
CIS = FIXTURES / "CIS_bdpm.txt"
CIP = FIXTURES / "CIS_CIP_bdpm.txt"


def run(capsys, cis=CIS, cip=CIP):
    """The command's exit status, stdout and stderr."""
    try:
        call_command("import_medicines", str(cis), str(cip))
        status = 0
    except SystemExit as exit_info:
        status = exit_info.code
    out, err = capsys.readouterr()
    return status, out, err


def copy(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_the_whole_files_are_loaded_and_looked_up_by_every_code_and_by_name(capsys):
    status, out, err = run(capsys)

    assert (status, err) == (0, "")
    assert "spécialités : 4, présentations : 4 (créées : 4" in out
    found = medicines.find_medicine("3400939104874")  # CIP13
    assert [(m.cis, m.cip7, m.name) for m in found] == [
        ("60282999", "3910487", "ABSTRAL 400 microgrammes, comprimé sublingual")]
    assert found[0].presentation == ("plaquette(s) thermoformée(s) polyamide PVC aluminium de 10 comprimé(s) avec "
                                     "fermeture de sécurité enfant")
    assert [m.cip13 for m in medicines.find_medicine("3528411")] == ["3400935284112"]  # CIP7, ACEBUTOLOL
    assert [m.cip13 for m in medicines.find_medicine("60282999")] == ["3400939104874", "3400939104935"]  # CIS
    assert [m.cip13 for m in medicines.find_medicine("abstral 4")] == ["3400939104874", "3400939104935"]
    assert [m.name for m in medicines.find_medicine("Cyclo 3, creme")] == ["CYCLO 3, crème"]  # no accent, any case
    assert medicines.find_medicine("abstral", limit=1)[0].cis == "60282999"
    assert medicines.by_cip13("3400932849666").name == "CYCLO 3, crème"
    assert medicines.by_cip13(medicines.parse_datamatrix("0103400935284112172512311012345")).cip7 == "3528411"
    # Once the base is loaded, it is the only source: the shipped DOLIPRANE extract is no longer searched.
    assert medicines.find_medicine("dolip") == [] and medicines.by_cip13("3400935955838") is None
    row = MedicinePresentation.objects.get(cip13="3400932849666")
    assert (row.form, row.routes, row.authorisation_status, row.presentation_status, row.marketing_status) == (
        "crème", "cutanée", "Autorisation active", "Présentation active", "Déclaration de commercialisation")
    assert row.withdrawn_at is None


def test_an_empty_table_falls_back_to_the_shipped_extract():
    assert not MedicinePresentation.objects.exists()
    assert len(medicines.find_medicine("dolip")) == 7
    assert medicines.by_cip13("3400935955838").name == "DOLIPRANE 1000 mg, comprimé"


def test_re_importing_changes_nothing(capsys):
    run(capsys)
    before = list(MedicinePresentation.objects.order_by("cip13").values())

    status, out, _ = run(capsys)

    assert status == 0
    assert "(créées : 0, mises à jour : 0, inchangées : 4, retirées : 0)" in out
    assert list(MedicinePresentation.objects.order_by("cip13").values()) == before


def test_a_presentation_gone_from_the_files_is_withdrawn_then_restored(tmp_path, capsys):
    run(capsys)
    lines = CIP.read_text(encoding="utf-8").splitlines(keepends=True)
    without_cyclo = copy(tmp_path, "CIS_CIP_bdpm.txt", "".join(line for line in lines if "3400932849666" not in line))
    label = lines[0].split("\t")[2]
    changed = copy(tmp_path, "changed.txt", "".join(lines).replace(label, label + " (nouveau libellé)"))

    status, out, _ = run(capsys, cip=without_cyclo)

    assert status == 0 and "retirées : 1)" in out
    assert MedicinePresentation.objects.get(cip13="3400932849666").withdrawn_at is not None
    assert MedicinePresentation.objects.count() == 4  # kept, so that an old box or delivery still resolves
    assert medicines.by_cip13("3400932849666").name == "CYCLO 3, crème"
    assert [m.cip13 for m in medicines.find_medicine("3284966")] == ["3400932849666"]
    assert medicines.find_medicine("cyclo") == []  # a name finds the current presentations only

    status, out, _ = run(capsys, cip=changed)

    assert status == 0 and "mises à jour : 2" in out  # CYCLO back, ACEBUTOLOL's label changed
    assert MedicinePresentation.objects.filter(withdrawn_at__isnull=False).count() == 0
    assert medicines.by_cip13("3400935284112").presentation.endswith("(nouveau libellé)")


def test_a_wrong_cip13_check_digit_is_reported_with_its_line_and_the_rest_is_loaded(tmp_path, capsys):
    run(capsys)
    text = CIP.read_text(encoding="utf-8")
    assert "\t3400939104874\t" in text
    bad = copy(tmp_path, "CIS_CIP_bdpm.txt", text.replace("\t3400939104874\t", "\t3400939104875\t"))
    MedicinePresentation.objects.filter(cip13="3400939104874").update(presentation="ancien libellé")

    status, out, err = run(capsys, cip=bad)

    assert status == 1
    assert err.strip() == "CIS_CIP_bdpm.txt ligne 2 : CIP13 3400939104875 : clé de contrôle fausse"
    assert "présentations : 3" in out and "lignes rejetées : 1" in out
    # The other lines are loaded; the rows of the rejected line's CIP13 or CIP7 are left as they were.
    assert MedicinePresentation.objects.filter(withdrawn_at__isnull=True).count() == 4
    assert medicines.by_cip13("3400939104874").presentation == "ancien libellé"
    assert not MedicinePresentation.objects.filter(cip13="3400939104875").exists()


def test_bad_lines_of_either_file_are_reported_and_the_rest_loaded(tmp_path, capsys):
    cis_lines = CIS.read_text(encoding="utf-8").splitlines()
    cis = copy(tmp_path, "CIS_bdpm.txt", "\n".join([*cis_lines, "6123", ""]))
    cip_lines = CIP.read_text(encoding="utf-8").splitlines()
    cip = copy(tmp_path, "CIS_CIP_bdpm.txt", "\n".join([
        *cip_lines,
        cip_lines[0],  # the same CIP13 again
        "69999999\t3000000\tboîte\tPrésentation active\tDéclaration de commercialisation\t01/01/2020\t3400930000007",
        "60281598\t3528411\ttrop court",
    ]) + "\n")

    status, out, err = run(capsys, cis=cis, cip=cip)

    assert status == 1
    assert err.splitlines() == [
        "CIS_bdpm.txt ligne 5 : code CIS invalide en colonne 1 (8 chiffres attendus) : '6123'",
        "CIS_CIP_bdpm.txt ligne 5 : CIP13 3400935284112 déjà vu plus haut dans le fichier",
        "CIS_CIP_bdpm.txt ligne 6 : CIS 69999999 absent de CIS_bdpm.txt (ou refusé)",
        "CIS_CIP_bdpm.txt ligne 7 : 3 colonne(s), 7 au moins attendues (CIS ... CIP13)",
    ]
    assert MedicinePresentation.objects.count() == 4


def test_a_windows_1252_file_is_accepted(tmp_path, capsys):
    cis = copy(tmp_path, "CIS_bdpm.txt", CIS.read_text(encoding="utf-8").replace("\n", "\r\n"), "cp1252")
    cip = copy(tmp_path, "CIS_CIP_bdpm.txt", CIP.read_text(encoding="utf-8"), "cp1252")
    with pytest.raises(UnicodeDecodeError):
        cis.read_bytes().decode("utf-8")

    status, out, err = run(capsys, cis=cis, cip=cip)

    assert (status, err) == (0, "")
    assert "CIS_bdpm.txt en cp1252" in out
    assert medicines.by_cip13("3400935284112").name == "ACEBUTOLOL BIOGARAN 400 mg, comprimé pelliculé"
    assert medicines.by_cip13("3400932849666").presentation == "1 tube(s) polyéthylène de 100 g"


def test_swapped_files_are_refused_and_nothing_is_changed(capsys):
    with pytest.raises(CommandError, match="aucune présentation valable"):
        call_command("import_medicines", str(CIP), str(CIS))
    assert not MedicinePresentation.objects.exists()


def test_a_missing_file_is_named():
    with pytest.raises(CommandError, match="fichier introuvable : .*absent.txt"):
        call_command("import_medicines", str(CIS), "absent.txt")


def test_cip13_check_digit():
    assert medicines.cip13_is_valid("3400935955838")
    assert not medicines.cip13_is_valid("3400935955839")
    assert not medicines.cip13_is_valid("340093595583")
    assert not medicines.cip13_is_valid("340093595583x")
