"""A FHIR client with a bearer token, and `assert_valid_fhir`: every JSON answer in these tests is
parsed by the fhir.resources R4B model of its resourceType (Bundles with their entries, OperationOutcomes)."""

import io
import json

import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class
from reportlab.pdfgen import canvas

from carnet.identity.actions.login import open_device
from carnet.identity.models import DeviceSession
from carnet.record import actions

FHIR_JSON = "application/fhir+json"
# FHIR R4 IssueType codes (the models do not check bound value sets, so this helper does).
ISSUE_TYPES = {
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown", "expired",
    "forbidden", "suppressed", "processing", "not-supported", "duplicate", "multiple-matches", "not-found",
    "deleted", "too-long", "code-invalid", "extension", "too-costly", "business-rule", "conflict", "transient",
    "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled", "informational",
}
GENDERS = {"male", "female", "other", "unknown"}


def assert_valid_fhir(data: dict) -> dict:
    """Parse `data` with the R4B model of its resourceType (nested resources included) and check the few
    bound codes the models leave unchecked. Returns `data` for chaining."""
    assert isinstance(data, dict) and "resourceType" in data, data
    model = get_fhir_model_class(data["resourceType"])
    model.model_validate(data)
    _check_codes(data)
    return data


def _check_codes(data: dict) -> None:
    kind = data["resourceType"]
    if kind == "OperationOutcome":
        assert data["issue"], data
        for issue in data["issue"]:
            assert issue["code"] in ISSUE_TYPES, issue
            assert issue["severity"] in {"fatal", "error", "warning", "information"}, issue
    elif kind == "Bundle":
        assert data["type"] == "searchset"
        for entry in data.get("entry", []):
            assert entry["search"]["mode"] in {"match", "include", "outcome"}
            _check_codes(entry["resource"])
    elif kind == "Patient":
        assert data["gender"] in GENDERS


def fhir_json(response) -> dict:
    """The body of a FHIR JSON answer, checked: media type, then the R4B model."""
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8", response["Content-Type"]
    return assert_valid_fhir(json.loads(response.content))


class FhirClient:
    """A CSRF-enforcing client (as a browser would be): the endpoint must not depend on cookies.
    Every response it receives is validated (`_checked`)."""

    def __init__(self, token: str = ""):
        self.client = Client(enforce_csrf_checks=True)
        self.token = token

    def _headers(self, headers):
        headers = dict(headers or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        headers.setdefault("Accept", FHIR_JSON)
        return headers

    def get(self, path, params=None, headers=None):
        return self._checked(self.client.get(path, params or {}, headers=self._headers(headers)))

    def post(self, path, body=None, headers=None):
        return self._checked(self.client.post(path, json.dumps(body or {}), content_type=FHIR_JSON,
                                              headers=self._headers(headers)))

    @staticmethod
    def _checked(response):
        """Every answer is validated here, whatever the test then asserts: FHIR JSON through the R4B
        models; anything else must be a Binary served raw (a 200 with the document's own media type)."""
        if response["Content-Type"].startswith(FHIR_JSON):
            fhir_json(response)
        else:
            assert response.status_code == 200 and response.streaming, (response.status_code, response["Content-Type"])
        return response


def token_for(account) -> str:
    """A patient-API device token, as POST /api/auth/login/otp issues it."""
    _device, token = open_device(account, kind=DeviceSession.Kind.API)
    return token


@pytest.fixture
def fhir():
    return FhirClient()


@pytest.fixture
def client_for():
    return lambda account: FhirClient(token_for(account))


def make_pdf(text: str = "Compte rendu") -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def add_pdf(actor, person, *, type_code: str = "DOCPAT03", text: str = "Compte rendu", **kwargs):
    return actions.add_document(actor, person, content=make_pdf(text), filename="cr.pdf", type_code=type_code,
                                **kwargs)


# --- clinical software filing the PDSm samples (ITI-65, ITI-105, metadata update) ---------------------------------
# A test module that needs another holder or author defines its own fixture of the same name.


@pytest.fixture
def holder(family):
    """The person of the INS the PDSm samples name (pdsm_bundles.SAMPLE_INS)."""
    from .pdsm_bundles import SAMPLE_INS

    return family.holder(nir=SAMPLE_INS).person


@pytest.fixture
def author():
    """The professional the PDSm samples name as author (pdsm_bundles.SAMPLE_RPPS), a médecin."""
    from carnet.sharing.models import Professional

    from .pdsm_bundles import SAMPLE_RPPS

    return Professional.objects.create(rpps=SAMPLE_RPPS, family_name="Leclerc", given_names="Sophie",
                                       profession_code="10")


@pytest.fixture
def software(author):
    """The author's clinical software: a WriteClient with their professional bearer token."""
    from carnet.sharing.tokens import issue_professional_token

    from .pdsm_bundles import WriteClient

    _row, token = issue_professional_token(author)
    return WriteClient(token)
