"""IHE MHD ITI-67 Find Document References (as PDSm profiles it): every search parameter filters (a match and a
miss for each), tokens follow FHIR R4 (`system|code`, comma = OR, repeated = AND), bad values are a 400 naming the
parameter, the policy still decides what a professional sees, and what is searchable is also shown.

Documents are filed with `record.actions.add_document`; the XDS columns and `details["xds"]` an ITI-65 submission
fills are set on the rows directly. Codes come from the CI-SIS value sets the terminology module loads (JDV_J04
practice settings, JDV_J02 facility types, JDV_J08 confidentiality).
"""

import datetime as dt
import itertools
import json

import pytest
from django.utils import timezone

from carnet.fhir import mapping
from carnet.record import actions
from carnet.record.actions import Author
from carnet.record.enums import AuthorKind, DocumentSource
from carnet.record.models import Document
from carnet.sharing.models import AccessEvent, Authorisation, Professional
from carnet.sharing.policy import Action
from carnet.sharing.tokens import issue_professional_token

from .conftest import FhirClient, fhir_json, make_pdf

pytestmark = pytest.mark.django_db
_rpps = itertools.count(30000000001)
CADRE = "https://mos.esante.gouv.fr/NOS/TRE_A01-CadreExercice/FHIR/TRE-A01-CadreExercice"
SECTEUR = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
CISIS_LABELS = "urn:oid:1.2.250.1.213.1.1.4.13"


def pro(profession: str = "10") -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name="Martin", given_names="Claire",
                                       profession_code=profession)


def client_of(professional: Professional) -> FhirClient:
    _row, token = issue_professional_token(professional)
    return FhirClient(token)


def doc(person, type_code: str = "11488-4", *, masked: bool = False, author_rpps: str = "", unique_id: str = "",
        **xds_fields):
    document = actions.add_document(None, person, content=make_pdf(f"{type_code} {masked} {unique_id}"),
                                    type_code=type_code, source=DocumentSource.PROFESSIONAL, masked=masked,
                                    author=Author(AuthorKind.PROFESSIONAL, "Dr Auteur", author_rpps),
                                    unique_id=unique_id)
    if xds_fields:
        Document.objects.filter(pk=document.pk).update(**xds_fields)
        document.refresh_from_db()
    return document


def other_ins(person) -> str:
    """A valid INS (right control key) that is not this person's: the same NIR with the next serial number."""
    base = person.nir[:10] + f"{(int(person.nir[10:13]) + 1) % 1000:03d}"
    number = int(base.replace("2A", "19").replace("2B", "18"))
    return f"{base}{97 - number % 97:02d}"


def ids(bundle) -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"}


@pytest.fixture
def space(family):
    """An active space, an authorised doctor, and documents carrying XDS metadata as an ITI-65 submission would."""
    account = family.holder()
    person = account.person
    dr = pro("10")
    Authorisation.objects.create(person=person, professional=dr, granted_by=person)
    d = {
        "hospital": doc(person, "11488-4", unique_id="1.2.250.1.999.1.1", practice_setting_code="ETABLISSEMENT",
                        facility_type_code="SA01",
                        event_codes=[{"system": "http://snomed.info/sct", "code": "387713003", "display": "Chirurgie"}],
                        details={"xds": {"authors": [{"given": "Hélène", "family": "Lefèvre-Dupont",
                                                      "rpps": "10000000001", "role": "Chirurgien"}],
                                         "related": [{"system": "urn:oid:1.2.250.1.999.2", "value": "ORDER-77"}],
                                         "security_labels": ["R"]}}),
        "ambulatory": doc(person, "11488-4", unique_id="urn:uuid:12345678-abcd-1234-abcd-1234567890ab",
                          practice_setting_code="AMBULATOIRE", facility_type_code="SA05",
                          details={"xds": {"authors": [{"given": "Jean", "family": "Martin", "rpps": "",
                                                        "role": ""}]}}),
        "certificate": doc(person, "89601-9", archived=True),
        "masked": doc(person, "11488-4", masked=True, practice_setting_code="ETABLISSEMENT"),
    }
    return account, person, dr, d


def find(client, person, **params):
    params = {"patient": str(person.uuid), **params}
    response = client.get("/fhir/DocumentReference", params)
    assert response.status_code == 200, response.content
    return fhir_json(response)


def bad(client, person, **params):
    response = client.get("/fhir/DocumentReference", {"patient": str(person.uuid), **params})
    assert response.status_code == 400, response.content
    issue = fhir_json(response)["issue"][0]
    return issue["expression"][0]


def test_setting_and_facility_match_by_code_system_or_both(space):
    _account, person, dr, d = space
    client = client_of(dr)
    assert ids(find(client, person, setting="ETABLISSEMENT")) == {str(d["hospital"].uuid)}  # masked one not shown
    assert ids(find(client, person, setting=f"{CADRE}|AMBULATOIRE")) == {str(d["ambulatory"].uuid)}
    assert ids(find(client, person, setting="urn:oid:1.2.250.1.213.1.1.4.9|AMBULATOIRE,ETABLISSEMENT")) == {
        str(d["hospital"].uuid), str(d["ambulatory"].uuid)}
    assert ids(find(client, person, setting="urn:oid:1.2.250.1.213.1.1.4.6|")) == set()  # no EXP_PATIENT/SNR here
    assert ids(find(client, person, setting="HAD")) == set()
    assert ids(find(client, person, facility=f"{SECTEUR}|SA01")) == {str(d["hospital"].uuid)}
    assert ids(find(client, person, facility="SA05")) == {str(d["ambulatory"].uuid)}
    assert ids(find(client, person, facility="SA02")) == set()


def test_repeated_parameters_are_and_and_commas_are_or(space):
    _account, person, dr, d = space
    client = client_of(dr)
    both = client.get("/fhir/DocumentReference", [("patient", str(person.uuid))])  # baseline
    assert fhir_json(both)["total"] == 3
    response = client.client.get(f"/fhir/DocumentReference?patient={person.uuid}&setting=ETABLISSEMENT,AMBULATOIRE"
                                 "&facility=SA01", headers=client._headers({}))
    assert ids(fhir_json(response)) == {str(d["hospital"].uuid)}
    response = client.client.get(f"/fhir/DocumentReference?patient={person.uuid}&setting=ETABLISSEMENT"
                                 "&setting=AMBULATOIRE", headers=client._headers({}))
    assert ids(fhir_json(response)) == set()


def test_event_author_related_and_identifier(space):
    _account, person, dr, d = space
    client = client_of(dr)
    hospital = str(d["hospital"].uuid)
    assert ids(find(client, person, event="http://snomed.info/sct|387713003")) == {hospital}
    assert ids(find(client, person, event="387713003")) == {hospital}
    assert ids(find(client, person, event="http://loinc.org|387713003")) == set()
    assert ids(find(client, person, **{"author.family": "lefevre"})) == {hospital}  # accents and case folded
    assert ids(find(client, person, **{"author.given": "HEL"})) == {hospital}  # starts with
    assert ids(find(client, person, **{"author.family": "dupont"})) == set()  # not a substring search
    assert ids(find(client, person, **{"author.family": "Martin,Lefevre"})) == {hospital, str(d["ambulatory"].uuid)}
    # an author known only by the label the document was filed with ("Dr Auteur") matches on any word of it
    assert ids(find(client, person, **{"author.family": "Auteur"})) == {str(d["certificate"].uuid)}
    assert ids(find(client, person, **{"author.given": "Auteur"})) == {str(d["certificate"].uuid)}
    assert ids(find(client, person, **{"author.given": "Jean", "author.family": "Lefevre"})) == set()
    assert ids(find(client, person, related="urn:oid:1.2.250.1.999.2|ORDER-77")) == {hospital}
    assert ids(find(client, person, related="urn:oid:1.2.250.1.999.3|ORDER-77")) == set()
    assert ids(find(client, person, identifier="urn:ietf:rfc:3986|urn:oid:1.2.250.1.999.1.1")) == {hospital}
    assert ids(find(client, person, identifier="urn:uuid:12345678-abcd-1234-abcd-1234567890ab")) == {
        str(d["ambulatory"].uuid)}
    assert ids(find(client, person, identifier="urn:oid:1.2.250.1.999.1.2")) == set()


def test_status_format_category_and_security_label(space):
    account, person, dr, d = space
    client = client_of(dr)
    new = actions.add_document(None, person, content=make_pdf("v2"), type_code="11488-4",
                               source=DocumentSource.PROFESSIONAL, replaces=d["ambulatory"],
                               author=Author(AuthorKind.PROFESSIONAL, "Dr Auteur", ""))
    assert ids(find(client, person, status="superseded")) == {str(d["ambulatory"].uuid)}
    assert str(new.uuid) in ids(find(client, person, status="http://hl7.org/fhir/document-reference-status|current"))
    assert ids(find(client, person, status="entered-in-error")) == set()
    pdf = d["hospital"].format_code
    assert pdf  # a PDF carries the JDV_J10 code for PDF
    assert len(ids(find(client, person, format=pdf))) == 4
    assert ids(find(client, person, format="urn:ihe:iti:xds-sd:text:2008")) == set()
    assert ids(find(client, person, category="https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/"
                                             "TRE-A03-ClasseDocument|10")) >= {str(d["hospital"].uuid)}
    assert ids(find(client, person, **{"security-label": "R"})) == {str(d["hospital"].uuid)}
    assert ids(find(client, person, **{"security-label": "N"})) == {
        str(d["certificate"].uuid), str(new.uuid), str(d["ambulatory"].uuid)}
    holder = FhirClient(_token(account))  # the holder sees the masked one, and finds it by its label
    assert ids(find(holder, person, **{"security-label": f"{CISIS_LABELS}|MASQUE_PS"})) == {str(d["masked"].uuid)}
    assert ids(find(holder, person, **{"security-label": "INVISIBLE_PATIENT"})) == set()


def _token(account) -> str:
    from .conftest import token_for

    return token_for(account)


def test_patient_identifier_names_the_space_by_ins(space, settings):
    _account, person, dr, d = space
    client = client_of(dr)
    response = client.get("/fhir/DocumentReference", {"patient.identifier": f"{mapping.INS_SYSTEM}|{person.nir}",
                                                      "setting": "AMBULATOIRE"})
    assert ids(fhir_json(response)) == {str(d["ambulatory"].uuid)}
    [*_, event] = AccessEvent.objects.filter(person=person, professional=dr).order_by("sequence")
    assert (event.action, event.allowed, event.subject) == (Action.READ_RECORD, True, "search:DocumentReference")
    test_ins = {"patient.identifier": f"urn:oid:1.2.250.1.213.1.4.10|{person.nir}"}
    settings.CARNET_ACCEPT_TEST_INS = True  # tests and demo: test INS (CI-SIS examples) match by their number
    assert client.get("/fhir/DocumentReference", test_ins).status_code == 200
    settings.CARNET_ACCEPT_TEST_INS = False  # production: a test INS matches no one
    assert client.get("/fhir/DocumentReference", test_ins).status_code == 404
    unknown = client.get("/fhir/DocumentReference", {"patient.identifier": f"{mapping.INS_SYSTEM}|{other_ins(person)}"})
    assert unknown.status_code == 404
    assert fhir_json(unknown)["issue"][0]["code"] == "not-found"


def test_bad_values_are_400_naming_the_parameter_and_record_nothing(space):
    _account, person, dr, _d = space
    client = client_of(dr)
    before = AccessEvent.objects.filter(person=person).count()
    assert bad(client, person, setting="NOT_A_SETTING") == "setting"
    assert bad(client, person, setting="urn:oid:9.9.9|ETABLISSEMENT") == "setting"
    assert bad(client, person, facility="SA99") == "facility"
    assert bad(client, person, status="final") == "status"
    assert bad(client, person, format="application/pdf") == "format"
    assert bad(client, person, **{"security-label": "SECRET"}) == "security-label"
    assert bad(client, person, **{"security-label": "http://example.org|N"}) == "security-label"
    assert bad(client, person, date="2024-13-01") == "date"
    assert bad(client, person, color="red") == "color"
    response = client.get("/fhir/DocumentReference", {"patient.identifier": "urn:oid:1.2.250.1.71.4.2.1|123"})
    assert response.status_code == 400
    assert fhir_json(response)["issue"][0]["expression"] == ["patient.identifier"]
    response = client.get("/fhir/DocumentReference", {"patient.identifier": f"{mapping.INS_SYSTEM}|1234567890123"
                                                                            "00"})
    assert response.status_code == 400
    assert AccessEvent.objects.filter(person=person).count() == before  # refused before the policy is asked


def test_the_policy_still_decides(space):
    _account, person, dr, d = space
    author = pro("10")
    d["masked_by_author"] = doc(person, "11488-4", masked=True, author_rpps=author.rpps,
                                practice_setting_code="ETABLISSEMENT")
    client = client_of(dr)
    assert str(d["masked"].uuid) not in ids(find(client, person, setting="ETABLISSEMENT"))
    assert str(d["masked_by_author"].uuid) not in ids(find(client, person, **{"security-label": "MASQUE_PS"}))
    nurse = pro("60")  # infirmier: the habilitation matrix refuses 89601-9 (certificate) and 11488-4
    Authorisation.objects.create(person=person, professional=nurse, granted_by=person)
    assert ids(find(client_of(nurse), person)) == set()
    stranger = pro("10")
    response = client_of(stranger).get("/fhir/DocumentReference", {"patient": str(person.uuid),
                                                                      "setting": "ETABLISSEMENT"})
    assert response.status_code == 403
    [event] = AccessEvent.objects.filter(person=person, professional=stranger)
    assert (event.allowed, event.reason) == (False, "no_authorisation")


def test_paging_and_total_stay_right_when_filtering_json_facts(space):
    _account, person, dr, _d = space
    for n in range(5):
        doc(person, "11488-4", details={"xds": {"authors": [{"given": "Paul", "family": f"Durand{n}"}]}})
    client = client_of(dr)
    first = find(client, person, **{"author.family": "durand", "_count": "2"})
    second = find(client, person, **{"author.family": "durand", "_count": "2", "_page": "3"})
    assert (first["total"], len(first["entry"]), second["total"], len(second["entry"])) == (5, 2, 5, 1)
    assert ids(first).isdisjoint(ids(second))
    assert any(link["relation"] == "next" for link in first["link"])
    assert all("author.family=durand" in link["url"] for link in first["link"])


def test_what_is_searchable_is_shown(space):
    _account, person, dr, d = space
    resource = fhir_json(client_of(dr).get(f"/fhir/DocumentReference/{d['hospital'].uuid}"))
    context = resource["context"]
    assert context["practiceSetting"]["coding"][0] == {"system": "urn:oid:1.2.250.1.213.1.1.4.9",
                                                      "code": "ETABLISSEMENT", "display": "Etablissement de santé"}
    assert context["facilityType"]["coding"][0]["code"] == "SA01"
    assert context["facilityType"]["coding"][0]["system"] == "urn:oid:1.2.250.1.71.4.2.4"
    assert context["event"][0]["coding"][0] == {"system": "http://snomed.info/sct", "code": "387713003",
                                               "display": "Chirurgie"}
    assert context["related"] == [{"identifier": {"system": "urn:oid:1.2.250.1.999.2", "value": "ORDER-77"}}]
    assert resource["author"] == [{"identifier": {"system": mapping.RPPS_SYSTEM, "value": "10000000001"},
                                   "display": "Hélène Lefèvre-Dupont"}]
    assert resource["masterIdentifier"] == {"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.250.1.999.1.1"}
    assert [label["coding"][0]["code"] for label in resource["securityLabel"]] == ["R"]
    assert resource["extension"] == [{"url": mapping.IS_ARCHIVED_EXTENSION, "valueBoolean": False}]
    archived = fhir_json(client_of(dr).get(f"/fhir/DocumentReference/{d['certificate'].uuid}"))
    assert archived["extension"][0]["valueBoolean"] is True
    ambulatory = fhir_json(client_of(dr).get(f"/fhir/DocumentReference/{d['ambulatory'].uuid}"))
    assert ambulatory["masterIdentifier"] == {"system": "urn:ietf:rfc:3986",
                                              "value": "urn:uuid:12345678-abcd-1234-abcd-1234567890ab"}
    assert json.dumps(ambulatory).count("Jean Martin") == 1


def test_period_and_date(space):
    _account, person, dr, d = space
    act = timezone.make_aware(dt.datetime(2024, 3, 5, 10, 0))
    Document.objects.filter(pk=d["hospital"].pk).update(act_date=act)
    client = client_of(dr)
    assert ids(find(client, person, period="2024-03")) == {str(d["hospital"].uuid)}
    assert ids(find(client, person, period="lt2024-03-05")) == set()
    today = timezone.localdate().isoformat()
    assert len(ids(find(client, person, date=today))) == 3
    assert ids(find(client, person, date=f"gt{today}")) == set()


def test_a_representative_never_finds_what_is_hidden_from_representatives(represented_child, client_for):
    parent, child = represented_child
    hidden = actions.add_document(None, child, content=make_pdf("confidentiel"), type_code="11488-4",
                                  source=DocumentSource.PROFESSIONAL, hidden_from_representatives=True,
                                  author=Author(AuthorKind.PROFESSIONAL, "Dr Auteur", ""))
    shown = doc(child, "11488-4")
    client = client_for(parent)
    assert ids(find(client, child, **{"security-label": "INVISIBLE_REPRESENTANTS_LEGAUX"})) == set()
    assert ids(find(client, child)) == {str(shown.uuid)}
    by_ins = client.get("/fhir/DocumentReference", {"patient.identifier": f"{mapping.INS_SYSTEM}|{child.nir}"})
    assert ids(fhir_json(by_ins)) == {str(shown.uuid)}
    assert Document.objects.filter(pk=hidden.pk, hidden_from_representatives=True).exists()
