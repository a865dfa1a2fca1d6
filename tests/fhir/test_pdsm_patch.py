"""PDSm metadata update: JSON Patch on a DocumentReference (by id, or conditional on its identifier) that may change
only status, securityLabel (masking) and the is-archived extension; each patch a new version and an access event.

Material: a document filed through ITI-65 from the CI-SIS 3.0 CDA BIO-TROD_2024.01_Cystite.xml
(/work/shared/samples/cda/ci-sis-3.0/), with the PDSm shapes of pdsm_bundles.py.
"""

import pytest

from carnet.record import actions as record_actions
from carnet.record.enums import DocumentStatus
from carnet.record.models import Document
from carnet.sharing.models import AccessEvent, Block, Professional
from carnet.sharing.tokens import issue_professional_token

from . import pdsm_bundles as pdsm
from .pdsm_bundles import WriteClient, reason

pytestmark = pytest.mark.django_db
CONDITIONAL = "/fhir/DocumentReference?identifier=urn:ietf:rfc:3986|urn:oid:1.2.250.1.999.1.1"


@pytest.fixture
def document(software, holder) -> Document:
    assert software.post("/fhir/", pdsm.cda_bundle()).status_code == 200
    return Document.objects.get(person=holder)


def label(code: str) -> dict:
    system = pdsm.V3_CONF if code == "N" else pdsm.VISIBILITY
    return {"coding": [{"system": system, "code": code}]}


def test_masking_by_id_is_a_new_version_and_an_access_event(software, document, author):
    response = software.patch(f"/fhir/DocumentReference/{document.uuid}",
                              [{"op": "replace", "path": "/securityLabel", "value": [label("MASQUE_PS")]}])
    assert response.status_code == 200, response.data
    assert response.data["meta"]["versionId"] == "2" and response["ETag"] == 'W/"2"'
    document.refresh_from_db()
    assert document.masked_to_professionals and document.version == 2
    assert document.details["xds"]["security_labels"] == ["MASQUE_PS"]
    event = AccessEvent.objects.get(person=document.person, action="document.update_metadata")
    assert event.professional == author and event.subject == f"document:{document.uuid}"


def test_conditional_patch_on_the_identifier_sets_every_visibility_then_back_to_normal(software, document):
    hide = [{"op": "replace", "path": "/securityLabel",
             "value": [label("INVISIBLE_PATIENT"), label("INVISIBLE_REPRESENTANTS_LEGAUX")]}]
    assert software.patch(CONDITIONAL, hide).status_code == 200
    document.refresh_from_db()
    assert document.invisible_to_holder and document.invisible_to_holder_until is not None
    assert document.hidden_from_representatives and not document.masked_to_professionals
    back = software.patch(CONDITIONAL, [{"op": "replace", "path": "/securityLabel", "value": [label("N")]}])
    assert back.status_code == 200 and back.data["meta"]["versionId"] == "3"
    document.refresh_from_db()
    assert not (document.invisible_to_holder or document.hidden_from_representatives
                or document.masked_to_professionals)
    assert document.invisible_to_holder_until is None


def test_adding_one_label_with_a_json_pointer_into_the_list(software, document):
    response = software.patch(CONDITIONAL, [{"op": "add", "path": "/securityLabel/-", "value": label("MASQUE_PS")}])
    assert response.status_code == 200, response.data
    document.refresh_from_db()
    assert document.masked_to_professionals


def test_the_author_lifts_their_own_mask_but_not_the_holders(software, document, holder):
    """The holder manages their space: a mask they chose stays whatever the author's software patches."""
    to_normal = [{"op": "replace", "path": "/securityLabel", "value": [label("N")]}]
    assert software.patch(CONDITIONAL, [{"op": "replace", "path": "/securityLabel",
                                         "value": [label("MASQUE_PS")]}]).status_code == 200
    assert software.patch(CONDITIONAL, to_normal).status_code == 200
    document.refresh_from_db()
    assert not document.masked_to_professionals  # the author's own mask: theirs to lift

    record_actions.set_confidentiality(holder, holder, document, masked=True)
    response = software.patch(CONDITIONAL, [*to_normal, {"op": "replace", "path": "/status", "value": "superseded"}])
    assert response.status_code == 200, response.data
    assert "MASQUE_PS" in {c["code"] for lab in response.data["securityLabel"] for c in lab["coding"]}
    document.refresh_from_db()
    assert document.masked_to_professionals and document.masked_by_holder  # the holder's mask stays
    assert document.status == DocumentStatus.SUPERSEDED  # the rest of the patch applies


def test_a_holder_masking_new_documents_keeps_them_masked_and_the_next_version_too(software, holder):
    record_actions.set_confidentiality_defaults(holder, holder, new_documents_masked=True, care_history_masked=False)
    assert software.post("/fhir/", pdsm.cda_bundle()).status_code == 200
    first = Document.objects.get(person=holder)
    assert first.masked_to_professionals and first.masked_by_holder
    assert software.patch(CONDITIONAL, [{"op": "replace", "path": "/securityLabel",
                                         "value": [label("N")]}]).status_code == 200
    first.refresh_from_db()
    assert first.masked_to_professionals
    record_actions.set_confidentiality_defaults(holder, holder, new_documents_masked=False, care_history_masked=False)
    record_actions.set_confidentiality(holder, holder, first, masked=True)  # masked by the holder, default off
    content = pdsm.TROD_CDA.read_bytes().replace(b"Cystite", b"Cystite.")
    reference = pdsm.document_reference(content, unique_id="1.2.250.1.999.1.2",
                                        replaces=f"DocumentReference/{first.uuid}")
    response = software.post("/fhir/", pdsm.bundle([(reference, content)], unique_id="urn:oid:1.2.250.1.999.3"))
    assert response.status_code == 200, response.data
    second = Document.objects.get(person=holder, unique_id="1.2.250.1.999.1.2")
    assert second.masked_to_professionals and second.masked_by_holder


def test_archiving_and_status(software, document):
    response = software.patch(CONDITIONAL, [
        {"op": "test", "path": "/status", "value": "current"},
        {"op": "replace", "path": "/status", "value": "superseded"},
        {"op": "replace", "path": "/extension/0/valueBoolean", "value": True},
    ])
    assert response.status_code == 200, response.data
    assert response.data["extension"] == [{"url": pdsm.IS_ARCHIVED, "valueBoolean": True}]
    document.refresh_from_db()
    assert document.archived and document.status == DocumentStatus.SUPERSEDED


@pytest.mark.parametrize("operation", [
    {"op": "replace", "path": "/description", "value": "autre chose"},
    {"op": "replace", "path": "/type/coding/0/code", "value": "34133-9"},
    {"op": "remove", "path": "/masterIdentifier"},
    {"op": "add", "path": "/extension/-", "value": {"url": "https://example.org/x", "valueString": "y"}},
])
def test_anything_else_is_a_405_and_changes_nothing(software, document, operation):
    response = software.patch(CONDITIONAL, [operation])
    assert response.status_code == 405 and response.data["resourceType"] == "OperationOutcome"
    refreshed = Document.objects.get(pk=document.pk)
    assert refreshed.version == 1 and refreshed.title == document.title and refreshed.type_code == "96173-0"


@pytest.mark.parametrize(("operations", "status"), [
    ([{"op": "test", "path": "/status", "value": "superseded"}], 422),  # a failing test
    ([{"op": "replace", "path": "/status", "value": "entered-in-error"}], 422),  # not a status we keep
    ([{"op": "replace", "path": "/securityLabel", "value": [label("SECRET")]}], 422),  # outside JDV_J08
    ([{"op": "move", "from": "/status", "path": "/date"}], 400),
    ({"op": "replace"}, 400),  # not a list
])
def test_bad_patches_are_refused_with_nothing_changed(software, document, operations, status):
    response = software.patch(CONDITIONAL, operations)
    assert response.status_code == status, response.data
    assert Document.objects.get(pk=document.pk).version == 1


def test_only_the_author_may_patch(document, holder):
    other = Professional.objects.create(rpps="30000000999", family_name="Autre", given_names="Paul",
                                        profession_code="10")
    _row, token = issue_professional_token(other)
    response = WriteClient(token).patch(CONDITIONAL, [{"op": "replace", "path": "/status", "value": "superseded"}])
    assert response.status_code == 403 and reason(response) == "not_author"
    assert AccessEvent.objects.filter(person=holder, professional=other, allowed=False, reason="not_author").exists()
    assert Document.objects.get(pk=document.pk).version == 1


def test_a_blocked_author_may_not_patch(software, document, holder, author):
    Block.objects.create(person=holder, professional=author)
    response = software.patch(CONDITIONAL, [{"op": "replace", "path": "/status", "value": "superseded"}])
    assert response.status_code == 403 and reason(response) == "blocked"


def test_if_match_on_an_older_version_is_a_412(software, document):
    response = software.patch(CONDITIONAL, [{"op": "replace", "path": "/status", "value": "superseded"}],
                              headers={"If-Match": 'W/"7"'})
    assert response.status_code == 412
    ok = software.patch(CONDITIONAL, [{"op": "replace", "path": "/status", "value": "superseded"}],
                        headers={"If-Match": 'W/"1"'})
    assert ok.status_code == 200


def test_wrong_media_type_unknown_identifier_and_holder_token(software, document, client_for, family):
    assert software.patch(CONDITIONAL, [], content_type="application/fhir+json").status_code == 415
    unknown = software.patch("/fhir/DocumentReference?identifier=urn:oid:1.2.3.4",
                             [{"op": "replace", "path": "/status", "value": "superseded"}])
    assert unknown.status_code == 404
    missing = software.patch("/fhir/DocumentReference", [{"op": "replace", "path": "/status", "value": "current"}])
    assert missing.status_code == 400
    account = family.holder()
    holder_client = WriteClient(client_for(account).token)
    refused = holder_client.patch(f"/fhir/DocumentReference/{document.uuid}",
                                  [{"op": "replace", "path": "/status", "value": "superseded"}])
    assert refused.status_code == 403 and Document.objects.get(pk=document.pk).version == 1


def test_a_replaced_document_cannot_become_current_again(software, document, holder):
    content = pdsm.TROD_CDA.read_bytes().replace(b"Cystite", b"Cystite.")
    reference = pdsm.document_reference(content, unique_id="1.2.250.1.999.1.9",
                                        replaces=f"DocumentReference/{document.uuid}")
    assert software.post("/fhir/", pdsm.bundle([(reference, content)],
                                               unique_id="urn:oid:1.2.250.1.999.9")).status_code == 200
    response = software.patch(f"/fhir/DocumentReference/{document.uuid}",
                              [{"op": "replace", "path": "/status", "value": "current"}])
    assert response.status_code == 422 and response.data["issue"][0]["expression"] == ["status"]
    document.refresh_from_db()
    assert document.status == DocumentStatus.SUPERSEDED and document.version == 1
