"""The habilitation matrix as data: what the shipped file says (per the sources in samples/habilitation), how
unknown cells are treated, and how a malformed operator file is refused."""

import shutil
from pathlib import Path

import pytest
from django.apps import apps
from hypothesis import given
from hypothesis import strategies as st

from carnet.interop.terminology import DOCUMENT_TYPES
from carnet.sharing import habilitation
from carnet.sharing.habilitation import HabilitationFileError

J07 = [t.code for t in DOCUMENT_TYPES]
SHIPPED = habilitation.DEFAULT_MATRIX_FILE
HEADER = "profession,type_code,type_label,access,source,note\n"


@pytest.fixture(autouse=True)
def fresh_matrix():
    """Every test starts from the configured files and leaves no cached operator file behind."""
    habilitation.matrix.cache_clear()
    yield
    habilitation.matrix.cache_clear()


@pytest.fixture
def operator_dir(tmp_path):
    """A folder holding the shipped sources file, where a test writes its own matrix."""
    shutil.copy(SHIPPED.with_name(habilitation.SOURCES_FILE_NAME), tmp_path / habilitation.SOURCES_FILE_NAME)
    return tmp_path


def write_matrix(folder: Path, body: str, name: str = "matrice.csv") -> Path:
    path = folder / name
    path.write_text("# an operator's matrix\n" + HEADER + body, encoding="utf-8")
    return path


# --- the shipped file -----------------------------------------------------------------------------------------


def test_the_doctor_reads_every_type_except_the_proof_of_residence():
    for code in J07:
        assert habilitation.may_read("10", code) is (code != "ATTEST-RESID"), code
    assert habilitation.cell("10", "ATTEST-RESID") == ("N", "a")
    assert len(habilitation.readable_types("10")) == len(J07) - 1


def test_every_jdv_j07_type_has_a_stated_cell_for_the_doctor():
    for code in J07:
        access, source = habilitation.cell("10", code)
        assert access in ("Y", "N") and source == "a", code


@pytest.mark.parametrize("type_code", ["75496-0", "83901-9", "68599-0", "68817-6", "89601-9"])
def test_the_nurse_is_denied_what_the_sources_deny(type_code):
    assert habilitation.cell("60", type_code) == ("N", "b")
    assert not habilitation.may_read("60", type_code)


@pytest.mark.parametrize("type_code", ["83981-1", "56445-0"])
def test_the_nurse_reads_what_the_sources_allow(type_code):
    assert habilitation.cell("60", type_code) == ("Y", "b")
    assert habilitation.may_read("60", type_code)


def test_the_dentist_is_denied_the_five_types_of_source_a_and_advance_directives():
    for code in ("80788-3", "75496-0", "83981-1", "83901-9", "68599-0"):
        assert habilitation.cell("40", code) == ("N", "a"), code
    assert habilitation.cell("40", "EXPPAT_3") == ("N", "g")


def test_coordination_roles_read_liaison_documents_but_not_prescriptions():
    assert habilitation.cell("SOC_COORD", "74207-2") == ("Y", "e+f")
    assert habilitation.may_read("SOC_COORD", "83981-1")
    assert not habilitation.may_read("SOC_COORD", "57833-6")
    assert not habilitation.may_read("SOC_COORD", "15507-7")


def test_an_unknown_cell_is_denied_even_where_the_profession_is_broadly_allowed():
    # Pédicures-podologues have "un large accès" (onpp.fr) but no source names this type: unknown, so denied.
    assert habilitation.cell("80", "11488-4") == ("?", "")
    assert not habilitation.may_read("80", "11488-4")
    assert habilitation.readable_types("50") == []  # sage-femme: no cell verified


def test_unknown_professions_and_types_are_denied():
    assert not habilitation.may_read("91", "11488-4")  # orthophoniste: not (yet) in the matrix
    assert not habilitation.may_read("10", "NOT-A-TYPE")
    assert habilitation.cell("91", "11488-4") == ("?", "")


def test_the_shipped_matrix_has_the_19_rows_of_the_annex_and_every_cell():
    matrix = habilitation.matrix()
    codes = [code for code, _ in habilitation.professions()]
    assert len(codes) == 19 and codes[:7] == ["10", "40", "50", "21", "60", "70", "80"]
    assert len(matrix.cells) == 19 * len(J07)
    unidentified = [p.code for p in matrix.professions.values() if not p.identified]
    assert unidentified == [f"ANNEX_{n}" for n in range(14, 20)]
    assert all(matrix.cell(code, t) == ("?", "") for code in unidentified for t in J07)


def test_every_source_cited_by_the_shipped_matrix_is_described():
    matrix = habilitation.matrix()
    cited = {key for cell in matrix.cells.values() if cell.source for key in cell.source.split("+")}
    assert cited == {"a", "b", "c", "d", "e", "f", "g"}
    for key in cited:
        source = matrix.sources[key]
        assert source.title and source.consulted, key
        assert source.url or key == "e"  # e: the samples README's summary without an identified primary source


def test_readable_types_are_document_types_in_jdv_j07_order():
    readable = habilitation.readable_types("21")
    assert [t.code for t in readable] == [c for c in J07 if habilitation.may_read("21", c)]
    assert "PRESC-KINE" in [t.code for t in readable]


@given(profession=st.sampled_from([c for c, _ in habilitation.professions()] + ["91", ""]),
       type_code=st.sampled_from(J07 + ["", "X"]))
def test_only_a_y_cell_allows(profession, type_code):
    assert habilitation.may_read(profession, type_code) is (habilitation.cell(profession, type_code).access == "Y")


# --- the operator's file --------------------------------------------------------------------------------------


def test_carnet_habilitation_file_setting_replaces_the_matrix(settings, operator_dir):
    path = write_matrix(operator_dir, "60,68599-0,Synthèse psychiatrique,Y,b,test\n")
    settings.CARNET_HABILITATION_FILE = str(path)
    habilitation.reload()
    assert habilitation.may_read("60", "68599-0")
    assert not habilitation.may_read("10", "11488-4")  # absent from this file: unknown, denied
    assert habilitation.matrix().path == path


def test_carnet_habilitation_file_environment_variable_works_too(settings, monkeypatch, operator_dir):
    path = write_matrix(operator_dir, "40,EXPPAT_3,,Y,g,\n")
    settings.CARNET_HABILITATION_FILE = ""
    monkeypatch.setenv("CARNET_HABILITATION_FILE", str(path))
    assert habilitation.reload().path == path
    assert habilitation.may_read("40", "EXPPAT_3")


def test_a_separate_sources_file_can_be_named(settings, tmp_path, operator_dir):
    sources = tmp_path / "elsewhere.json"
    shutil.move(operator_dir / habilitation.SOURCES_FILE_NAME, sources)
    path = write_matrix(operator_dir, "60,68599-0,,N,b,\n")
    settings.CARNET_HABILITATION_FILE = str(path)
    with pytest.raises(HabilitationFileError, match="file not found"):
        habilitation.reload()
    settings.CARNET_HABILITATION_SOURCES_FILE = str(sources)
    assert habilitation.reload().sources_path == sources


@pytest.mark.parametrize(("line", "message"), [
    ("60,99999-9,,Y,b,", 'line 3: unknown document type code "99999-9"'),
    ("60,68599-0,,Oui,b,", 'line 3: bad access value "Oui"'),
    ("91,68599-0,,Y,b,", 'line 3: unknown profession code "91"'),
    ("60,68599-0,,Y,zz,", "line 3: unknown source key(s) zz"),
    ("60,68599-0,,Y,,", "line 3: a Y cell needs a source key"),
    ("60,68599-0,,Y,b", "line 3: 5 fields, expected 6"),
])
def test_a_malformed_line_is_refused_with_its_number(operator_dir, line, message):
    path = write_matrix(operator_dir, line + "\n")
    with pytest.raises(HabilitationFileError) as refused:
        habilitation.load(path)
    assert message in str(refused.value)
    assert str(path) in str(refused.value)


def test_a_duplicate_cell_is_refused_naming_both_lines(operator_dir):
    path = write_matrix(operator_dir, "60,68599-0,,N,b,\n# a comment keeps the numbering\n60,68599-0,,Y,b,\n")
    with pytest.raises(HabilitationFileError, match=r"line 5: duplicate cell 60 x 68599-0 \(first on line 3\)"):
        habilitation.load(path)


def test_every_problem_is_reported_not_only_the_first(operator_dir):
    path = write_matrix(operator_dir, "60,99999-9,,Y,b,\n60,68599-0,,maybe,b,\n")
    with pytest.raises(HabilitationFileError) as refused:
        habilitation.load(path)
    assert refused.value.problems[0].startswith("line 3:") and refused.value.problems[1].startswith("line 4:")


def test_a_bad_header_is_refused(operator_dir):
    path = operator_dir / "matrice.csv"
    path.write_text("profession,type,access\n60,68599-0,Y\n", encoding="utf-8")
    with pytest.raises(HabilitationFileError, match="line 1: header must be"):
        habilitation.load(path)


def test_a_spreadsheet_export_with_a_byte_order_mark_is_read(operator_dir):
    path = operator_dir / "matrice.csv"
    path.write_text("\ufeff" + HEADER + "60,68599-0,,Y,b,\n", encoding="utf-8")
    assert habilitation.load(path).may_read("60", "68599-0")


def test_a_broken_operator_file_stops_the_start(settings, operator_dir):
    settings.CARNET_HABILITATION_FILE = str(write_matrix(operator_dir, "60,99999-9,,Y,b,\n"))
    habilitation.matrix.cache_clear()
    with pytest.raises(HabilitationFileError, match="line 3"):
        apps.get_app_config("sharing").ready()
