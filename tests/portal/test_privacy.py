"""The "Paramètres de confidentialité" page, sharing sections, through a CSRF-enforcing client: search the
directory (posted, kept in the session: no search words in any URL), authorise until a date, change the end
date, revoke, block and unblock, give and end roles; a parent manages a child's sharing; strangers get 404."""

import datetime as dt
import html
import itertools
import re

import pytest
from django.test import Client

from carnet.common.dates import today
from carnet.sharing import actions
from carnet.sharing.models import (
    AccessEvent,
    Authorisation,
    Block,
    CareRole,
    CareRoleKind,
    CareTeam,
    Establishment,
    Professional,
)
from carnet.sharing.policy import Action, decide
from tests.portal.helpers import csrf_token, post_form, sign_in

pytestmark = pytest.mark.django_db
URL = "/confidentialite/"
_rpps = itertools.count(30000000001)


def pro(profession="10", family_name="Martin", given_names="Claire") -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name=family_name, given_names=given_names,
                                       profession_code=profession)


@pytest.fixture
def signed_in(csrf_client, family):
    account = family.holder()
    sign_in(csrf_client, account)
    return csrf_client, account.person


def page(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def post(client, action, data=None):
    response = post_form(client, URL, data or {}, action=action)
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith(URL)
    return response


def test_the_page_has_one_h1_and_the_sharing_sections(signed_in):
    client, _me = signed_in
    text = page(client)
    assert text.count("<h1") == 1
    for heading in ("Professionnels autorisés", "Équipes de soins autorisées", "Établissements autorisés",
                    "Ajouter un professionnel", "Professionnels bloqués", "Rôles", "Médecin traitant",
                    "Sage-femme référente", "Pharmacien correspondant", "Administrateur de santé"):
        assert heading in text, heading


def test_search_is_posted_kept_in_the_session_and_never_in_a_url(signed_in):
    client, _me = signed_in
    pro("10", "Oncologue", "Bernard")
    response = post(client, "/confidentialite/recherche/", {"kind": "professional", "name": "Oncologue",
                                                            "profession": "10"})
    assert "Oncologue" not in response["Location"]
    text = page(client)
    assert "Bernard Oncologue" in text and "1 résultat" in text
    assert not re.search(r'(href|action)="[^"]*Oncologue', text)
    post(client, "/confidentialite/recherche/", {"clear": "1"})
    assert "Bernard Oncologue" not in page(client)


def test_a_too_short_search_says_why(signed_in):
    client, _me = signed_in
    post(client, "/confidentialite/recherche/", {"kind": "professional", "name": "a"})
    assert "au moins 2 lettres" in page(client)


def test_grant_with_an_end_date_then_change_it_then_revoke(signed_in):
    client, me = signed_in
    doctor = pro()
    until = today() + dt.timedelta(days=30)
    post(client, f"/confidentialite/professionnels/{doctor.uuid}/autoriser/", {"until": until.isoformat()})
    authorisation = Authorisation.objects.get(person=me, professional=doctor)
    assert actions.until_of(authorisation) == until
    assert decide(doctor, Action.READ_RECORD, me).allowed
    text = page(client)
    assert "Claire Martin" in text and "inclus" in text and "Le professionnel est autorisé" in text

    later = today() + dt.timedelta(days=60)
    post(client, f"/confidentialite/autorisations/{authorisation.uuid}/date-de-fin/", {"until": later.isoformat()})
    authorisation.refresh_from_db()
    assert actions.until_of(authorisation) == later

    post(client, f"/confidentialite/autorisations/{authorisation.uuid}/date-de-fin/", {"until": "2001-01-01"})
    assert "postérieure à aujourd'hui" in page(client)
    authorisation.refresh_from_db()
    assert actions.until_of(authorisation) == later

    post(client, f"/confidentialite/autorisations/{authorisation.uuid}/retirer/")
    assert not decide(doctor, Action.READ_RECORD, me).allowed
    assert "Aucun professionnel n'est autorisé" in page(client)
    assert list(AccessEvent.objects.filter(person=me).order_by("sequence").values_list("action", flat=True)) == [
        "sharing.authorise", "sharing.expiry", "sharing.revoke"]


def test_a_past_date_is_refused_on_grant(signed_in):
    client, me = signed_in
    doctor = pro()
    post(client, f"/confidentialite/professionnels/{doctor.uuid}/autoriser/",
         {"until": (today() - dt.timedelta(days=1)).isoformat()})
    assert not Authorisation.objects.filter(person=me).exists()
    assert "postérieure à aujourd'hui" in page(client)


def test_care_teams_and_establishments_are_authorised_and_revoked(signed_in):
    client, me = signed_in
    team = CareTeam.objects.create(name="Maison de santé des Tilleuls")
    hospital = Establishment.objects.create(finess="750000001", name="Hôpital de démonstration")
    post(client, "/confidentialite/recherche/", {"kind": "care_team", "name": "Tilleuls"})
    assert "Maison de santé des Tilleuls" in page(client)
    post(client, f"/confidentialite/equipes/{team.uuid}/autoriser/", {"until": ""})
    post(client, f"/confidentialite/etablissements/{hospital.uuid}/autoriser/", {"until": ""})
    text = page(client)
    assert "sans limite de durée" in text and "Hôpital de démonstration" in text
    for authorisation in Authorisation.objects.filter(person=me):
        post(client, f"/confidentialite/autorisations/{authorisation.uuid}/retirer/")
    assert not actions.current_authorisations(me).exists()


def test_block_from_the_authorised_list_then_unblock(signed_in):
    client, me = signed_in
    doctor = pro()
    actions.authorise_professional(me, me, doctor, until=None)
    post(client, f"/confidentialite/professionnels/{doctor.uuid}/bloquer/")
    assert decide(doctor, Action.READ_RECORD, me).reason == "blocked"
    text = page(client)
    assert "Débloquer" in text
    post(client, f"/confidentialite/professionnels/{doctor.uuid}/debloquer/")
    assert not Block.objects.filter(person=me, lifted_at__isnull=True).exists()
    assert "Vous n'avez bloqué aucun professionnel" in page(client)


def test_assign_the_medecin_traitant_then_end_the_role(signed_in):
    client, me = signed_in
    doctor, nurse = pro(), pro("60", "Petit", "Luc")
    actions.authorise_professional(me, me, doctor, until=None)
    actions.authorise_professional(me, me, nurse, until=None)
    post(client, "/confidentialite/roles/attribuer/", {"kind": "medecin_traitant", "professional": str(nurse.uuid)})
    assert "doit être un médecin" in page(client)
    assert not CareRole.objects.filter(person=me).exists()
    post(client, "/confidentialite/roles/attribuer/", {"kind": "medecin_traitant", "professional": str(doctor.uuid)})
    role = CareRole.objects.get(person=me, ended_at__isnull=True)
    assert role.professional == doctor and role.kind == CareRoleKind.MEDECIN_TRAITANT
    assert AccessEvent.objects.filter(person=me, action="sharing.role_assign").exists()
    post(client, f"/confidentialite/roles/{role.uuid}/fin/")
    role.refresh_from_db()
    assert role.ended_at is not None


def test_a_role_is_given_only_to_an_authorised_professional(signed_in):
    client, me = signed_in
    unlisted = pro()
    post(client, "/confidentialite/roles/attribuer/", {"kind": "medecin_traitant", "professional": str(unlisted.uuid)})
    assert not CareRole.objects.filter(person=me).exists()


def test_changes_need_csrf_and_post(signed_in):
    client, me = signed_in
    doctor = pro()
    client.get(URL)
    assert client.post(f"/confidentialite/professionnels/{doctor.uuid}/autoriser/").status_code == 403
    assert client.get(f"/confidentialite/professionnels/{doctor.uuid}/autoriser/").status_code == 405
    assert not Authorisation.objects.filter(person=me).exists()


def test_a_parent_manages_the_childs_sharing(csrf_client, represented_child):
    parent, child = represented_child
    sign_in(csrf_client, parent)
    post_form(csrf_client, "/famille/", {"profile": str(child.uuid)}, action="/famille/profil/")
    doctor = pro()
    text = page(csrf_client)
    assert child.full_name in text
    post(csrf_client, f"/confidentialite/professionnels/{doctor.uuid}/autoriser/", {"until": ""})
    authorisation = Authorisation.objects.get(professional=doctor)
    assert authorisation.person == child and authorisation.granted_by == parent.person
    assert not Authorisation.objects.filter(person=parent.person).exists()


def test_another_persons_authorisation_is_404(signed_in, family):
    client, _me = signed_in
    other = family.holder().person
    theirs = actions.authorise_professional(other, other, pro(), until=None)
    token = csrf_token(client, URL)
    response = client.post(f"/confidentialite/autorisations/{theirs.uuid}/retirer/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_signed_out_visitors_are_sent_to_sign_in():
    response = Client().get(URL)
    assert response.status_code == 302 and "/connexion/" in response["Location"]


# --- Accès en cas d'urgence: the three settings and the latest openings ------------------------------------------

EMERGENCY_URL = "/confidentialite/urgence/"


def checkbox(text: str, name: str) -> str:
    match = re.search(rf'<input type="checkbox" name="{name}"[^>]*>', text)
    assert match, name
    return match.group(0)


def test_the_emergency_settings_are_three_labelled_checkboxes_with_the_defaults(signed_in):
    client, _me = signed_in
    text = page(client)
    assert 'id="urgence"' in text and "Accès en cas d'urgence" in text
    assert '<legend class="fr-fieldset__legend" id="emergency-settings-legend">' in text
    for name, checked in (("samu_allowed", True), ("break_glass_allowed", True), ("masked_visible", False)):
        tag = checkbox(text, name)
        assert ("checked" in tag) == checked, name
        assert f'<label for="emergency-{name}" class="fr-label">' in text
    assert "pour 4 heures" in text


def test_saving_the_emergency_settings(signed_in):
    from carnet.sharing.models import EmergencySettings

    client, me = signed_in
    response = post(client, EMERGENCY_URL, {"masked_visible": "on"})
    assert response["Location"].endswith("#urgence")
    chosen = EmergencySettings.objects.get(person=me)
    assert (chosen.samu_allowed, chosen.break_glass_allowed, chosen.masked_visible) == (False, False, True)
    assert AccessEvent.objects.filter(person=me, action="settings.emergency").count() == 1
    text = page(client)
    assert "Vos choix pour l'accès en cas d'urgence sont enregistrés." in text
    assert "checked" in checkbox(text, "masked_visible") and "checked" not in checkbox(text, "samu_allowed")
    assert decide(pro(), Action.EMERGENCY_ACCESS, _request(me)).reason == "emergency_refused"


def _request(person):
    from carnet.sharing.emergency import EmergencyRequest

    return EmergencyRequest(person, "break_glass", "motif")


def test_the_emergency_settings_need_csrf_and_a_post(signed_in):
    client, me = signed_in
    assert client.post(EMERGENCY_URL, {}).status_code == 403
    assert client.get(EMERGENCY_URL).status_code == 405
    from carnet.sharing.models import EmergencySettings

    assert not EmergencySettings.objects.filter(person=me).exists()


def test_a_parent_sets_the_childs_emergency_settings(csrf_client, represented_child):
    from carnet.sharing.models import EmergencySettings

    parent, child = represented_child
    sign_in(csrf_client, parent)
    post_form(csrf_client, "/famille/", {"profile": str(child.uuid)}, action="/famille/profil/")
    post(csrf_client, EMERGENCY_URL, {"samu_allowed": "on"})
    assert EmergencySettings.objects.get(person=child).samu_allowed
    assert not EmergencySettings.objects.filter(person=parent.person).exists()


def test_the_latest_emergency_openings_are_listed_without_their_reason(signed_in):
    from carnet.sharing.emergency import open_emergency_access

    client, me = signed_in
    assert "Aucun accès en urgence à votre dossier." in page(client)
    doctor = pro(family_name="Urgentiste", given_names="Paul")
    open_emergency_access(doctor, me, kind="break_glass", reason="Polytraumatisme")
    text = page(client)
    assert "Paul Urgentiste" in text and "bris de glace" in text
    assert "Polytraumatisme" not in text


def test_a_block_by_the_administrator_says_so(signed_in):
    client, me = signed_in
    admin, other = pro(family_name="Admin", given_names="Zoé"), pro()
    actions.authorise_professional(me, me, admin, until=None)
    actions.assign_role(me, me, admin, CareRoleKind.ADMINISTRATEUR_SANTE)
    actions.block(admin, me, other)
    assert "par votre administrateur de santé, Zoé Admin" in page(client)
