"""The administrateur de santé's section of the patient's page: the blocks in force, a form to block a professional
by RPPS, and lifting the blocks an administrateur made (carnet/sharing/actions.py block/unblock, the professional as
actor). Every refusal is readable; a professional without the role sees nothing and their forged posts are refused
(403) and recorded."""

import pytest

from carnet.notifications.models import Notification
from carnet.sharing.models import AccessEvent, Authorisation, Block, CareRole
from carnet.sharing.professions import with_luhn_key
from tests.pro.conftest import authorise, make_pro, pro_sign_in
from tests.pro.helpers import found, text

pytestmark = pytest.mark.django_db
SECTION = "Professionnels bloqués"


def with_role(person, professional, kind):
    authorise(person, professional)
    return CareRole.objects.create(person=person, professional=professional, kind=kind)


@pytest.fixture
def administrator(client, doctor, patient):
    with_role(patient, doctor, "administrateur_sante")
    pro_sign_in(client, doctor)
    return doctor


@pytest.fixture
def target(patient):
    nurse = make_pro("60", family_name="CIBLE", given_names="Jean")
    authorise(patient, nurse)
    return nurse


def block(client, url, rpps):
    return client.post(f"{url}bloquer/", {"rpps": rpps})


def blocks(patient):
    return Block.objects.filter(person=patient, lifted_at__isnull=True)


def test_the_administrator_sees_the_section_and_others_do_not(client, administrator, patient, target):
    Block.objects.create(person=patient, professional=make_pro("10", family_name="DEJABLOQUE"), blocked_by=patient)
    page = text(client.get(found(client, patient)))
    assert SECTION in page and "Numéro RPPS du professionnel" in page and 'id="blocage-rpps"' in page
    assert "DEJABLOQUE" in page and "Seul le patient peut le débloquer." in page
    pro_sign_in(client, target)  # authorised, but not the administrateur de santé
    page = text(client.get(found(client, patient)))
    assert client.get(found(client, patient)).status_code == 200
    assert SECTION not in page and "bloquer/" not in page and "DEJABLOQUE" not in page


def test_blocking_by_rpps(client, administrator, patient, target):
    url = found(client, patient)
    response = block(client, url, target.rpps)
    assert response.status_code == 302 and response["Location"] == f"{url}#bloques"
    row = blocks(patient).get()
    assert (row.professional, row.blocked_by_professional, row.blocked_by) == (target, administrator, None)
    assert not Authorisation.objects.filter(person=patient, professional=target, revoked_at__isnull=True).exists()
    event = AccessEvent.objects.get(person=patient, action="sharing.block")
    assert (event.allowed, event.professional, event.subject) == (True, administrator, f"professional:{target.uuid}")
    assert Notification.objects.filter(person=patient, code="blocked_on_behalf").exists()
    page = text(client.get(url))
    assert "Jean CIBLE est bloqué" in page and f"par l'administrateur de santé {administrator.full_name}" in page
    assert f"bloques/{target.uuid}/debloquer/" in page


@pytest.mark.parametrize("rpps, error", [
    ("1234", "Numéro RPPS invalide"),
    ("1234567890a", "Numéro RPPS invalide"),
    ("10000000002", "Numéro RPPS invalide"),  # 11 digits, wrong Luhn key
    (with_luhn_key("1999999999"), "Aucun professionnel de l'annuaire n'a ce numéro RPPS."),
    ("", "Ce champ est obligatoire."),
])
def test_a_bad_or_unknown_rpps_is_a_readable_error(client, administrator, patient, rpps, error):
    response = block(client, found(client, patient), rpps)
    assert response.status_code == 400
    page = text(response)
    assert error in page and "<h1>Professionnels bloqués</h1>" in page
    assert not Block.objects.exists() and not AccessEvent.objects.filter(action="sharing.block").exists()


@pytest.mark.parametrize("who, error", [
    ("self", "Vous ne pouvez pas vous bloquer vous-même."),
    ("medecin_traitant", "Le médecin traitant et l'administrateur de santé sont choisis par le titulaire"),
    ("administrateur_sante", "Le médecin traitant et l'administrateur de santé sont choisis par le titulaire"),
    ("already", "Ce professionnel est déjà bloqué."),
])
def test_refusals_of_the_service_are_shown_readably(client, administrator, patient, target, who, error):
    if who == "self":
        chosen = administrator
    elif who == "already":
        Block.objects.create(person=patient, professional=target, blocked_by=patient)
        chosen = target
    else:
        chosen = make_pro("10", family_name="PROTEGE")
        with_role(patient, chosen, who)
    before = blocks(patient).count()
    response = block(client, found(client, patient), chosen.rpps)
    assert response.status_code == 400 and error in text(response)
    assert blocks(patient).count() == before
    assert not AccessEvent.objects.filter(action="sharing.block").exists()


def test_a_professional_without_the_role_is_refused_and_recorded(client, patient, target):
    colleague = make_pro("10", family_name="COLLEGUE")
    authorise(patient, colleague)
    pro_sign_in(client, colleague)
    url = found(client, patient)
    response = block(client, url, target.rpps)
    assert response.status_code == 403
    assert "Seul l'administrateur de santé du titulaire peut bloquer un professionnel pour lui." in text(response)
    Block.objects.create(person=patient, professional=target, blocked_by_professional=make_pro())
    response = client.post(f"{url}bloques/{target.uuid}/debloquer/")
    assert response.status_code == 403
    assert blocks(patient).count() == 1
    denials = AccessEvent.objects.filter(person=patient, allowed=False).values_list("action", "reason", "professional")
    assert list(denials) == [("sharing.block_on_behalf", "not_health_administrator", colleague.pk)] * 2


def test_an_unrelated_professional_is_refused_too(client, patient, target):
    stranger = make_pro("10", family_name="INCONNU")
    pro_sign_in(client, stranger)
    assert block(client, found(client, patient), target.rpps).status_code == 403
    assert not Block.objects.exists()


def test_lifting_a_block_an_administrator_made(client, administrator, patient, target):
    url = found(client, patient)
    block(client, url, target.rpps)
    response = client.post(f"{url}bloques/{target.uuid}/debloquer/")
    assert response.status_code == 302 and response["Location"] == f"{url}#bloques"
    assert not blocks(patient).exists()
    event = AccessEvent.objects.get(person=patient, action="sharing.unblock")
    assert (event.allowed, event.professional) == (True, administrator)
    assert "Jean CIBLE est débloqué." in text(client.get(url))
    assert not Authorisation.objects.filter(person=patient, professional=target, revoked_at__isnull=True).exists()


def test_a_block_the_holder_decided_is_theirs_to_lift(client, administrator, patient, target):
    Block.objects.create(person=patient, professional=target, blocked_by=patient)
    url = found(client, patient)
    assert f"bloques/{target.uuid}/debloquer/" not in text(client.get(url))  # no button...
    response = client.post(f"{url}bloques/{target.uuid}/debloquer/")  # ...and a forged post is refused
    assert response.status_code == 400
    assert "Ce blocage a été décidé par le titulaire : lui seul peut le lever." in text(response)
    assert blocks(patient).get().lifted_at is None


def test_lifting_what_is_not_blocked_or_unknown(client, administrator, patient, target):
    url = found(client, patient)
    response = client.post(f"{url}bloques/{target.uuid}/debloquer/")
    assert response.status_code == 400 and "Ce professionnel n'est pas bloqué." in text(response)
    response = client.post(f"{url}bloques/00000000-0000-0000-0000-000000000000/debloquer/")
    assert response.status_code == 400 and "Ce professionnel n'existe pas dans l'annuaire." in text(response)


def test_blocking_needs_csrf_and_post(csrf_client, doctor, patient, target):
    with_role(patient, doctor, "administrateur_sante")
    pro_sign_in(csrf_client, doctor)
    url = found(csrf_client, patient)
    assert csrf_client.post(f"{url}bloquer/", {"rpps": target.rpps}).status_code == 403
    assert csrf_client.get(f"{url}bloquer/").status_code == 405
    assert csrf_client.get(f"{url}bloques/{target.uuid}/debloquer/").status_code == 405
    token = csrf_client.get(url).context["csrf_token"]
    response = csrf_client.post(f"{url}bloquer/", {"rpps": target.rpps, "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302 and blocks(patient).exists()
