"""`carnet import_dmp` and the DMP migration service (carnet/record/dmp_import.py), on XDM archives built in the test
(tests/interop/xdm_archives.py) from CI-SIS sample documents:
ci-sis-2.41 VAC-NOTE_2021.01.xml, CR-BIO_2021.01_Electrophorese.xml, DLU-DLU_2021.01.xml, ANEST-CR-ANEST_2021.01.xml
(INS 277076322082910, production OID); ci-sis-3.0 BIO-CR-BIO_2021.01_Electrophorese.xml (INS 279035121518989, test
OID) and CSE-CS8_2024.01.xml (INS 223042545611404: bad control key); plus PDFs made with reportlab."""

import hashlib
import os
import signal
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from carnet.identity import actions as identity
from carnet.identity.enums import SpaceStatus
from carnet.identity.models import Person
from carnet.record import actions as record_actions
from carnet.record.dmp_import import ALREADY_PRESENT, IMPORTED, PENDING, REFUSED, DmpArchiveError, import_dmp
from carnet.record.enums import AuthorKind, DocumentSource, DocumentStatus
from carnet.record.models import Document
from carnet.record.visibility import visible_documents
from carnet.sharing.policy import Action, Role, decide
from carnet.vault import services as vault
from carnet.vault.models import Blob
from tests.identity.test_enrolment import activate
from tests.interop.builders import CDA_30, CDA_241, pdf, reportlab_pdf
from tests.interop.xdm_archives import (
    CONFIDENTIALITY_DMP,
    CONFIDENTIALITY_HL7,
    INS_30,
    INS_241,
    INS_BAD_KEY,
    LOINC,
    NIR_OID,
    XdmDocument,
    cda_document,
    pdf_document,
    sample_30,
    sample_241,
    write_xdm,
    xdm_zip,
)

pytestmark = pytest.mark.django_db
VAC, BIO, DLU, ANEST = ("VAC-NOTE_2021.01.xml", "CR-BIO_2021.01_Electrophorese.xml", "DLU-DLU_2021.01.xml",
                        "ANEST-CR-ANEST_2021.01.xml")
TITLES = ("Note de vaccination", "Bilan biologique", "Document de liaison", "Compte rendu (PDF)")


@pytest.fixture
def holder(family):
    """An active space whose NIR is the INS of the ci-sis-2.41 examples."""
    return family.holder(nir=INS_241).person


def four_documents():
    return [
        sample_241(VAC, "1.2.250.1.999.10.1", "87273-9", title=TITLES[0], creation_time="20210409143500"),
        sample_241(BIO, "1.2.250.1.999.10.2", "11502-2", title=TITLES[1], service_start_time="20210104150527"),
        sample_241(DLU, "1.2.250.1.999.10.3", "34133-9", title=TITLES[2]),
        pdf_document(reportlab_pdf("Compte rendu"), "1.2.250.1.999.10.4", INS_241, title=TITLES[3]),
    ]


def outcomes(report):
    return [(o.unique_id, o.outcome, o.reason) for o in report.outcomes]


def test_sample_cdas_and_a_pdf_are_filed_in_the_holders_space(tmp_path, holder, capsys):
    documents = four_documents()
    path = write_xdm(tmp_path / "dmp.zip", documents)
    call_command("import_dmp", str(path), "--report", str(tmp_path / "report.csv"))
    out = capsys.readouterr().out
    assert "4 document(s) dans l'archive : 4 importé(s)" in out
    stored = {d.unique_id: d for d in Document.objects.of(holder)}
    assert set(stored) == {d.unique_id for d in documents}
    for doc in documents:
        row = stored[doc.unique_id]
        assert row.source == DocumentSource.MIGRATION and row.status == DocumentStatus.CURRENT
        assert row.type_code == doc.type_code[0] and row.title == doc.title
        assert row.sha256 == hashlib.sha256(doc.data).hexdigest() and row.size == len(doc.data)
        assert vault.read_bytes(row.blob) == doc.data  # the same bytes, decrypted
        assert not row.holder_owned  # migrated content can be masked, not edited or deleted
    vac, bio, pdf_row = stored["1.2.250.1.999.10.1"], stored["1.2.250.1.999.10.2"], stored["1.2.250.1.999.10.4"]
    assert (vac.author_kind, vac.author_label, vac.author_identifier) == (AuthorKind.PROFESSIONAL, "Charles MULLER",
                                                                          "01234567897")
    assert vac.act_date.isoformat() == "2021-04-09T14:35:00+00:00"  # creationTime, UTC
    assert bio.act_date.isoformat() == "2021-01-04T15:05:27+00:00"  # serviceStartTime wins
    assert vac.format == "cda" and vac.details["cda"]["title"] == "NOTE DE VACCINATION"  # the CDA header, indexed
    assert (pdf_row.format, pdf_row.mime_type, pdf_row.author_label, pdf_row.author_identifier) == (
        "pdf", "application/pdf", "Marcel CAMPARINI", "01234534765")
    assert pdf_row.class_code == "10"  # class from the type (ASS_X16)
    report = (tmp_path / "report.csv").read_text()
    assert report.splitlines()[0] == "subset,entry_id,unique_id,type_code,outcome,reason,reason_text"
    assert report.count(",imported,") == 4
    for title in TITLES:  # no title, no health content, in the output or the report
        assert title not in out and title not in report


def test_two_subsets_for_two_people_and_the_test_oid(tmp_path, holder, family):
    other = family.holder(nir=INS_30).person
    path = write_xdm(tmp_path / "dmp.zip", [sample_241(VAC, "1.2.250.1.999.11.1", "87273-9")],
                     [sample_30("BIO-CR-BIO_2021.01_Electrophorese.xml", "1.2.250.1.999.11.2", "11502-2")])
    report = import_dmp(path)
    assert outcomes(report) == [("1.2.250.1.999.11.1", IMPORTED, ""), ("1.2.250.1.999.11.2", IMPORTED, "")]
    assert [o.subset for o in report.outcomes] == ["SUBSET01", "SUBSET02"]
    assert Document.objects.of(holder).count() == 1 and Document.objects.of(other).count() == 1


def test_the_test_oid_is_refused_where_test_ins_are_not_accepted(tmp_path, family, settings):
    settings.CARNET_ACCEPT_TEST_INS = False
    other = family.holder(nir=INS_30).person
    path = write_xdm(tmp_path / "dmp.zip",
                     [sample_30("BIO-CR-BIO_2021.01_Electrophorese.xml", "1.2.250.1.999.12.1", "11502-2")])
    assert outcomes(import_dmp(path)) == [("1.2.250.1.999.12.1", REFUSED, "test_ins")]
    assert not Document.objects.of(other).exists()


def test_refusals_each_with_their_reason(tmp_path, holder):
    mismatched = cda_document(CDA_30 / "BIO-CR-BIO_2021.01_Electrophorese.xml", "1.2.250.1.999.13.7", INS_241)
    documents = [
        sample_241(BIO, "1.2.250.1.999.13.1", "11502-2", hash="0" * 40),
        sample_241(BIO, "1.2.250.1.999.13.2", "11502-2", size=1234),
        XdmDocument((CDA_241 / BIO).read_bytes(), "1.2.250.1.999.13.3", "177076322082960"),  # valid NIR, nobody
        cda_document(CDA_30 / "CSE-CS8_2024.01.xml", "1.2.250.1.999.13.4", INS_BAD_KEY, type_code="CERT_DECL"),
        XdmDocument((CDA_241 / BIO).read_bytes(), "1.2.250.1.999.13.5", INS_241, type_code=("99999-9", LOINC, "?")),
        pdf_document(reportlab_pdf(), "1.2.250.1.999.13.6", INS_241, mime_type="text/xml"),
        mismatched,  # a 3.0 document (INS 279035121518989) filed under the 2.41 INS
        pdf_document(pdf({4: b"<< /S /JavaScript /JS (app.alert(1)) >>"}), "1.2.250.1.999.13.8", INS_241),
        sample_241(BIO, "1.2.250.1.999.13.9", "11502-2", uri="../../../etc/passwd"),
        sample_241(BIO, "1.2.250.1.999.13.10", "11502-2", uri="DOC99999.XML"),
        XdmDocument((CDA_241 / BIO).read_bytes(), "1.2.250.1.999.13.11", INS_241, oid="1.2.3.4"),
        XdmDocument(b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                    b'<ClinicalDocument xmlns="urn:hl7-org:v3">&b;</ClinicalDocument>', "1.2.250.1.999.13.12", INS_241),
    ]
    report = import_dmp(write_xdm(tmp_path / "dmp.zip", documents))
    assert [(o.outcome, o.reason) for o in report.outcomes] == [
        (REFUSED, "hash_mismatch"), (REFUSED, "size_mismatch"), (REFUSED, "unknown_ins"), (REFUSED, "ins_invalid"),
        (REFUSED, "unknown_type"), (REFUSED, "mime_mismatch"), (REFUSED, "patient_mismatch"),
        (REFUSED, "format:pdf_javascript"), (REFUSED, "bad_uri"), (REFUSED, "missing_file"), (REFUSED, "ins_missing"),
        (REFUSED, "format:xml_entities"),
    ]
    assert all(o.reason_text for o in report.outcomes)
    assert not Document.objects.exists() and not Blob.objects.exists()


def test_the_command_prints_each_refusal_and_exits_zero(tmp_path, holder, capsys):
    path = write_xdm(tmp_path / "dmp.zip", [sample_241(BIO, "1.2.250.1.999.14.1", "11502-2", hash="0" * 40),
                                            sample_241(VAC, "1.2.250.1.999.14.2", "87273-9")])
    call_command("import_dmp", str(path))  # no SystemExit: refusals are reported, not failures of the command
    out = capsys.readouterr().out
    assert "SUBSET01 1.2.250.1.999.14.1 refused hash_mismatch : empreinte (hash) différente" in out
    assert "SUBSET01 1.2.250.1.999.14.2 imported" in out
    assert "1 importé(s)" in out and "1 refusé(s)" in out


def test_confidentiality_codes_carry_over(tmp_path, holder):
    documents = [
        sample_241(BIO, "1.2.250.1.999.15.1", "11502-2",
                   confidentiality=(("N", CONFIDENTIALITY_HL7, "Normal"), ("MASQUE_PS", CONFIDENTIALITY_DMP, ""))),
        sample_241(VAC, "1.2.250.1.999.15.2", "87273-9",
                   confidentiality=(("INVISIBLE_REPRESENTANTS_LEGAUX", CONFIDENTIALITY_DMP, ""),)),
        sample_241(DLU, "1.2.250.1.999.15.3", "34133-9"),
    ]
    import_dmp(write_xdm(tmp_path / "dmp.zip", documents))
    masked, hidden, plain = (Document.objects.get(unique_id=d.unique_id) for d in documents)
    assert masked.masked_to_professionals and not masked.hidden_from_representatives
    assert hidden.hidden_from_representatives and not hidden.masked_to_professionals
    assert not plain.masked_to_professionals and not plain.hidden_from_representatives


def test_a_replacement_in_the_archive_supersedes_the_older_version(tmp_path, holder):
    old = sample_241(BIO, "1.2.250.1.999.16.1", "11502-2")
    new = sample_241(ANEST, "1.2.250.1.999.16.2", "77436-4", replaces="Document01002")
    report = import_dmp(write_xdm(tmp_path / "dmp.zip", [new, old]))  # listed newest first: order is fixed
    assert [o.unique_id for o in report.outcomes] == ["1.2.250.1.999.16.1", "1.2.250.1.999.16.2"]
    old_row, new_row = (Document.objects.get(unique_id=u) for u in ("1.2.250.1.999.16.1", "1.2.250.1.999.16.2"))
    assert old_row.status == DocumentStatus.SUPERSEDED and new_row.replaces == old_row and new_row.version == 2


def test_a_second_run_imports_nothing_twice(tmp_path, holder, capsys):
    path = write_xdm(tmp_path / "dmp.zip", four_documents())
    first = import_dmp(path)
    ids = set(Document.objects.of(holder).values_list("pk", flat=True))
    second = import_dmp(path)
    assert [o.outcome for o in first.outcomes] == [IMPORTED] * 4
    assert [o.outcome for o in second.outcomes] == [ALREADY_PRESENT] * 4
    assert set(Document.objects.of(holder).values_list("pk", flat=True)) == ids
    call_command("import_dmp", str(path))
    assert "4 déjà présent(s)" in capsys.readouterr().out


def test_a_crash_mid_import_then_a_rerun_completes_without_duplicates(tmp_path, holder, monkeypatch):
    """The third document's transaction fails once its rows (blob, document, access event) and its file are
    written: the first two are committed, the third leaves nothing (no row, no blob, no vault file); the re-run
    imports the last two and skips the first two."""
    path = write_xdm(tmp_path / "dmp.zip", four_documents())
    real_store, calls = vault.store_with_row, []

    def failing_store(*args, **kwargs):
        row = real_store(*args, **kwargs)
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("simulated crash")
        return row

    monkeypatch.setattr(record_actions.vault, "store_with_row", failing_store)
    with pytest.raises(CommandError, match=r"interrompu \(RuntimeError\) après 2 document\(s\).*Relancez"):
        call_command("import_dmp", str(path))
    assert sorted(Document.objects.of(holder).values_list("unique_id", flat=True)) == [
        "1.2.250.1.999.10.1", "1.2.250.1.999.10.2"]
    assert Blob.objects.filter(person=holder).count() == 2
    files = list(vault.storage().listdir(str(holder.uuid))[1])
    assert len(files) == 2  # the crashed document's encrypted file was removed with its transaction
    monkeypatch.setattr(record_actions.vault, "store_with_row", real_store)
    report = import_dmp(path)
    assert [o.outcome for o in report.outcomes] == [ALREADY_PRESENT, ALREADY_PRESENT, IMPORTED, IMPORTED]
    assert Document.objects.of(holder).count() == 4
    assert len(set(Document.objects.of(holder).values_list("unique_id", flat=True))) == 4


def test_an_opposed_person_gets_nothing(tmp_path, family, capsys):
    person = family.person(nir=INS_241, status=SpaceStatus.NOTIFIED)
    identity.oppose(person.nir, person.vitale_serial, family.code_for(person))
    path = write_xdm(tmp_path / "dmp.zip", four_documents())
    call_command("import_dmp", str(path), "--report", str(tmp_path / "report.csv"))
    out = capsys.readouterr().out
    assert out.count(" refused opposed : opposition") == 4
    assert "4 refusé(s)" in out and (tmp_path / "report.csv").read_text().count(",refused,opposed,") == 4
    assert not Person.objects.filter(nir=INS_241).exists()
    assert not Document.objects.exists() and not Blob.objects.exists()


def test_a_space_not_yet_active_receives_its_documents_at_activation(tmp_path, family):
    person = family.person(nir=INS_241, status=SpaceStatus.NOTIFIED)
    code = family.code_for(person)
    report = import_dmp(write_xdm(tmp_path / "dmp.zip", four_documents()))
    assert [o.outcome for o in report.outcomes] == [PENDING] * 4
    assert "4 importé(s) en attente d'activation" in report.summary()
    assert Document.objects.of(person).count() == 4
    assert not decide(person, Action.READ_RECORD, person)  # nobody reads a space that is not open
    activate(person, code)
    person.refresh_from_db()
    assert person.status == SpaceStatus.ACTIVE
    assert decide(person, Action.READ_RECORD, person)
    assert visible_documents(person, Role.HOLDER).count() == 4


def test_an_opposition_after_the_import_erases_what_was_waiting(tmp_path, family):
    person = family.person(nir=INS_241, status=SpaceStatus.NOTIFIED)
    import_dmp(write_xdm(tmp_path / "dmp.zip", four_documents()))
    assert Document.objects.of(person).count() == 4
    identity.oppose(person.nir, person.vitale_serial, family.code_for(person))
    assert not Document.objects.exists() and not Blob.objects.exists()


def test_a_closed_space_is_refused(tmp_path, family):
    family.person(nir=INS_241, status=SpaceStatus.ARCHIVED)
    report = import_dmp(write_xdm(tmp_path / "dmp.zip", [sample_241(VAC, "1.2.250.1.999.17.1", "87273-9")]))
    assert outcomes(report) == [("1.2.250.1.999.17.1", REFUSED, "space_closed")]


@pytest.mark.parametrize("extra", [{"../evil.txt": b"x"}, {"IHE_XDM/SUBSET01/BOMB.XML": b"\0" * (20 << 20)}])
def test_an_unsafe_archive_is_refused_whole_with_a_non_zero_exit(tmp_path, holder, extra):
    path = tmp_path / "dmp.zip"
    path.write_bytes(xdm_zip(four_documents(), extra=extra))
    with pytest.raises(CommandError, match="archive refusée, rien n'a été importé"):
        call_command("import_dmp", str(path))
    with pytest.raises(DmpArchiveError):
        import_dmp(path)
    assert not Document.objects.exists()


def test_an_unreadable_file_is_a_clear_error(tmp_path):
    path = tmp_path / "dmp.zip"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(CommandError, match="n'est pas une archive ZIP lisible"):
        call_command("import_dmp", str(path))
    with pytest.raises(CommandError, match="archive introuvable"):
        call_command("import_dmp", str(tmp_path / "absent.zip"))


def test_the_same_nir_under_the_production_oid_is_the_one_matched(tmp_path, holder):
    """The metadata names the person by INS (NIR + OID); the production OID needs no setting."""
    doc = sample_241(VAC, "1.2.250.1.999.18.1", "87273-9")
    assert doc.oid == NIR_OID
    assert outcomes(import_dmp(write_xdm(tmp_path / "dmp.zip", [doc]))) == [("1.2.250.1.999.18.1", IMPORTED, "")]


KILLED_RUN = """
import os, signal, sys
import django
django.setup()
from carnet.record import actions
calls = []
real = actions.vault.store_with_row
def store_with_row(*args, **kwargs):
    row = real(*args, **kwargs)
    calls.append(1)
    if len(calls) == 3:  # the third document's rows written, not committed: the process dies like a power cut
        os.kill(os.getpid(), signal.SIGKILL)
    return row
actions.vault.store_with_row = store_with_row
from django.core.management import call_command
call_command("import_dmp", sys.argv[1])
"""


@pytest.mark.django_db(transaction=True)
def test_a_killed_import_process_then_a_rerun_completes_without_duplicates(tmp_path, family, settings):
    """A real crash: the importing process is SIGKILLed inside the third document's transaction. The database keeps
    the two committed documents and nothing of the third; the re-run completes the archive without duplicates."""
    holder = family.holder(nir=INS_241).person
    path = write_xdm(tmp_path / "dmp.zip", four_documents())
    vault_dir = settings.STORAGES["vault"]["OPTIONS"]["location"]
    database = connection.settings_dict
    env = dict(os.environ, CARNET_TESTING="1", DJANGO_SETTINGS_MODULE="carnet.settings", CARNET_VAULT_DIR=vault_dir,
               DATABASE_URL=f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
                            f"{database['PORT'] or 5432}/{database['NAME']}")
    result = subprocess.run([sys.executable, "-c", KILLED_RUN, str(path)], env=env, capture_output=True,
                            timeout=120, check=False)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]
    assert sorted(Document.objects.of(holder).values_list("unique_id", flat=True)) == [
        "1.2.250.1.999.10.1", "1.2.250.1.999.10.2"]
    report = import_dmp(path)
    assert [o.outcome for o in report.outcomes] == [ALREADY_PRESENT, ALREADY_PRESENT, IMPORTED, IMPORTED]
    assert Document.objects.of(holder).count() == 4 and Blob.objects.filter(person=holder).count() == 4
