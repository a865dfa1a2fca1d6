"""The holder's export (carnet/export): the XDM part read back by `import_dmp` (lossless round trip), the FHIR
Bundle checked by fhir.resources R4B, the PDF read by pypdf, and the rules: re-authentication, representatives,
caregivers, download by the requester only, expiry purge, an email without content.

Real material: the ci-sis-2.41 examples VAC-NOTE_2021.01.xml and CR-BIO_2021.01_Electrophorese.xml from
../shared/samples (see conftest.py), PDFs made with reportlab."""

import base64
import datetime as dt
import hashlib
import io
import json
import zipfile

import pytest
import time_machine
from django.core.management import call_command
from fhir.resources.R4B import get_fhir_model_class
from pypdf import PdfReader

from carnet.caregivers import actions as caregiver_actions
from carnet.export import actions as export_actions
from carnet.export.actions import ExportError
from carnet.export.enums import ExportStatus
from carnet.export.models import Export
from carnet.identity.enums import RepresentationKind, RepresentationStatus, SpaceStatus
from carnet.identity.models import Representation
from carnet.notifications.models import OutboundMessage
from carnet.record import actions as record_actions
from carnet.record.dmp_import import IMPORTED, import_dmp
from carnet.record.enums import DocumentStatus
from carnet.record.models import Document
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import PolicyDenied
from carnet.vault import services as vault
from carnet.vault.models import Blob
from tests.conftest import PASSWORD
from tests.export.conftest import download, ready_export
from tests.fhir.conftest import assert_valid_fhir
from tests.interop.builders import reportlab_pdf

pytestmark = pytest.mark.django_db


def snapshot(person) -> dict[str, tuple]:
    """What must survive the round trip, by uniqueId (the export gives one to documents filed without)."""
    out = {}
    for d in Document.objects.of(person).exclude(status=DocumentStatus.DELETED).select_related("replaces"):
        unique = d.unique_id or f"2.25.{d.uuid.int}"
        replaced = (d.replaces.unique_id or f"2.25.{d.replaces.uuid.int}") if d.replaces else None
        out[unique] = (d.sha256, d.size, d.mime_type, d.type_code, d.class_code, d.title, d.act_date, d.author_label,
                       d.author_identifier, d.masked_to_professionals, d.hidden_from_representatives, d.status,
                       replaced, vault.read_bytes(d.blob))
    return out


def test_round_trip_through_import_dmp_is_lossless(space, django_capture_on_commit_callbacks, tmp_path):
    account, person, documents = space
    before = snapshot(person)
    assert len(before) == 4
    export = ready_export(account, django_capture_on_commit_callbacks)
    assert export.status == ExportStatus.READY and export.document_count == 4
    archive = download(person, export)
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as copy:  # the very bytes the holder downloads
        for info in archive.infolist():
            copy.writestr(info, archive.read(info))
    # An empty space: the same person, every document and its bytes gone.
    Document.objects.of(person).delete()
    Blob.objects.filter(person=person).exclude(pk=export.blob_id).delete()
    report = import_dmp(path)
    assert [o.outcome for o in report.outcomes] == [IMPORTED] * 4, report.csv()
    assert snapshot(person) == before
    # Imported again: nothing doubles.
    assert {o.outcome for o in import_dmp(path).outcomes} == {"already_present"}
    assert Document.objects.of(person).count() == 4


def test_the_archive_is_xdm_with_sha1_hashes(space, django_capture_on_commit_callbacks):
    account, person, documents = space
    archive = download(person, ready_export(account, django_capture_on_commit_callbacks))
    names = set(archive.namelist())
    assert {"README.TXT", "INDEX.HTM", "IHE_XDM/SUBSET01/METADATA.XML", "FHIR/ESPACE01.json",
            "SYNTHESE/ESPACE01.pdf"} <= names
    metadata = archive.read("IHE_XDM/SUBSET01/METADATA.XML").decode()
    for document in documents:
        data = vault.read_bytes(document.blob)
        assert hashlib.sha1(data).hexdigest() in metadata  # noqa: S324 - XDS hash is SHA-1
    assert "urn:ihe:iti:2007:AssociationType:RPLC" in metadata
    assert f"{person.nir}^^^&amp;1.2.250.1.213.1.4.8&amp;ISO" in metadata


def test_fhir_bundle_is_valid_and_complete(space, django_capture_on_commit_callbacks):
    account, person, documents = space
    record_actions.add_document(person, person, content=reportlab_pdf("x"), filename="x.pdf", type_code="57833-6")
    archive = download(person, ready_export(account, django_capture_on_commit_callbacks))
    bundle = json.loads(archive.read("FHIR/ESPACE01.json"))
    get_fhir_model_class("Bundle").model_validate(bundle)
    assert bundle["type"] == "collection"
    resources = [entry["resource"] for entry in bundle["entry"]]
    for resource in resources:
        assert_valid_fhir(resource)
    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(full_urls) == len(set(full_urls))
    kinds = [r["resourceType"] for r in resources]
    assert kinds[0] == "Patient" and resources[0]["identifier"][0]["value"] == person.ins
    assert kinds.count("DocumentReference") == kinds.count("Binary") == 5
    binaries = {r["id"]: r for r in resources if r["resourceType"] == "Binary"}
    for document in Document.objects.of(person):
        assert base64.b64decode(binaries[str(document.uuid)]["data"]) == vault.read_bytes(document.blob)
    assert {"AllergyIntolerance", "Immunization"} <= set(kinds)
    audit = [r for r in resources if r["resourceType"] == "AuditEvent"]
    built = AccessEvent.objects.filter(person=person).exclude(subject="export:download")  # the download came after
    assert len(audit) == built.count() >= 1  # the export request itself at least


def test_pdf_summary_has_the_sections_in_french(space, django_capture_on_commit_callbacks):
    account, person, _documents = space
    archive = download(person, ready_export(account, django_capture_on_commit_callbacks))
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(archive.read("SYNTHESE/ESPACE01.pdf")))
                     .pages)
    for heading in ("Synthèse de l'espace santé", "Identité", "Profil médical", "Vaccinations", "Documents",
                    "Historique des accès"):
        assert heading in text
    assert person.family_name in text and "Arachide" in text
    assert "Ordonnance du Dr Martin (corrigée)" in text
    assert "Export des données" in text  # the request, in the history


def test_wrong_password_is_refused_and_nothing_is_queued(space):
    account, person, _documents = space
    with pytest.raises(ExportError) as refused:
        export_actions.request_export(account, password="pas le bon")
    assert refused.value.code == "password"
    assert not Export.objects.exists()


def test_five_wrong_passwords_lock_the_export(space):
    account, _person, _documents = space
    for _attempt in range(5):
        with pytest.raises(ExportError):
            export_actions.request_export(account, password="faux")
    with pytest.raises(ExportError) as refused:
        export_actions.request_export(account, password=PASSWORD)
    assert refused.value.code == "locked"


def test_representative_includes_represented_spaces_only_when_chosen(family, django_capture_on_commit_callbacks):
    parent = family.holder()
    child = family.person(age=8, status=SpaceStatus.ACTIVE, parent=parent.person)
    Representation.objects.create(person=child, representative=parent.person,
                                  status=RepresentationStatus.ACCEPTED, kind=RepresentationKind.ATTACHED_PARENT)
    record_actions.add_document(parent.person, child, content=reportlab_pdf("carnet"), filename="c.pdf",
                                type_code="57833-6", title="Certificat")
    hidden = record_actions.add_document(None, child, content=reportlab_pdf("secret"), filename="s.pdf",
                                         type_code="57833-6", title="Consultation confidentielle",
                                         source="professional", hidden_from_representatives=True)
    alone = ready_export(parent, django_capture_on_commit_callbacks)
    assert alone.spaces == [str(parent.person.uuid)]
    assert not any(n.startswith("IHE_XDM/SUBSET02") for n in download(parent.person, alone).namelist())
    both = ready_export(parent, django_capture_on_commit_callbacks, include_represented=True)
    assert both.spaces == [str(parent.person.uuid), str(child.uuid)] and both.document_count == 1
    archive = download(parent.person, both)
    metadata = archive.read("IHE_XDM/SUBSET02/METADATA.XML").decode()
    assert child.nir in metadata
    assert "Certificat" in metadata and hidden.title not in metadata  # hidden from representatives: not theirs
    bundle = json.loads(archive.read("FHIR/ESPACE02.json"))
    ids = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]}
    assert ("DocumentReference", str(hidden.uuid)) not in ids and ("Binary", str(hidden.uuid)) not in ids
    assert hidden.title not in json.dumps(bundle, ensure_ascii=False)
    # The representative's request and download are in the child's history.
    subjects = list(AccessEvent.objects.filter(person=child, actor=parent.person).values_list("subject", "actor_role"))
    assert ("export:request", "representative") in subjects and ("export:download", "representative") in subjects


def test_caregiver_is_refused_and_the_refusal_recorded(family):
    holder, caregiver = family.holder(age=82), family.holder(age=52)
    delegation = caregiver_actions.invite_caregiver(holder.person, holder.person, nir=caregiver.person.nir,
                                                    family_name=caregiver.person.family_name,
                                                    given_name=caregiver.person.first_name,
                                                    birth_date=caregiver.person.birth_date, sworn=True)
    caregiver_actions.respond_to_invitation(caregiver.person, delegation.uuid, accept=True)
    with pytest.raises(PolicyDenied):
        export_actions.request_export(caregiver, holder.person, password=PASSWORD)
    denial = AccessEvent.objects.get(person=holder.person, actor=caregiver.person, action="space.export")
    assert not denial.allowed and denial.actor_role == "caregiver"
    assert not Export.objects.exists()


def test_download_by_someone_else_is_refused_and_recorded(space, family, django_capture_on_commit_callbacks):
    account, person, _documents = space
    export = ready_export(account, django_capture_on_commit_callbacks)
    stranger = family.holder().person
    with pytest.raises(ExportError) as refused:
        export_actions.open_download(stranger, export.uuid)
    assert refused.value.code == "not_found"
    denial = AccessEvent.objects.filter(person=person, actor=stranger).get()
    assert (denial.allowed, denial.subject, denial.action) == (False, "export:download", "space.export")


def test_each_download_is_an_event(space, django_capture_on_commit_callbacks):
    account, person, _documents = space
    export = ready_export(account, django_capture_on_commit_callbacks)
    download(person, export)
    download(person, export)
    assert AccessEvent.objects.filter(person=person, subject="export:download", allowed=True).count() == 2


def test_expired_exports_are_purged_by_the_daily_job(space, django_capture_on_commit_callbacks, settings):
    account, person, _documents = space
    export = ready_export(account, django_capture_on_commit_callbacks)
    name = export.blob.storage_name
    assert vault.storage().exists(name)
    assert export.expires_at - export.ready_at == dt.timedelta(days=settings.CARNET_EXPORT_DAYS)
    with time_machine.travel(export.expires_at - dt.timedelta(minutes=1)):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("daily")
    export.refresh_from_db()
    assert export.status == ExportStatus.READY  # not yet
    with time_machine.travel(export.expires_at + dt.timedelta(minutes=1)):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("daily")
        export.refresh_from_db()
        assert export.status == ExportStatus.EXPIRED and export.blob is None
        assert not vault.storage().exists(name)
        with pytest.raises(ExportError) as refused:
            export_actions.open_download(person, export.uuid)
        assert refused.value.code == "expired"


def test_the_ready_email_says_nothing_of_the_content(space, django_capture_on_commit_callbacks):
    account, person, documents = space
    ready_export(account, django_capture_on_commit_callbacks)
    message = OutboundMessage.objects.filter(recipient=account.email).order_by("-id").first()
    assert message is not None and "export" in message.subject.lower()
    text = message.subject + message.body
    for document in documents:
        assert document.title not in text and str(document.uuid) not in text
    for secret in ("Arachide", person.nir, "ESPACE01", ".zip"):
        assert secret not in text
