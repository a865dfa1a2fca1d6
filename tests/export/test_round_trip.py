"""Export then `import_dmp` into an empty space gives back every field (issue 5: "the round trip must be lossless").

The space holds a document of every source, each metadata field filled: two ITI-65 submissions from a professional's
software (the CI-SIS 3.0 example BIO-TROD_2024.01_Cystite.xml from ../shared/samples in the PDSm bundles of
tests/fhir/pdsm_bundles.py) with an XDS Folder, an event code, a related id, the restricted level, an organisation
author, practice setting and facility type, one archived and superseded by a PDSm patch; the holder's uploads into
their own folder, one replaced by a second version and one deleted; a caregiver's upload (and the delegation
certificate filed at acceptance); an establishment's and the insurer's documents; masking and hiding by the holder;
read and pin marks; an empty folder. Times carry microseconds (XDS keeps seconds). PDFs are made with reportlab.
"""

import datetime as dt
import json
import zipfile
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from lxml import etree

from carnet.caregivers import actions as caregiver_actions
from carnet.export.enums import ExportStatus
from carnet.fhir import mapping
from carnet.interop.xdm import FOLDER_NODE, RIM, open_archive
from carnet.interop.xdm_writer import Code, Submission, XdmEntry, XdmFolder, XdmZipWriter, cx, xcn
from carnet.record import actions as record_actions
from carnet.record.dmp_import import ALREADY_PRESENT, IMPORTED, import_dmp
from carnet.record.enums import AuthorKind, DocumentSource, DocumentStatus
from carnet.record.models import Document, DocumentMark, Folder, RecordSettings, SubmissionSet, XdsFolder
from carnet.sharing.models import Professional
from carnet.sharing.tokens import issue_professional_token
from carnet.vault import services as vault
from carnet.vault.models import Blob
from tests.export.conftest import download, ready_export
from tests.fhir import pdsm_bundles as pdsm
from tests.fhir.conftest import assert_valid_fhir
from tests.fhir.pdsm_bundles import SAMPLE_INS, SAMPLE_RPPS, WriteClient
from tests.fhir.test_folders import FOLDER_ID, first_bundle, second_bundle
from tests.interop.builders import reportlab_pdf
from tests.interop.xdm_archives import INS_241

pytestmark = pytest.mark.django_db
SNOMED = "http://snomed.info/sct"
EVENT = {"system": SNOMED, "code": "80146002", "display": "Appendectomy"}


def at(*parts) -> dt.datetime:
    """A moment with microseconds (which XDS times do not keep)."""
    return dt.datetime(*parts, 10, 15, 30, 123456, tzinfo=dt.UTC)


def seconds(value: dt.datetime | None) -> dt.datetime | None:
    """XDS times (DTM) have whole seconds."""
    return value.replace(microsecond=0) if value else None


def with_event(body: dict[str, Any]) -> dict[str, Any]:
    """The bundle's DocumentReference with an event code, a related id, the restricted level (R) and the
    organisation among its authors."""
    for entry in body["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "DocumentReference":
            resource["context"]["event"] = [{"coding": [EVENT]}]
            resource["context"]["related"] = [{"identifier": {"system": "urn:oid:1.2.250.1.999.7", "value": "ACC-42"}}]
            resource["securityLabel"] = [{"coding": [{"system": pdsm.V3_CONF, "code": "R"}]}]
            resource["author"].append({"reference": "#org-example"})
    return body


@pytest.fixture
def full_space(family):
    """(account, person) of a space with a document of every source and every field filled (module docstring)."""
    account = family.holder(nir=SAMPLE_INS)
    person = account.person
    author = Professional.objects.create(rpps=SAMPLE_RPPS, family_name="Leclerc", given_names="Sophie",
                                         profession_code="10")
    with time_machine.travel(at(2025, 5, 2)):
        software = WriteClient(issue_professional_token(author)[1])
        assert software.post("/fhir/", with_event(first_bundle())).status_code == 200
    with time_machine.travel(at(2025, 6, 10)):
        software = WriteClient(issue_professional_token(author)[1])
        assert software.post("/fhir/", second_bundle()).status_code == 200
        archive = software.patch("/fhir/DocumentReference?identifier=urn:ietf:rfc:3986|urn:oid:1.2.250.1.999.1.2",
                                 [{"op": "replace", "path": "/status", "value": "superseded"},
                                  {"op": "replace", "path": "/extension/0/valueBoolean", "value": True}])
        assert archive.status_code == 200, archive.data

    with time_machine.travel(at(2025, 7, 1)):
        prescriptions = record_actions.create_folder(person, person, "Ordonnances")
        first = record_actions.add_document(person, person, content=reportlab_pdf("Ordonnance"),
                                            filename="ordo.pdf", title="Ordonnance", type_code="57833-6",
                                            folder=prescriptions,
                                            act_date=dt.datetime(2024, 3, 2, 9, 30, tzinfo=dt.UTC))
    with time_machine.travel(at(2025, 7, 2)):
        record_actions.create_folder(person, person, "Vide")
        second = record_actions.add_document(person, person, content=reportlab_pdf("Ordonnance v2"),
                                             filename="ordo-v2.pdf", title="Ordonnance (corrigée)",
                                             type_code="57833-6", folder=prescriptions, replaces=first)
        gone = record_actions.add_document(person, person, content=reportlab_pdf("Brouillon"), filename="b.pdf",
                                           type_code="57833-6")
        record_actions.delete_document(person, person, gone)

    helper = family.holder(age=52).person
    delegation = caregiver_actions.invite_caregiver(person, person, nir=helper.nir, family_name=helper.family_name,
                                                    given_name=helper.first_name, birth_date=helper.birth_date,
                                                    sworn=True)
    caregiver_actions.respond_to_invitation(helper, delegation.uuid, accept=True)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        by_caregiver = record_actions.add_document(helper, person, content=reportlab_pdf("Mesures"),
                                                   filename="m.pdf", title="Relevé de tension", type_code="57833-6")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
        hospital = record_actions.add_document(
            None, person, content=reportlab_pdf("Sortie"), filename="sortie.pdf", type_code="11490-0",
            source=DocumentSource.PROFESSIONAL, author=record_actions.Author(AuthorKind.ORGANISATION, "CH de Nantes"),
            unique_id="1.2.250.1.999.50.1", masked=True)  # the establishment's own mask, not the holder's
        record_actions.add_document(
            None, person, content=reportlab_pdf("Remboursements"), filename="remb.pdf", type_code="57833-6",
            source=DocumentSource.INSURER, author=record_actions.Author(AuthorKind.INSURER, "Assurance Maladie"))

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=15)):
        professional_doc = Document.objects.get(person=person, unique_id="1.2.250.1.999.1.1")
        record_actions.set_confidentiality(person, person, professional_doc, masked=True)
        record_actions.set_confidentiality(person, person, by_caregiver, hidden_from_representatives=True)
        record_actions.mark(person, person, professional_doc, read=True, pinned=True)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=20)):
        record_actions.mark(person, person, second, read=True)
        record_actions.mark(person, person, hospital, pinned=True)
    return account, person


def sender_xds(document: Document) -> dict[str, Any]:
    """What clinical software declared with no column: the instant of the period end (its offset becomes UTC), the
    labels as the FHIR face serves them (the snapshot's "iti67"), the rest as stored."""
    xds = dict(document.details.get("xds") or {})
    if xds.get("period_end"):
        xds["period_end"] = dt.datetime.fromisoformat(xds["period_end"])
    xds.pop("security_labels", None)
    return xds


def as_served(document: Document) -> dict[str, Any]:
    """The DocumentReference ITI-67 serves, without what names the row itself (ids, its own version time)."""
    resource = mapping.document_reference(document)
    text = json.dumps(resource, sort_keys=True, default=str).replace(str(document.uuid), "ID")
    if document.replaces is not None:
        text = text.replace(str(document.replaces.uuid), "REPLACED")
    resource = json.loads(text)
    resource["meta"].pop("lastUpdated", None)
    resource["date"] = resource["date"][:19]  # XDS times have whole seconds
    for content in resource["content"]:
        content["attachment"]["creation"] = content["attachment"]["creation"][:19]
    resource.pop("masterIdentifier", None)  # the snapshot's key (a document filed without gets one at export)
    return resource


def snapshot(person) -> dict[str, Any]:
    """Every field of the space's documents, folders, submission sets and marks, keyed by uniqueId (the export gives
    one to documents filed without)."""

    def uid(d: Document) -> str:
        return d.unique_id or f"2.25.{d.uuid.int}"

    documents = {}
    for d in Document.objects.of(person).exclude(status=DocumentStatus.DELETED).select_related(
            "replaces", "folder", "submission_set"):
        marks = {(seconds(m.read_at), m.pinned) for m in DocumentMark.objects.filter(document=d, reader=person)}
        s = d.submission_set
        documents[uid(d)] = {
            "what": (d.type_code, d.type_system, d.class_code, d.category, d.title, d.act_date),
            "who": (d.source, d.author_kind, d.author_label, d.author_identifier, d.author_person_id == person.pk),
            "bytes": (d.format, d.mime_type, d.format_code, d.filename, d.size, d.sha256, vault.read_bytes(d.blob)),
            "details": (d.details.get("cda"), sender_xds(d)),
            "lifecycle": (d.status, uid(d.replaces) if d.replaces else None, seconds(d.created_at), d.version),
            "confidentiality": (d.masked_to_professionals, d.masked_by_holder, d.hidden_from_representatives,
                                d.invisible_to_holder and (d.invisible_to_holder_until is None
                                                           or d.invisible_to_holder_until > dt.date.today())),
            "xds": (d.practice_setting_code, d.facility_type_code, d.event_codes, d.archived,
                    sorted(d.xds_folders.values_list("unique_id", flat=True))),
            "submission_set": (s.unique_id, s.source_id, s.title, s.author_identifier, seconds(s.submitted_at))
            if s else None,
            "folder": d.folder.name if d.folder else None,
            "marks": marks,
            "iti67": as_served(d),
        }
    folders = {(f.name, seconds(f.created_at)) for f in Folder.objects.filter(person=person)}
    xds_folders = {(f.unique_id, f.title, str(f.codes), f.status, f.author_identifier, seconds(f.created_at),
                    seconds(f.updated_at), f.version) for f in XdsFolder.objects.filter(person=person)}
    return {"documents": documents, "folders": folders, "xds_folders": xds_folders}


def exported(account, person, django_capture_on_commit_callbacks, tmp_path):
    export = ready_export(account, django_capture_on_commit_callbacks)
    assert export.status == ExportStatus.READY
    archive = download(person, export)
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as copy:  # the very bytes the holder downloads
        for info in archive.infolist():
            copy.writestr(info, archive.read(info))
    return export, path


def emptied(person, export) -> None:
    """The same person with nothing of their record left (what an empty database holds)."""
    Document.objects.of(person).delete()
    Folder.objects.filter(person=person).delete()
    XdsFolder.objects.filter(person=person).delete()
    SubmissionSet.objects.filter(person=person).delete()
    Blob.objects.filter(person=person).exclude(pk=export.blob_id).delete()
    assert not DocumentMark.objects.filter(person=person).exists()


def rows(person) -> tuple[int, ...]:
    return (Document.objects.of(person).count(), Folder.objects.filter(person=person).count(),
            XdsFolder.objects.filter(person=person).count(), SubmissionSet.objects.filter(person=person).count(),
            XdsFolder.documents.through.objects.filter(xdsfolder__person=person).count(),
            DocumentMark.objects.filter(person=person).count(), Blob.objects.filter(person=person).count())


def test_every_field_survives_export_then_import(full_space, django_capture_on_commit_callbacks, tmp_path):
    account, person = full_space
    before = snapshot(person)
    sources = {d["who"][0] for d in before["documents"].values()}
    assert sources == {DocumentSource.PROFESSIONAL, DocumentSource.HOLDER, DocumentSource.INSURER}
    assert {d["who"][1] for d in before["documents"].values()} == set(AuthorKind.values) - {AuthorKind.APP}
    assert len(before["documents"]) == 8  # the deleted one is not exported: its content was erased
    export, path = exported(account, person, django_capture_on_commit_callbacks, tmp_path)
    emptied(person, export)
    # The holder now wants new documents masked: imported ones keep the masking they had.
    RecordSettings.objects.update_or_create(person=person, defaults={"new_documents_masked": True})

    report = import_dmp(path)
    assert {o.outcome for o in report.outcomes} == {IMPORTED}, report.csv()
    after = snapshot(person)
    for unique_id, fields in before["documents"].items():
        for name, value in fields.items():
            assert after["documents"][unique_id][name] == value, (unique_id, name)
    assert after == before


def test_a_document_in_an_xds_folder_comes_back_in_the_same_folder(full_space, django_capture_on_commit_callbacks,
                                                                   tmp_path):
    account, person = full_space
    export, path = exported(account, person, django_capture_on_commit_callbacks, tmp_path)
    emptied(person, export)
    import_dmp(path)
    folder = XdsFolder.objects.get(person=person, unique_id=FOLDER_ID)
    assert sorted(folder.documents.values_list("unique_id", flat=True)) == ["1.2.250.1.999.1.1", "1.2.250.1.999.1.2"]
    assert folder.title == "Classeur de suivi diabète"
    assert set(Folder.objects.filter(person=person).values_list("name", flat=True)) == {"Ordonnances", "Vide"}


def test_reimporting_the_export_adds_nothing(full_space, django_capture_on_commit_callbacks, tmp_path):
    account, person = full_space
    export, path = exported(account, person, django_capture_on_commit_callbacks, tmp_path)
    emptied(person, export)
    import_dmp(path)
    counted = rows(person)
    assert {o.outcome for o in import_dmp(path).outcomes} == {ALREADY_PRESENT}
    assert rows(person) == counted


def test_the_folders_are_standard_xds_folders(full_space, django_capture_on_commit_callbacks, tmp_path):
    """Any XDM reader sees the folders: RegistryPackages classified as Folder, with uniqueId, patientId, title and
    codeList, their documents linked by HasMember associations (ITI TF-3 §4.2.3.4, §4.3.1.2.3)."""
    account, person = full_space
    _export, path = exported(account, person, django_capture_on_commit_callbacks, tmp_path)
    with zipfile.ZipFile(path) as archive:
        root = etree.fromstring(archive.read("IHE_XDM/SUBSET01/METADATA.XML"))
    ns = {"rim": RIM}
    folder_ids = {c.get("classifiedObject") for c in root.iterfind(".//rim:Classification", ns)
                  if c.get("classificationNode") == FOLDER_NODE}
    assert len(folder_ids) == 3  # the XDS Folder and the holder's two folders
    titles = {p.find("rim:Name/rim:LocalizedString", ns).get("value") for p in root.iterfind(".//rim:RegistryPackage",
                                                                                               ns)
              if p.get("id") in folder_ids}
    assert titles == {"Classeur de suivi diabète", "Ordonnances", "Vide"}
    links = [a for a in root.iterfind(".//rim:Association", ns) if a.get("sourceObject") in folder_ids]
    assert len(links) == 4  # two documents in the XDS Folder, two versions in "Ordonnances"
    with open_archive(path) as media:
        assert {f.title for f in media.folders} == titles
        assert all(f.codes for f in media.folders)


def test_the_fhir_bundle_has_the_submission_sets_and_folders_as_lists(full_space, django_capture_on_commit_callbacks,
                                                                      tmp_path):
    account, person = full_space
    _export, path = exported(account, person, django_capture_on_commit_callbacks, tmp_path)
    with zipfile.ZipFile(path) as archive:
        bundle = json.loads(archive.read("FHIR/ESPACE01.json"))
    get_fhir_model_class("Bundle").model_validate(bundle)
    lists = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "List"]
    for resource in lists:
        assert_valid_fhir(resource)
    by_title = {r.get("title"): r for r in lists}
    kinds = sorted(r["code"]["coding"][0]["code"] for r in lists)
    assert kinds == ["folder", "folder", "folder", "submissionset", "submissionset"]
    uuids = {d.unique_id: str(d.uuid) for d in Document.objects.of(person)}
    folder = by_title["Classeur de suivi diabète"]
    assert {e["item"]["reference"] for e in folder["entry"]} == {
        f"DocumentReference/{uuids['1.2.250.1.999.1.1']}", f"DocumentReference/{uuids['1.2.250.1.999.1.2']}"}
    assert len(by_title["Ordonnances"]["entry"]) == 2 and by_title["Vide"]["entry"] == []
    references = {e["fullUrl"].rsplit("/", 2)[-2] + "/" + e["fullUrl"].rsplit("/", 1)[-1] for e in bundle["entry"]}
    for resource in lists:  # every entry points at a resource of the Bundle
        assert {e["item"]["reference"] for e in resource["entry"]} <= references


def without_carnet_slots(path, out):
    """The same media as an XDS system that knows nothing of Carnet would write it: every urn:carnet:* slot gone."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as copy:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("METADATA.XML"):
                root = etree.fromstring(data)
                for slot in root.iterfind(f".//{{{RIM}}}Slot"):
                    if slot.get("name", "").startswith("urn:carnet:"):
                        slot.getparent().remove(slot)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
                assert b"urn:carnet:source" not in data
            copy.writestr(info, data)
    return out


def test_an_export_without_carnet_slots_imports_as_dmp_content(full_space, django_capture_on_commit_callbacks,
                                                               tmp_path):
    """Read by the standard part alone, as any DMP archive: source "migration", standard metadata and XDS Folders
    kept (the holder's folders then read as XDS Folders), no marks."""
    account, person = full_space
    before = snapshot(person)
    export, path = exported(account, person, django_capture_on_commit_callbacks, tmp_path)
    plain = without_carnet_slots(path, tmp_path / "plain.zip")
    emptied(person, export)
    report = import_dmp(plain)
    assert {o.outcome for o in report.outcomes} == {IMPORTED}, report.csv()
    after = snapshot(person)
    assert set(after["documents"]) == set(before["documents"])
    for unique_id, fields in after["documents"].items():
        assert fields["who"][0] == DocumentSource.MIGRATION
        assert fields["bytes"][5:] == before["documents"][unique_id]["bytes"][5:]  # sha256 and the bytes
        assert fields["xds"][:3] == before["documents"][unique_id]["xds"][:3]  # practice, facility, events
        assert fields["marks"] == set() and fields["folder"] is None
    assert after["folders"] == set()
    assert {f[1] for f in after["xds_folders"]} == {"Classeur de suivi diabète", "Ordonnances", "Vide"}


def test_a_crashed_import_of_the_export_completes_on_rerun(full_space, django_capture_on_commit_callbacks, tmp_path,
                                                           monkeypatch):
    """The third document's transaction fails (its folder links, marks and submission set with it); the re-run
    completes the space, every field as exported."""
    account, person = full_space
    before = snapshot(person)
    export, path = exported(account, person, django_capture_on_commit_callbacks, tmp_path)
    emptied(person, export)
    real_store, calls = record_actions.vault.store_with_row, []

    def failing_store(*args, **kwargs):
        row = real_store(*args, **kwargs)
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("simulated crash")
        return row

    monkeypatch.setattr(record_actions.vault, "store_with_row", failing_store)
    with pytest.raises(RuntimeError):
        import_dmp(path)
    assert Document.objects.of(person).count() == 2
    monkeypatch.setattr(record_actions.vault, "store_with_row", real_store)
    outcomes = [o.outcome for o in import_dmp(path).outcomes]
    assert outcomes.count(ALREADY_PRESENT) == 2 and outcomes.count(IMPORTED) == 6
    assert snapshot(person) == before


def test_a_standard_folder_of_a_dmp_archive_is_kept(family, tmp_path):
    """XDM media from another system (no Carnet slot), one XDS Folder without its own patientId: the document is
    DMP content ("migration") and joins the folder, which takes its document's patient; a second run adds
    nothing."""
    person = family.holder(nir=INS_241).person
    data = reportlab_pdf("Compte rendu")
    path = tmp_path / "dmp.zip"
    patient = cx(INS_241, "1.2.250.1.213.1.4.8")
    with zipfile.ZipFile(path, "w") as media:
        writer = XdmZipWriter(media)
        size, sha1 = writer.add_document("SUBSET01", "DOC00001.PDF", [data])
        entry = XdmEntry(entry_id="Document00001", unique_id="1.2.250.1.999.60.1", patient_id=patient,
                         mime_type="application/pdf", title="Compte rendu", creation_time="20200102030405",
                         type=Code("11490-0", "2.16.840.1.113883.6.1"), class_code=None, format=None,
                         uri="DOC00001.PDF", hash=sha1, size=size, folders=("Folder00001",),
                         author_person=xcn(family="MULLER", given="Charles", rpps="01234567897"))
        folder = XdmFolder("Folder00001", "1.2.250.1.999.60.9", "", "Suivi cardiologique",
                           (Code("11490-0", "2.16.840.1.113883.6.1", "Lettre de sortie"),), "20200102030405")
        writer.add_metadata("SUBSET01", Submission("1.2.250.1.999.60", "1.2.250.1.999", patient, "20200102030405"),
                            [entry], [folder])
    assert [o.outcome for o in import_dmp(path).outcomes] == [IMPORTED]
    document = Document.objects.get(person=person, unique_id="1.2.250.1.999.60.1")
    assert (document.source, document.author_kind, document.author_identifier) == (
        DocumentSource.MIGRATION, AuthorKind.PROFESSIONAL, "01234567897")
    stored = XdsFolder.objects.get(person=person, unique_id="1.2.250.1.999.60.9")
    assert (stored.title, list(stored.documents.all())) == ("Suivi cardiologique", [document])
    assert stored.codes == [{"system": "2.16.840.1.113883.6.1", "code": "11490-0", "display": "Lettre de sortie"}]
    assert stored.updated_at == dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert [o.outcome for o in import_dmp(path).outcomes] == [ALREADY_PRESENT]
    assert XdsFolder.objects.filter(person=person).count() == 1 and stored.documents.count() == 1
