"""/fhir/ for professionals' tokens: the holder's sharing policy decides (authorisation, block, matrix,
masking), denials are explicit 403s with a reason code (404 where a space must not be revealed), and
every read and every denial is one access event carrying the professional.

Habilitation cells used (see tests/sharing/test_professional_policy.py): médecin (10) reads 11488-4,
89601-9 and 56445-0, not ATTEST-RESID; infirmier (60) reads 56445-0, not 89601-9.
"""

import base64
import datetime as dt
import itertools
import uuid

import pytest
import time_machine
from django.utils import timezone

from carnet.fhir.http import ACCESS_DECISION_SYSTEM
from carnet.identity.enums import SpaceStatus
from carnet.medical.actions import entries
from carnet.medical.enums import Section
from carnet.record import actions
from carnet.record.actions import Author
from carnet.record.enums import AuthorKind, DocumentSource
from carnet.sharing.models import (
    AccessEvent,
    Authorisation,
    Block,
    CareRole,
    CareTeam,
    CareTeamMember,
    Professional,
)
from carnet.sharing.policy import Action, Role
from carnet.sharing.tokens import issue_professional_token, revoke_professional_token

from .conftest import FhirClient, fhir_json, make_pdf

pytestmark = pytest.mark.django_db
_rpps = itertools.count(20000000001)


def pro(profession: str = "10", **fields) -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name="Martin", given_names="Claire",
                                       profession_code=profession, **fields)


def client_of(professional: Professional, **kwargs) -> FhirClient:
    _row, token = issue_professional_token(professional, **kwargs)
    return FhirClient(token)


def authorise_pro(person, professional, **fields) -> Authorisation:
    return Authorisation.objects.create(person=person, professional=professional, granted_by=person, **fields)


def doc(person, type_code: str, *, masked: bool = False, author_rpps: str = ""):
    return actions.add_document(None, person, content=make_pdf(f"{type_code} {masked} {author_rpps}"),
                                type_code=type_code, source=DocumentSource.PROFESSIONAL, masked=masked,
                                author=Author(AuthorKind.PROFESSIONAL, "Dr Auteur", author_rpps))


def ids(bundle) -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"}


def reason_of(response) -> str:
    issue = fhir_json(response)["issue"][0]
    coding = issue["details"]["coding"][0]
    assert coding["system"] == ACCESS_DECISION_SYSTEM
    assert issue["code"] == "forbidden" and issue["diagnostics"]
    return coding["code"]


def events_of(person, professional) -> list[AccessEvent]:
    return list(AccessEvent.objects.filter(person=person, professional=professional).order_by("sequence"))


@pytest.fixture
def space(family):
    """An active space with documents of several types and flags, and professionals in every situation."""
    person = family.holder().person
    p = {"dr": pro("10"), "dr_mt": pro("10"), "nurse": pro("60"), "dr_none": pro("10"),
         "dr_blocked": pro("10"), "dr_team": pro("10")}
    for name in ("dr", "dr_mt", "nurse", "dr_blocked"):
        authorise_pro(person, p[name])
    CareRole.objects.create(person=person, professional=p["dr_mt"], kind="medecin_traitant")
    Block.objects.create(person=person, professional=p["dr_blocked"], blocked_by=person)
    team = CareTeam.objects.create(name="Maison de santé des Tilleuls")
    CareTeamMember.objects.create(team=team, professional=p["dr_team"])
    Authorisation.objects.create(person=person, care_team=team, granted_by=person)
    d = {
        "consult": doc(person, "11488-4"),
        "masked": doc(person, "11488-4", masked=True),
        "certificate": doc(person, "89601-9"),
        "medication_review": doc(person, "56445-0"),
        "residence": doc(person, "ATTEST-RESID"),
        "by_blocked": doc(person, "11488-4", masked=True, author_rpps=p["dr_blocked"].rpps),
    }
    return person, p, d


# --- authorised reads ------------------------------------------------------------------------------------------


def test_authorised_doctor_lists_what_the_policy_allows_in_one_event(space):
    person, p, d = space
    response = client_of(p["dr"]).get("/fhir/DocumentReference", {"patient": f"Patient/{person.uuid}"})

    assert response.status_code == 200
    bundle = fhir_json(response)
    assert ids(bundle) == {str(d[k].uuid) for k in ("consult", "certificate", "medication_review")}
    assert bundle["total"] == 3
    [event] = events_of(person, p["dr"])  # the search is one event on the space, not one per result
    assert (event.allowed, event.action, event.reason, event.actor_role, event.subject) == (
        True, Action.READ_RECORD, "authorised", Role.PROFESSIONAL, "search:DocumentReference")
    assert event.actor_id is None and event.actor_label == "Claire Martin" and event.channel == "fhir"


def test_search_parameters_apply_as_for_the_holder(space):
    person, p, d = space
    client = client_of(p["dr"])
    bundle = fhir_json(client.get("/fhir/DocumentReference", {"patient": str(person.uuid),
                                                               "type": "http://loinc.org|89601-9"}))
    assert ids(bundle) == {str(d["certificate"].uuid)}
    bundle = fhir_json(client.get("/fhir/DocumentReference", {"patient": str(person.uuid), "_count": "1"}))
    assert (bundle["total"], len(bundle["entry"])) == (3, 1)
    assert client.get("/fhir/DocumentReference", {"patient": str(person.uuid), "color": "red"}).status_code == 400


def test_authorised_doctor_reads_a_document_and_its_content_one_event_each(space):
    person, p, d = space
    client = client_of(p["dr"])
    document = d["consult"]

    resource = fhir_json(client.get(f"/fhir/DocumentReference/{document.uuid}"))
    assert resource["id"] == str(document.uuid)
    assert resource["subject"] == {"reference": f"Patient/{person.uuid}"}
    binary = fhir_json(client.get(f"/fhir/Binary/{document.uuid}"))
    assert base64.b64decode(binary["data"]).startswith(b"%PDF")
    raw = client.get(f"/fhir/Binary/{document.uuid}", headers={"Accept": "application/pdf"})
    assert raw.status_code == 200 and b"".join(raw.streaming_content).startswith(b"%PDF")

    events = events_of(person, p["dr"])
    assert len(events) == 3
    for event in events:
        assert (event.allowed, event.action, event.subject, event.professional_id) == (
            True, Action.READ_DOCUMENT, f"document:{document.uuid}", p["dr"].pk)


def test_a_care_team_member_reads_through_the_team_authorisation(space):
    person, p, d = space
    client = client_of(p["dr_team"])
    assert ids(fhir_json(client.get("/fhir/DocumentReference", {"patient": str(person.uuid)}))) == {
        str(d[k].uuid) for k in ("consult", "certificate", "medication_review")}
    assert client.get(f"/fhir/DocumentReference/{d['consult'].uuid}").status_code == 200


# --- masking, the habilitation matrix, blocks ------------------------------------------------------------------


def test_masked_document_is_not_listed_and_its_read_is_a_403_masked(space):
    person, p, d = space
    client = client_of(p["dr"])
    bundle = fhir_json(client.get("/fhir/DocumentReference", {"patient": str(person.uuid)}))
    assert str(d["masked"].uuid) not in ids(bundle)

    for path in (f"/fhir/DocumentReference/{d['masked'].uuid}", f"/fhir/Binary/{d['masked'].uuid}"):
        response = client.get(path)
        assert response.status_code == 403
        assert reason_of(response) == "masked"
    denials = [e for e in events_of(person, p["dr"]) if not e.allowed]
    assert [(e.reason, e.subject) for e in denials] == [("masked", f"document:{d['masked'].uuid}")] * 2


def test_the_medecin_traitant_sees_masked_documents(space):
    person, p, d = space
    client = client_of(p["dr_mt"])
    assert str(d["masked"].uuid) in ids(fhir_json(client.get("/fhir/DocumentReference",
                                                              {"patient": str(person.uuid)})))
    assert client.get(f"/fhir/DocumentReference/{d['masked'].uuid}").status_code == 200


def test_nurse_is_denied_a_certificate_by_the_habilitation_matrix(space):
    person, p, d = space
    client = client_of(p["nurse"])
    bundle = fhir_json(client.get("/fhir/DocumentReference", {"patient": str(person.uuid)}))
    assert ids(bundle) == {str(d["medication_review"].uuid)}

    response = client.get(f"/fhir/DocumentReference/{d['certificate'].uuid}")
    assert response.status_code == 403
    assert reason_of(response) == "habilitation"
    assert "profession" in fhir_json(response)["issue"][0]["diagnostics"]
    last = events_of(person, p["nurse"])[-1]
    assert (last.allowed, last.reason, last.subject) == (False, "habilitation", f"document:{d['certificate'].uuid}")
    assert client.get(f"/fhir/Binary/{d['medication_review'].uuid}").status_code == 200


def test_no_professional_reads_a_type_the_matrix_denies_even_the_medecin_traitant(space):
    _person, p, d = space
    response = client_of(p["dr_mt"]).get(f"/fhir/DocumentReference/{d['residence'].uuid}")
    assert response.status_code == 403
    assert reason_of(response) == "habilitation"


def test_blocked_doctor_is_refused_the_space_but_reads_what_they_authored(space):
    person, p, d = space
    client = client_of(p["dr_blocked"])

    for response in (client.get("/fhir/DocumentReference", {"patient": str(person.uuid)}),
                     client.get(f"/fhir/Patient/{person.uuid}"),
                     client.get(f"/fhir/DocumentReference/{d['consult'].uuid}")):
        assert response.status_code == 403
        assert reason_of(response) == "blocked"

    own = d["by_blocked"]  # masked too: authorship overrides both the block and the mask
    assert fhir_json(client.get(f"/fhir/DocumentReference/{own.uuid}"))["id"] == str(own.uuid)
    assert client.get(f"/fhir/Binary/{own.uuid}", headers={"Accept": "application/pdf"}).status_code == 200
    outcomes = [(e.allowed, e.reason) for e in events_of(person, p["dr_blocked"])]
    assert outcomes == [(False, "blocked")] * 3 + [(True, "author")] * 2


# --- no authorisation, unknown ids, bad requests, tokens ------------------------------------------------------


def test_unauthorised_doctor_gets_403_no_authorisation_and_the_denial_is_recorded(space):
    person, p, d = space
    client = client_of(p["dr_none"])

    response = client.get("/fhir/DocumentReference", {"patient": f"Patient/{person.uuid}"})
    assert response.status_code == 403
    assert reason_of(response) == "no_authorisation"
    assert "autorisé" in fhir_json(response)["issue"][0]["diagnostics"]
    [event] = events_of(person, p["dr_none"])
    assert (event.allowed, event.reason, event.action, event.subject) == (
        False, "no_authorisation", Action.READ_RECORD, "search:DocumentReference")

    assert reason_of(client.get(f"/fhir/Patient/{person.uuid}")) == "no_authorisation"
    assert reason_of(client.get(f"/fhir/DocumentReference/{d['consult'].uuid}")) == "no_authorisation"
    assert reason_of(client.get(f"/fhir/Binary/{d['consult'].uuid}")) == "no_authorisation"
    assert len(events_of(person, p["dr_none"])) == 4


def test_authorised_elsewhere_but_not_here(space, family):
    person, p, _d = space
    other = family.holder().person
    authorise_pro(other, p["dr_none"])
    client = client_of(p["dr_none"])
    assert client.get("/fhir/DocumentReference", {"patient": str(other.uuid)}).status_code == 200
    assert reason_of(client.get("/fhir/DocumentReference", {"patient": str(person.uuid)})) == "no_authorisation"


def test_unknown_patient_and_unknown_document_are_404_without_an_event(space):
    _person, p, _d = space
    client = client_of(p["dr"])
    before = AccessEvent.objects.count()
    for response in (client.get("/fhir/DocumentReference", {"patient": str(uuid.uuid4())}),
                     client.get("/fhir/DocumentReference", {"patient": "Practitioner/123"}),
                     client.get(f"/fhir/Patient/{uuid.uuid4()}"),
                     client.get(f"/fhir/DocumentReference/{uuid.uuid4()}"),
                     client.get(f"/fhir/Binary/{uuid.uuid4()}"),
                     client.get(f"/fhir/Immunization/{uuid.uuid4()}")):
        assert response.status_code == 404
        issue = fhir_json(response)["issue"][0]
        assert issue["code"] == "not-found" and "details" not in issue
    assert AccessEvent.objects.count() == before


def test_a_space_that_is_not_open_answers_like_an_unknown_one(space, family):
    _person, p, _d = space
    notified = family.person(status=SpaceStatus.NOTIFIED)
    authorise_pro(notified, p["dr"])
    client = client_of(p["dr"])
    unknown = client.get(f"/fhir/Patient/{uuid.uuid4()}")
    for response in (client.get(f"/fhir/Patient/{notified.uuid}"),
                     client.get("/fhir/DocumentReference", {"patient": str(notified.uuid)})):
        assert response.status_code == 404
        assert fhir_json(response) == fhir_json(unknown)  # nothing tells the two apart
    assert [(e.allowed, e.reason) for e in events_of(notified, p["dr"])] == [(False, "not_active")] * 2


def test_a_deleted_document_is_404(space):
    person, p, _d = space
    own = actions.add_document(person, person, content=make_pdf("mine"), filename="a.pdf", type_code="11488-4")
    actions.delete_document(person, person, own)
    assert client_of(p["dr"]).get(f"/fhir/DocumentReference/{own.uuid}").status_code == 404


def test_a_professional_search_without_patient_is_a_400(space):
    _person, p, _d = space
    client = client_of(p["dr"])
    for resource_type in ("DocumentReference", "Immunization", "AllergyIntolerance"):
        response = client.get(f"/fhir/{resource_type}")
        assert response.status_code == 400
        issue = fhir_json(response)["issue"][0]
        assert (issue["code"], issue["expression"]) == ("required", ["patient"])


def test_expired_or_revoked_professional_token_is_a_401(space):
    person, p, _d = space
    _row, token = issue_professional_token(p["dr"], lifetime=dt.timedelta(minutes=5))
    client = FhirClient(token)
    path = f"/fhir/Patient/{person.uuid}"
    assert client.get(path).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
        response = client.get(path)
    assert response.status_code == 401
    assert fhir_json(response)["issue"][0]["code"] == "login"
    assert response["WWW-Authenticate"] == 'Bearer realm="carnet", error="invalid_token"'

    revoke_professional_token(token)
    assert client.get(path).status_code == 401


def test_a_professional_struck_off_the_directory_loses_the_api(space):
    person, p, _d = space
    client = client_of(p["dr"])
    Professional.objects.filter(pk=p["dr"].pk).update(active=False)
    assert client.get(f"/fhir/Patient/{person.uuid}").status_code == 401


# --- Patient ---------------------------------------------------------------------------------------------------


def test_patient_read_and_search_list_only_the_spaces_the_professional_may_read(space, family):
    person, p, _d = space
    other = family.holder().person
    expired = family.holder().person
    authorise_pro(expired, p["dr"], expires_at=timezone.now() - dt.timedelta(days=1))
    client = client_of(p["dr"])

    resource = fhir_json(client.get(f"/fhir/Patient/{person.uuid}"))
    assert resource["id"] == str(person.uuid)
    bundle = fhir_json(client.get("/fhir/Patient"))
    assert ids(bundle) == {str(person.uuid)} and bundle["total"] == 1
    assert ids(fhir_json(client.get("/fhir/Patient", {"_id": str(other.uuid)}))) == set()
    assert [(e.allowed, e.subject) for e in events_of(person, p["dr"])] == [(True, "")] * 2
    assert events_of(other, p["dr"]) == [] and events_of(expired, p["dr"]) == []


# --- the medical profile ----------------------------------------------------------------------------------------


@pytest.fixture
def profile(space):
    person, _p, _d = space
    year = person.birth_date.year + 20
    return {
        "vaccine": entries.add_entry(person, person, Section.VACCINATIONS,
                                     {"vaccine": "mmr", "date": f"{year}-05-02", "dose": 1}),
        "contact": entries.add_entry(person, person, Section.ENTOURAGE,
                                     {"roles": ["emergency"], "relation": "SPS", "first_name": "Paul",
                                      "last_name": "Durand", "mobile": "0612345678"}),
        "allergy": entries.add_entry(person, person, Section.ALLERGIES,
                                     {"label": "Pénicilline", "category": "medication"}),
        "blood": entries.add_entry(person, person, Section.BLOOD_GROUP, {"group": "OPOS"}),
    }


def test_professionals_see_only_the_shared_sections_of_the_profile(space, profile):
    person, p, _d = space
    client = client_of(p["dr"])
    patient = {"patient": str(person.uuid)}

    assert ids(fhir_json(client.get("/fhir/Immunization", patient))) == {str(profile["vaccine"].uuid)}
    assert ids(fhir_json(client.get("/fhir/RelatedPerson", patient))) == {str(profile["contact"].uuid)}
    for resource_type in ("AllergyIntolerance", "Observation"):
        bundle = fhir_json(client.get(f"/fhir/{resource_type}", patient))
        assert bundle["total"] == 0 and "entry" not in bundle
    assert fhir_json(client.get(f"/fhir/Immunization/{profile['vaccine'].uuid}"))["id"] == str(profile["vaccine"].uuid)

    for key in ("allergy", "blood"):
        entry = profile[key]
        response = client.get(f"/fhir/{entry.resource_type}/{entry.uuid}")
        assert response.status_code == 403
        assert reason_of(response) == "private_section"
    outcomes = [(e.allowed, e.reason) for e in events_of(person, p["dr"])]
    assert outcomes == [(True, "authorised")] * 5 + [(False, "private_section")] * 2
    assert events_of(person, p["dr"])[-1].subject == f"profile:{profile['blood'].uuid}"


def test_the_policy_denial_comes_before_the_section_rule(space, profile):
    person, p, _d = space
    client = client_of(p["dr_none"])
    for key in ("vaccine", "allergy"):
        entry = profile[key]
        assert reason_of(client.get(f"/fhir/{entry.resource_type}/{entry.uuid}")) == "no_authorisation"
    assert reason_of(client.get("/fhir/Immunization", {"patient": str(person.uuid)})) == "no_authorisation"
    assert [(e.allowed, e.reason) for e in events_of(person, p["dr_none"])] == [(False, "no_authorisation")] * 3


# --- the holder's side is unchanged; the statement says it ----------------------------------------------------


def test_a_holder_still_gets_their_own_space_without_patient(space, client_for):
    person, _p, d = space
    holder_client = client_for(person.account)
    bundle = fhir_json(holder_client.get("/fhir/DocumentReference"))
    assert str(d["masked"].uuid) in ids(bundle)


def test_capability_statement_declares_the_professional_bearer_access(fhir):
    statement = fhir_json(fhir.get("/fhir/metadata"))
    security = statement["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "OAuth"
    assert "RPPS" in security["description"] and "SMART" in security["description"]
    assert ACCESS_DECISION_SYSTEM in statement["rest"][0]["documentation"]
