"""The BDPM extract (data/medicines.tsv): literal codes read in the public BDPM files.

Source: github.com/betagouv/api-medicaments @41e27f060db4ac39383a19053f45494901df95f1, data/CIS_bdpm.txt and
data/CIS_CIP_bdpm.txt (e.g. the line "60234100 3595583 plaquette(s) thermoformée(s) PVC-aluminium de 8
comprimé(s) ... 3400935955838").
"""

import pytest

from carnet.medical import medicines

pytestmark = pytest.mark.django_db  # lookups read the imported table first (empty here: the shipped extract)


def test_doliprane_1000_by_cip13():
    found = medicines.find_medicine("3400935955838")
    assert [(m.cis, m.cip7, m.name) for m in found] == [("60234100", "3595583", "DOLIPRANE 1000 mg, comprimé")]
    assert "8  comprimé(s)" in found[0].presentation
    assert medicines.by_cip13("3400935955838") == found[0]


def test_by_cip7_and_by_cis():
    assert [m.cip13 for m in medicines.find_medicine("3232018")] == ["3400932320189"]  # DOLIPRANE 500 mg, comprimé
    assert sorted(m.cip13 for m in medicines.find_medicine("60234100")) == ["3400935955838", "3400956369553"]
    assert medicines.find_medicine("3400934615467")[0].name.startswith("DOLIPRANE 2,4 POUR CENT SANS SUCRE")


def test_by_name_prefix_without_accents_or_case():
    assert len(medicines.find_medicine("dolip")) == 7
    assert {m.name for m in medicines.find_medicine("Doliprane 1000")} == {
        "DOLIPRANE 1000 mg, comprimé", "DOLIPRANE 1000 mg, gélule"}
    assert medicines.find_medicine("doliprane 1000", limit=1)[0].cis in {"60234100", "69309629"}
    assert medicines.find_medicine("zzz") == []


def test_a_datamatrix_read_on_a_box():
    code = medicines.parse_datamatrix("0103400935955838172512311012345")
    assert code == "3400935955838"
    assert medicines.by_cip13(code).cip7 == "3595583"


def test_every_row_has_consistent_codes():
    for m in medicines._table():
        assert len(m.cis) == 8 and m.cis.startswith("6")
        assert m.cip13 == f"34009{m.cip7}{m.cip13[-1]}"
        digits = [int(c) for c in m.cip13]
        assert (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12])) % 10) % 10 == digits[12]
