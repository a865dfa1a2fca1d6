"""The export's messaging fragment: every message of the space in the FHIR Bundle as Communication (text,
sender, the caregiver's footer, answers chained, a joined document referenced), and one line per conversation in
the PDF summary. The space is the export conftest's (CI-SIS 2.41 examples)."""

import io
import json

import pytest
from pypdf import PdfReader

from carnet.messaging import actions as messaging
from carnet.sharing import actions as sharing_actions
from tests.caregivers.conftest import accepted
from tests.export.conftest import download, ready_export
from tests.fhir.conftest import assert_valid_fhir
from tests.pro.conftest import make_pro

pytestmark = pytest.mark.django_db


def test_messages_are_in_the_bundle_and_the_summary(space, family, django_capture_on_commit_callbacks):
    account, person, documents = space
    doctor = make_pro("10", family_name="DURAND", given_names="Paul", email="dr.durand@example.org")
    sharing_actions.assign_role(person, person, doctor, "medecin_traitant")
    helper = family.holder(age=52).person
    accepted(person, helper)
    conversation = messaging.start_conversation(doctor, person, doctor, subject="Bilan sanguin",
                                                body="Pensez à faire la prise de sang à jeun.")
    joined = documents[-1]
    messaging.send_message(helper, conversation, body="C'est prévu jeudi, voici la dernière ordonnance.",
                           document=str(joined.uuid))
    messaging.open_conversation(person, conversation)  # the holder reads the doctor's message
    messaging.send_message(person, conversation, body="Merci docteur.")

    archive = download(person, ready_export(account, django_capture_on_commit_callbacks))
    resources = [e["resource"] for e in json.loads(archive.read("FHIR/ESPACE01.json"))["entry"]]
    sent = [r for r in resources if r["resourceType"] == "Communication"]
    for resource in sent:
        assert_valid_fhir(resource)
    assert [r["payload"][0]["contentString"] for r in sent] == [
        "Pensez à faire la prise de sang à jeun.", "C'est prévu jeudi, voici la dernière ordonnance.",
        "Merci docteur."]
    assert {r["topic"]["text"] for r in sent} == {"Bilan sanguin"}
    first, by_helper, by_holder = sent
    assert first["sender"]["identifier"]["value"] == f"8{doctor.rpps}"
    assert by_helper["sender"] == {"type": "RelatedPerson", "display": helper.full_name}
    assert by_helper["payload"][1]["contentString"] == (
        f"Rédigé par {helper.full_name}, aidant(e) de {person.full_name}")
    assert by_helper["payload"][2]["contentReference"]["reference"] == f"DocumentReference/{joined.uuid}"
    assert by_holder["sender"]["reference"] == f"Patient/{person.uuid}"
    assert by_holder["recipient"][0]["identifier"]["value"] == f"8{doctor.rpps}"
    assert by_helper["inResponseTo"] == [{"reference": f"Communication/{first['id']}"}]
    assert by_holder["inResponseTo"] == [{"reference": f"Communication/{by_helper['id']}"}]
    assert "received" in first and "received" not in by_holder  # the holder read the doctor's; nobody read theirs yet

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(archive.read("SYNTHESE/ESPACE01.pdf")))
                     .pages)
    assert "Messagerie" in text and "Bilan sanguin" in text and "3 message(s)" in text
    assert "prise de sang à jeun" not in text  # the texts are in the FHIR file, not in the summary
