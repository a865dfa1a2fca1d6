"""`carnet verify_audit`: one line per break, a summary, exit status 1 when anything is broken."""

import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from carnet.identity.enums import SpaceStatus
from carnet.sharing.events import record
from carnet.sharing.models import AccessEvent

pytestmark = pytest.mark.django_db

TABLE = AccessEvent._meta.db_table


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def two_chains(family):
    alice, bob = family.person(status=SpaceStatus.ACTIVE), family.person(status=SpaceStatus.ACTIVE)
    for person in (alice, bob):
        for action in ("space.view", "record.read", "record.read", "document.add"):
            record(person, actor=None, role="system", action=action, subject=f"document:{uuid.uuid4()}")
    return alice, bob


def run(capsys, *args):
    code = 0
    try:
        call_command("verify_audit", *args)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_intact_chains_exit_zero_with_a_summary(two_chains, capsys):
    code, lines, _ = run(capsys)
    assert code == 0
    assert lines == ["2 chaîne(s) vérifiée(s), 8 événement(s), 0 rupture(s)."]


def test_each_break_is_one_line_naming_the_person_and_the_number_and_exit_is_one(two_chains, capsys):
    alice, bob = two_chains
    sql(f"UPDATE {TABLE} SET action = 'record.write' WHERE person_id = %s AND sequence = 2", [alice.pk])
    sql(f"DELETE FROM {TABLE} WHERE person_id = %s AND sequence = 3", [bob.pk])

    code, lines, _ = run(capsys)
    assert code == 1
    assert sorted(lines[:-1]) == sorted([f"personne {alice.uuid} : événement n° 2 modifié",
                                         f"personne {bob.uuid} : événement n° 3 supprimé"])
    assert lines[-1] == "2 chaîne(s) vérifiée(s), 7 événement(s), 2 rupture(s)."
    assert "document" not in "\n".join(lines)  # subjects and actions never printed


def test_person_option_checks_one_chain_only(two_chains, capsys):
    alice, bob = two_chains
    sql(f"UPDATE {TABLE} SET action = 'x' WHERE person_id = %s AND sequence = 1", [bob.pk])
    assert run(capsys, "--person", str(alice.uuid))[:2] == (
        0, ["1 chaîne(s) vérifiée(s), 4 événement(s), 0 rupture(s)."])
    code, lines, _ = run(capsys, "--person", str(bob.uuid))
    assert code == 1 and lines[0] == f"personne {bob.uuid} : événement n° 1 modifié"


def test_unknown_or_malformed_person_is_an_error(capsys):
    with pytest.raises(CommandError, match="inconnue"):
        call_command("verify_audit", "--person", str(uuid.uuid4()))
    with pytest.raises(CommandError, match="uuid"):
        call_command("verify_audit", "--person", "nimporte")


def test_anchors_written_then_checked_reveal_a_deleted_last_event(two_chains, capsys, tmp_path):
    alice, _ = two_chains
    anchors = tmp_path / "ancrages.csv"
    code, lines, _ = run(capsys, "--write-anchors", str(anchors))
    assert code == 0 and lines[-1] == f"2 tête(s) de chaîne ancrée(s) dans {anchors}."
    sql(f"DELETE FROM {TABLE} WHERE person_id = %s AND sequence = 4", [alice.pk])

    assert run(capsys)[0] == 0  # the chain alone cannot tell
    code, lines, _ = run(capsys, "--anchors", str(anchors))
    assert code == 1 and lines[0] == f"personne {alice.uuid} : événement n° 4 supprimé"
    code, lines, _ = run(capsys, "--anchors", str(anchors), "--person", str(alice.uuid))
    assert code == 1 and lines[0] == f"personne {alice.uuid} : événement n° 4 supprimé"


def test_a_bad_anchor_file_is_an_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("nimporte,quoi\n")
    with pytest.raises(CommandError, match="en-tête"):
        call_command("verify_audit", "--anchors", str(bad))
    with pytest.raises(CommandError, match="illisibles"):
        call_command("verify_audit", "--anchors", str(tmp_path / "absent.csv"))
