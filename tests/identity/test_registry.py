"""Registry import: validation, idempotent upsert, notices, families, opposition (files built with
carnet.identity.synthetic, which generates valid synthetic NIRs — no real person)."""

import datetime as dt
import re

import pytest
from django.core.management import CommandError, call_command

from carnet.common.dates import today
from carnet.identity.enums import SpaceStatus
from carnet.identity.models import Opposition, Person, ProvisionalCode
from carnet.identity.registry import RegistryFileError, import_registry
from carnet.identity.synthetic import make_nir, write_csv
from carnet.notifications.models import OutboundMessage
from tests.conftest import code_in

pytestmark = pytest.mark.django_db


def years_ago(years: int, days: int = 10) -> dt.date:
    return today().replace(year=today().year - years) - dt.timedelta(days=days)


def test_valid_file_creates_notified_spaces_with_hashed_codes_and_email_notices(people, tmp_path):
    rows = [people.row(birth=years_ago(40)) for _ in range(3)]
    path = tmp_path / "registry.csv"
    write_csv(path, rows)

    report = import_registry(path)

    assert (report.created, report.updated, report.unchanged, report.rejected) == (3, 0, 0, 0)
    person = Person.objects.get(nir=rows[0]["nir"])
    assert person.status == SpaceStatus.NOTIFIED
    assert person.opposition_deadline == today() + dt.timedelta(days=42)
    notice = OutboundMessage.objects.get(person=person)
    assert notice.channel == "email" and notice.recipient == rows[0]["email"]
    code = code_in(notice.body)
    stored = ProvisionalCode.objects.get(person=person)
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert stored.expires_at.date() == (stored.issued_at + dt.timedelta(days=42)).date()
    assert "opposer" in notice.body and "fermer" in notice.body


def test_second_run_changes_nothing_and_a_changed_address_is_updated(people, tmp_path):
    rows = [people.row(birth=years_ago(30)) for _ in range(4)]
    path = tmp_path / "registry.csv"
    write_csv(path, rows)
    import_registry(path)
    codes, messages = ProvisionalCode.objects.count(), OutboundMessage.objects.count()

    again = import_registry(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert (ProvisionalCode.objects.count(), OutboundMessage.objects.count()) == (codes, messages)

    rows[1]["address"] = "3 impasse des Lilas"
    write_csv(path, rows)
    changed = import_registry(path)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 3)
    assert Person.objects.get(nir=rows[1]["nir"]).address == "3 impasse des Lilas"
    assert ProvisionalCode.objects.count() == codes  # an update sends no new notice


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("nir", "", "NIR invalide"),
        ("birth_date", "1980-02-30", "date de naissance"),
        ("birth_date", "2999-01-01", "hors limites"),
        ("sex", "X", "sexe"),
        ("email", "pas-une-adresse", "adresse électronique"),
        ("vitale_serial", "12AB", "carte Vitale"),
        ("address", "", "adresse postale"),
    ],
)
def test_bad_rows_are_reported_with_line_and_reason_and_skipped(people, tmp_path, field, value, reason):
    good, bad = people.row(birth=years_ago(50)), people.row(birth=years_ago(50))
    bad[field] = value
    path = tmp_path / "registry.csv"
    write_csv(path, [good, bad])

    report = import_registry(path)

    assert report.created == 1 and report.rejected == 1
    line, message = report.errors[0]
    assert line == 3 and reason in message
    assert Person.objects.filter(nir=good["nir"]).exists()


def test_bad_nir_control_key_is_rejected(people, tmp_path):
    row = people.row(birth=years_ago(45))
    key = int(row["nir"][13:])
    row["nir"] = row["nir"][:13] + f"{(key + 1) % 97:02d}"
    path = tmp_path / "registry.csv"
    write_csv(path, [row])

    report = import_registry(path)

    assert report.rejected == 1 and "clé de contrôle" in report.errors[0][1]
    assert not Person.objects.exists()


def test_corsican_nirs_2a_and_2b_are_accepted(people, tmp_path):
    rows = [people.row(birth=years_ago(33), sex="F", city=("20000", "Ajaccio", "2A", "004")),
            people.row(birth=years_ago(34), sex="M", city=("20200", "Bastia", "2B", "033"))]
    assert rows[0]["nir"][5:7] == "2A" and rows[1]["nir"][5:7] == "2B"
    path = tmp_path / "registry.csv"
    write_csv(path, rows)

    assert import_registry(path).created == 2


def test_nir_sex_mismatch_and_duplicate_nir_in_file_are_rejected(people, tmp_path):
    woman = people.row(birth=years_ago(41), sex="F")
    mismatch = dict(woman, sex="M")
    duplicate = dict(woman, address="ailleurs")
    path = tmp_path / "registry.csv"
    write_csv(path, [woman, mismatch, duplicate])

    report = import_registry(path)

    assert report.created == 1 and report.rejected == 2
    reasons = [r for _, r in report.errors]
    assert any("sexe ne correspond pas" in r for r in reasons)
    assert any("en double" in r for r in reasons)


def test_missing_columns_reject_the_whole_file(tmp_path):
    path = tmp_path / "registry.csv"
    path.write_text("nir,family_name\n123,Dupont\n", encoding="utf-8")
    with pytest.raises(RegistryFileError, match="colonnes manquantes"):
        import_registry(path)
    assert not Person.objects.exists()


def test_non_utf8_file_is_refused(tmp_path, people):
    path = tmp_path / "registry.csv"
    write_csv(path, [people.row(birth=years_ago(40), family_name="Lefèvre")])
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    with pytest.raises(RegistryFileError):
        import_registry(path)


def test_three_generation_family_with_children_listed_before_their_parents(people, tmp_path):
    grandmother = people.row(birth=years_ago(70), sex="F", family_name="Durand")
    mother = people.row(birth=years_ago(40), sex="F", family_name="Durand", parent=grandmother)
    child = people.row(birth=years_ago(8), family_name="Durand", email=False, phone=False, parent=mother)
    baby = people.row(birth=years_ago(1), family_name="Durand", email=False, phone=False, parent=mother)
    path = tmp_path / "registry.csv"
    # Children first: their parent is only known later in the same file.
    write_csv(path, [child, baby, mother, grandmother])

    report = import_registry(path, chunk_size=1)

    assert (report.created, report.rejected) == (4, 0)
    mother_row = Person.objects.get(nir=mother["nir"])
    assert Person.objects.get(nir=child["nir"]).parent == mother_row
    assert Person.objects.get(nir=baby["nir"]).parent == mother_row
    assert mother_row.parent.nir == grandmother["nir"]


def test_minor_notice_and_code_go_to_the_attached_parent(people, tmp_path):
    parent = people.row(birth=years_ago(38))
    child = people.row(birth=years_ago(9), email=False, phone=False, parent=parent)
    path = tmp_path / "registry.csv"
    write_csv(path, [parent, child])

    import_registry(path)

    child_person = Person.objects.get(nir=child["nir"])
    notice = OutboundMessage.objects.get(person=child_person)
    assert notice.recipient == parent["email"]
    assert child_person.first_name in notice.subject
    assert ProvisionalCode.objects.get(person=child_person).sent_to.nir == parent["nir"]


def test_people_without_email_get_a_letter_in_one_pdf_batch(people, tmp_path):
    rows = [people.row(birth=years_ago(60), email=False) for _ in range(3)]
    path = tmp_path / "registry.csv"
    write_csv(path, rows)

    report = import_registry(path)

    assert report.letters == 3 and report.emails == 0
    pdf = report.letters_pdf.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page[^s]", pdf)) == 3  # one page per letter
    letters = OutboundMessage.objects.filter(channel="letter").order_by("pk")
    assert {m.status for m in letters} == {"printed"}
    assert [m.recipient.splitlines()[-1] for m in letters] == [f"{r['postal_code']} {r['city']}" for r in rows]


def test_unknown_parent_is_rejected_with_its_line(people, tmp_path):
    stranger = people.row(birth=years_ago(40))
    child = people.row(birth=years_ago(5), email=False, parent=stranger)
    path = tmp_path / "registry.csv"
    write_csv(path, [child])

    report = import_registry(path)

    assert report.rejected == 1 and report.errors[0][0] == 2 and "parent_nir inconnu" in report.errors[0][1]


def test_parent_already_in_the_database_is_found(people, tmp_path):
    parent = people.row(birth=years_ago(40))
    write_csv(tmp_path / "a.csv", [parent])
    import_registry(tmp_path / "a.csv")
    child = people.row(birth=years_ago(5), email=False, parent=parent)
    write_csv(tmp_path / "b.csv", [child])

    assert import_registry(tmp_path / "b.csv").created == 1


def test_reimport_after_opposition_does_not_recreate_the_space(people, tmp_path, family):
    from carnet.identity.actions import oppose

    row = people.row(birth=years_ago(44))
    path = tmp_path / "registry.csv"
    write_csv(path, [row])
    import_registry(path)
    person = Person.objects.get(nir=row["nir"])
    code = code_in(OutboundMessage.objects.get(person=person).body)
    oppose(row["nir"], row["vitale_serial"], code)

    report = import_registry(path)

    assert report.created == 0 and report.opposed == 1
    assert not Person.objects.filter(nir=row["nir"]).exists()
    assert Opposition.objects.count() == 1


def test_command_prints_counts_and_exits_non_zero_on_rejections(people, tmp_path, capsys):
    good, bad = people.row(birth=years_ago(40)), people.row(birth=years_ago(40))
    bad["nir"] = "1234"
    path = tmp_path / "registry.csv"
    write_csv(path, [good, bad])

    with pytest.raises(SystemExit) as exit_info:
        call_command("import_registry", str(path))

    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    assert "créés : 1" in out and "rejetés : 1" in out
    assert "ligne 3 :" in err


def test_command_exits_zero_when_every_row_is_good(people, tmp_path, capsys):
    path = tmp_path / "registry.csv"
    write_csv(path, [people.row(birth=years_ago(40))])
    call_command("import_registry", str(path))
    assert "créés : 1" in capsys.readouterr().out


def test_make_nir_keys_are_valid():
    from stdnum.fr import nir

    assert nir.is_valid(make_nir("F", dt.date(1982, 6, 1), "2A", "004", 123))
    assert nir.is_valid(make_nir("M", dt.date(1990, 1, 1), "75", "113", 7))


def test_a_file_unreadable_mid_way_says_what_was_kept(people, tmp_path):
    rows = [people.row(birth=years_ago(40)) for _ in range(3)]
    path = tmp_path / "registry.csv"
    write_csv(path, rows)
    path.write_bytes(path.read_bytes() + b'"' + b"x" * 200_000 + b'",1\n')  # a field past csv's limit

    with pytest.raises(CommandError, match="lecture interrompue : ligne 5") as error:
        call_command("import_registry", str(path), "--chunk-size", "2")
    assert "relancez" in str(error.value)
    assert Person.objects.count() == 2  # the first chunk was committed; re-running is idempotent


def test_a_binary_file_is_refused_before_anything_is_imported(tmp_path):
    path = tmp_path / "registry.csv"
    path.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(CommandError, match="rien n'a été importé"):
        call_command("import_registry", str(path))
