"""The pro portal's half of tests/test_policy_coverage.py: walks every /pro/ route as a signed-in professional
authorised by a patient found in the session (real handle, real document), GET and POST, and fails if a view
answered with something (not a redirect, 403, 404 or 405) without asking the policy. The professional is the
patient's administrateur de santé and the author of a held result, so that blocking and releasing are reached too."""

import re
import sys

import pytest
from django.urls import get_resolver

from carnet.record import actions as record_actions
from carnet.record.actions import Author
from carnet.record.enums import AuthorKind, DocumentSource
from carnet.sharing import policy
from carnet.sharing.models import CareRole
from tests.pro.conftest import authorise, pro_sign_in
from tests.pro.helpers import found
from tests.record.conftest import make_pdf
from tests.test_policy_coverage import NOT_REACHED, iter_patterns

pytestmark = pytest.mark.django_db
# Pro pages that touch no person's data: the search form, and the search itself (the identity check answers
# "found" by a redirect to the patient's page, which asks the policy, or one "not found" for everything else).
# The messaging inbox lists the professional's own conversations, each filtered through the policy (none here).
NO_PERSON_DATA = {"/pro/", "/pro/patients/recherche/", "/pro/messagerie/"}
SIGN_IN = ("/pro/connexion/", "/pro/deconnexion/")


def test_every_pro_view_with_person_data_asks_the_policy(client, doctor, patient):
    authorise(patient, doctor)
    CareRole.objects.create(person=patient, professional=doctor, kind="administrateur_sante")
    document = record_actions.add_document(
        None, patient, content=make_pdf("cr"), type_code="11502-2", source=DocumentSource.PROFESSIONAL,
        invisible_to_holder=True, author=Author(AuthorKind.PROFESSIONAL, doctor.full_name, doctor.national_id))
    pro_sign_in(client, doctor)
    handle = found(client, patient).split("/")[3]
    calls: list[int] = []

    def hook(frame, event, arg):
        if event == "call" and frame.f_code is policy.decide.__code__:
            calls.append(1)

    checked = []
    for route, _pattern in iter_patterns(get_resolver()):
        if not route.startswith("pro/"):
            continue
        path = "/" + re.sub(r"<uuid:\w+>", str(document.uuid), re.sub(r"<str:handle>", handle, route))
        if path in NO_PERSON_DATA or path.startswith(SIGN_IN):
            continue
        for method in ("get", "post"):
            calls.clear()
            sys.setprofile(hook)
            try:
                response = getattr(client, method)(path)
            finally:
                sys.setprofile(None)
            if response.status_code in NOT_REACHED - {302} or (method == "post" and response.status_code == 400):
                continue
            checked.append((method, path, response.status_code))
            assert calls, f"{method.upper()} {path} answered {response.status_code} without asking the policy"
    assert len(checked) >= 6, checked
    assert ("post", f"/pro/patients/{handle}/documents/{document.uuid}/rendre-visible/", 302) in checked
