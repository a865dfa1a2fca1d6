"""DocumentReference read and search: mapping, filters, paging, visibility for representatives."""

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from carnet.record import actions
from carnet.record.models import Document
from carnet.sharing.models import AccessEvent

from .conftest import add_pdf, fhir_json

pytestmark = pytest.mark.django_db
PARIS = dt.timezone(dt.timedelta(hours=1))


def ids(bundle) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def link(bundle, relation: str) -> str | None:
    return next((item["url"] for item in bundle["link"] if item["relation"] == relation), None)


@pytest.fixture
def holder(family):
    return family.holder()


def test_read_maps_the_document_metadata(holder, client_for):
    person = holder.person
    document = add_pdf(person, person, type_code="11488-4", title="Compte rendu de consultation",
                       act_date=dt.datetime(2024, 3, 5, 10, 0, tzinfo=dt.UTC))

    resource = fhir_json(client_for(holder).get(f"/fhir/DocumentReference/{document.uuid}"))

    assert resource["id"] == str(document.uuid)
    assert resource["status"] == "current"
    assert resource["type"]["coding"][0]["system"] == "http://loinc.org"
    assert resource["type"]["coding"][0]["code"] == "11488-4"
    assert resource["category"][0]["coding"][0] == {
        "system": "urn:oid:1.2.250.1.213.1.1.4.1", "code": "10", "display": "Compte rendu"}
    assert resource["subject"] == {"reference": f"Patient/{person.uuid}"}
    assert resource["securityLabel"] == [{"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N", "display": "normal"}]}]
    attachment = resource["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert attachment["size"] == document.size
    assert attachment["url"] == f"Binary/{document.uuid}"
    assert attachment["extension"][0]["valueString"] == document.sha256
    assert "hash" not in attachment
    assert resource["content"][0]["format"]["code"] == "urn:ihe:iti:xds-sd:pdf:2008"
    assert resource["context"]["period"]["start"].startswith("2024-03-05T10:00:00")
    assert resource["meta"]["versionId"] == "1"


def test_a_document_from_the_patient_types_uses_the_cisis_oid(holder, client_for):
    document = add_pdf(holder.person, holder.person, type_code="DOCPAT03")
    resource = fhir_json(client_for(holder).get(f"/fhir/DocumentReference/{document.uuid}"))
    assert resource["type"]["coding"][0]["system"] == "urn:oid:1.2.250.1.213.1.1.4.12"


def test_confidentiality_flags_become_cisis_security_labels(holder, client_for):
    person = holder.person
    document = add_pdf(person, person, masked=True, hidden_from_representatives=True)

    resource = fhir_json(client_for(holder).get(f"/fhir/DocumentReference/{document.uuid}"))

    assert [(c["coding"][0]["system"], c["coding"][0]["code"]) for c in resource["securityLabel"]] == [
        ("urn:oid:1.2.250.1.213.1.1.4.13", "MASQUE_PS"),
        ("urn:oid:1.2.250.1.213.1.1.4.13", "INVISIBLE_REPRESENTANTS_LEGAUX"),
    ]


def test_a_new_version_relates_to_the_one_it_replaces(holder, client_for):
    person = holder.person
    first = add_pdf(person, person, text="v1")
    second = add_pdf(person, person, text="v2", replaces=first)
    client = client_for(holder)

    resource = fhir_json(client.get(f"/fhir/DocumentReference/{second.uuid}"))
    old = fhir_json(client.get(f"/fhir/DocumentReference/{first.uuid}"))

    assert resource["relatesTo"] == [{"code": "replaces", "target": {"reference": f"DocumentReference/{first.uuid}"}}]
    assert old["status"] == "superseded"
    current = fhir_json(client.get("/fhir/DocumentReference", {"status": "current"}))
    assert ids(current) == [str(second.uuid)]
    assert set(ids(fhir_json(client.get("/fhir/DocumentReference")))) == {str(first.uuid), str(second.uuid)}
    assert ids(fhir_json(client.get("/fhir/DocumentReference", {"status": "superseded"}))) == [str(first.uuid)]


def test_a_deleted_document_is_never_returned(holder, client_for):
    person = holder.person
    document = add_pdf(person, person)
    actions.delete_document(person, person, document)
    client = client_for(holder)

    assert client.get(f"/fhir/DocumentReference/{document.uuid}").status_code == 404
    assert fhir_json(client.get("/fhir/DocumentReference", {"status": "deleted"}))["total"] == 0
    assert fhir_json(client.get("/fhir/DocumentReference"))["total"] == 0


def test_search_by_type_and_category(holder, client_for):
    person = holder.person
    report = add_pdf(person, person, type_code="11488-4")  # CR de consultation, class 10
    lab = add_pdf(person, person, type_code="DOCPAT05", text="bio")  # patient's lab report: Biologie
    client = client_for(holder)

    def search(**params):
        return ids(fhir_json(client.get("/fhir/DocumentReference", params)))

    assert search(type="http://loinc.org|11488-4") == [str(report.uuid)]
    assert search(type="11488-4") == [str(report.uuid)]
    assert search(type="urn:oid:1.2.250.1.213.1.1.4.12|DOCPAT05") == [str(lab.uuid)]
    assert search(type="http://loinc.org|DOCPAT05") == []
    assert set(search(type="11488-4,DOCPAT05")) == {str(report.uuid), str(lab.uuid)}
    assert search(category="https://carnet.sante.fr/fhir/CodeSystem/document-category|BIOLOGIE") == [str(lab.uuid)]
    assert set(search(category="urn:oid:1.2.250.1.213.1.1.4.1|10")) == {str(report.uuid), str(lab.uuid)}
    assert search(category="BIOLOGIE", type="11488-4") == []


def test_search_by_date_range_and_last_updated(holder, client_for):
    person = holder.person
    old, recent = add_pdf(person, person, text="old"), add_pdf(person, person, text="recent")
    Document.objects.filter(pk=old.pk).update(created_at=dt.datetime(2023, 6, 15, 12, tzinfo=dt.UTC),
                                              updated_at=dt.datetime(2023, 6, 15, 12, tzinfo=dt.UTC))
    Document.objects.filter(pk=recent.pk).update(created_at=dt.datetime(2025, 1, 1, 0, 30, tzinfo=PARIS))
    client = client_for(holder)

    def search(params):
        return ids(fhir_json(client.get("/fhir/DocumentReference", params)))

    assert search({"date": "2023"}) == [str(old.uuid)]
    assert search({"date": "2023-06"}) == [str(old.uuid)]
    assert search({"date": ["ge2023-01-01", "le2023-12-31"]}) == [str(old.uuid)]
    assert search({"date": "gt2023"}) == [str(recent.uuid)]
    assert search({"date": "lt2024-01-01T00:00:00Z"}) == [str(old.uuid)]
    assert search({"date": "2025-01-01"}) == [str(recent.uuid)]  # 00:30 in Paris is still New Year's Day
    assert search({"date": "eq2024-12-31"}) == []
    assert search({"_lastUpdated": "lt2024"}) == [str(old.uuid)]
    assert search({"_lastUpdated": f"ge{timezone.now().date().isoformat()}"}) == [str(recent.uuid)]


def test_count_and_next_links_page_through_everything(holder, client_for):
    person = holder.person
    made = [add_pdf(person, person, text=f"doc {n}") for n in range(5)]
    client = client_for(holder)

    first = fhir_json(client.get("/fhir/DocumentReference", {"_count": "2", "type": "DOCPAT03"}))
    assert first["total"] == 5 and len(ids(first)) == 2
    assert link(first, "previous") is None
    seen, page, pages = ids(first), first, 1
    while link(page, "next"):
        url = urlparse(link(page, "next"))
        assert url.path == "/fhir/DocumentReference"
        query = parse_qs(url.query)
        assert query["type"] == ["DOCPAT03"] and query["_count"] == ["2"]
        page = fhir_json(client.get(url.path, {k: v for k, v in query.items()}))
        assert link(page, "previous")
        seen += ids(page)
        pages += 1
    assert pages == 3
    assert seen == [str(d.uuid) for d in reversed(made)]  # newest first, each once


def test_count_is_capped_and_zero_returns_only_the_total(holder, client_for):
    add_pdf(holder.person, holder.person)
    client = client_for(holder)
    bundle = fhir_json(client.get("/fhir/DocumentReference", {"_count": "0"}))
    assert bundle["total"] == 1 and "entry" not in bundle
    capped = fhir_json(client.get("/fhir/DocumentReference", {"_count": "5000"}))
    assert "_count=200" in link(capped, "self")


def test_a_document_hidden_from_representatives_is_not_returned_to_a_representative(represented_child, client_for):
    parent, child = represented_child
    shown = add_pdf(parent.person, child, text="visible")
    hidden = add_pdf(None, child, text="hidden", hidden_from_representatives=True)
    client = client_for(parent)

    bundle = fhir_json(client.get("/fhir/DocumentReference", {"patient": f"Patient/{child.uuid}"}))
    bare = fhir_json(client.get("/fhir/DocumentReference", {"patient": str(child.uuid)}))

    assert ids(bundle) == ids(bare) == [str(shown.uuid)]
    assert client.get(f"/fhir/DocumentReference/{hidden.uuid}").status_code == 404
    assert client.get(f"/fhir/Binary/{hidden.uuid}").status_code == 404
    assert AccessEvent.objects.filter(person=child, actor=parent.person, action="record.read").exists()
    own = fhir_json(client.get("/fhir/DocumentReference"))
    assert own["total"] == 0  # without `patient`: the parent's own space


def test_an_unrelated_persons_documents_are_a_404_and_the_denial_recorded(family, client_for):
    owner, stranger = family.holder(), family.holder()
    document = add_pdf(owner.person, owner.person)
    client = client_for(stranger)

    read = client.get(f"/fhir/DocumentReference/{document.uuid}")
    search = client.get("/fhir/DocumentReference", {"patient": f"Patient/{owner.person.uuid}"})
    unknown = client.get("/fhir/DocumentReference", {"patient": "Patient/00000000-0000-4000-8000-000000000000"})

    assert read.status_code == search.status_code == unknown.status_code == 404
    assert fhir_json(search) == fhir_json(unknown)
    fhir_json(read)
    denials = AccessEvent.objects.filter(person=owner.person, actor=stranger.person, allowed=False)
    assert denials.count() == 2
    assert denials.filter(subject=f"document:{document.uuid}").exists()


def test_search_queries_do_not_grow_with_the_page(holder, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    person = holder.person
    client = client_for(holder)
    add_pdf(person, person, text="one")
    client.get("/fhir/DocumentReference")  # warm caches (token touch, terminology)
    with CaptureQueriesContext(connection) as small:
        client.get("/fhir/DocumentReference")
    for n in range(6):
        add_pdf(person, person, text=f"more {n}")
    with CaptureQueriesContext(connection) as large:
        bundle = fhir_json(client.get("/fhir/DocumentReference"))
    assert bundle["total"] == 7
    assert len(large.captured_queries) == len(small.captured_queries)
