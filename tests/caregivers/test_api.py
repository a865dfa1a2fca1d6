"""The patient API resolves the acting person from the token and the space from `person`/`profile_id`,
through the policy: a caregiver reads and adds there, and every MANAGE_* endpoint refuses them (403)."""

import pytest

from carnet.sharing.models import AccessEvent
from tests.api.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(caregiver, delegation):
    return sign_in(caregiver.account)


def test_a_caregiver_lists_the_helped_persons_documents(api, holder):
    response = api.get("/api/documents", {"person": str(holder.uuid)})
    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["type_code"] == "DOCPAT09"  # the certificate
    assert AccessEvent.objects.filter(person=holder, actor_role="caregiver", action="record.read").exists()


@pytest.mark.parametrize("method,path", [
    ("get", "/api/sharing/authorisations"),
    ("get", "/api/sharing/blocks"),
    ("get", "/api/sharing/roles"),
])
def test_sharing_endpoints_refuse_a_caregiver(api, holder, method, path):
    response = getattr(api, method)(f"{path}?person={holder.uuid}")
    assert response.status_code == 403, response.content
    assert "aidant" in str(response.json()).lower()


def test_confidentiality_and_deletion_refuse_a_caregiver(api, holder, delegation):
    response = api.put(f"/api/confidentiality?person={holder.uuid}",
                       {"new_documents_masked": True, "care_history_masked": False, "apply_to_existing": False})
    assert response.status_code == 403, response.content
    certificate = delegation.certificate
    response = api.delete(f"/api/documents/{certificate.uuid}?person={holder.uuid}")
    assert response.status_code == 403, response.content
    certificate.refresh_from_db()
    assert certificate.status == "current"


def test_representative_endpoints_refuse_a_caregiver(api, holder, caregiver):
    response = api.post(f"/api/profiles/{holder.uuid}/representatives",
                        {"kind": "guardian", "nir": caregiver.nir, "family_name": caregiver.family_name,
                         "given_name": caregiver.first_name, "birth_date": caregiver.birth_date.isoformat()})
    assert response.status_code == 403, response.content
