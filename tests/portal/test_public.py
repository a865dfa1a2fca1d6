"""The public pages: activation, opposition, new provisional code, sign-in and password reset,
driven through the real forms with CSRF enforced, reading codes from the outbox as a person would."""

import datetime as dt
import html
import re

import pytest
from django.core import mail
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from carnet.identity.actions.enrolment import LOCKED, UNIFORM_FAILURE
from carnet.identity.actions.login import BAD_CREDENTIALS, BAD_OTP
from carnet.identity.enums import SpaceStatus
from carnet.identity.models import Account, DeviceSession, Opposition, Person
from carnet.notifications.models import OutboundMessage
from carnet.urls import urlpatterns as carnet_urlpatterns
from tests.conftest import PASSWORD, code_in, last_message_to
from tests.portal.browser import assert_accessible


def protected(request):
    return HttpResponse("protected page")


# Used with @pytest.mark.urls: the real URLs plus one page that does not opt out of login.
urlpatterns = [path("test-protege/", protected), *carnet_urlpatterns]

NEW_PASSWORD = "Autre-Secret-2027?"
USERNAME = "titulaire.essai"


def post(client, url, data, *, form_url=None):
    """Fetch the form first (as a browser does), then post with the CSRF cookie's token."""
    client.get(form_url or url)
    return client.post(url, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})


def text(response) -> str:
    return html.unescape(response.content.decode())


def comparable(response) -> str:
    """The page without what legitimately differs between two renders (typed values, tokens, nonces)."""
    return re.sub(r'(value|nonce)="[^"]*"', "", response.content.decode())


def identity(person, code, **extra):
    return {"nir": person.nir, "serial": person.vitale_serial, "code": code, **extra}


def otp_sent_to(recipient: str) -> str:
    return code_in(last_message_to(recipient).body)


def activate(client, person, code, *, username=USERNAME):
    """The three activation pages, start to finish; returns the last response."""
    response = post(client, "/activer/", identity(person, code))
    assert response.status_code == 302 and response.url == "/activer/identifiants/"
    response = post(client, "/activer/identifiants/", {
        "channel": "email", "destination": person.email, "username": username,
    })
    assert response.status_code == 302 and response.url == "/activer/verification/"
    return post(client, "/activer/verification/", finish(otp_sent_to(person.email)))


def finish(code, password=PASSWORD, confirm=None):
    """The last step: the one-time code, the password (never kept between requests) and the terms."""
    return {"code": code, "password": password, "password_confirm": confirm or password, "accept_terms": "on"}


def sign_in(client, account, password=PASSWORD, next_url=""):
    credentials = {"username": account.username, "password": password, "next": next_url}
    response = post(client, "/connexion/", credentials)
    assert response.status_code == 302 and response.url == "/connexion/code/"
    return post(client, "/connexion/code/", {"code": otp_sent_to(account.email)})


# --- activation ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_activation_through_the_three_pages_makes_an_active_space(csrf_client, family):
    person = family.person()
    code = family.code_for(person)

    post(csrf_client, "/activer/", identity(person, code))
    page = csrf_client.get("/activer/identifiants/")
    assert page.status_code == 200
    assert f'value="{person.email}"' in page.content.decode()  # prefilled from the registry

    response = activate(csrf_client, person, family.code_for(person))

    assert response.status_code == 302 and response.url == "/connexion/"
    person.refresh_from_db()
    assert person.status == SpaceStatus.ACTIVE
    account = Account.objects.get(person=person)
    assert account.username == USERNAME and account.email == person.email
    assert account.check_password(PASSWORD)
    assert not any(key.startswith("activation_") for key in csrf_client.session.keys())
    assert "Votre espace santé est activé" in text(csrf_client.get("/connexion/"))


@pytest.mark.django_db
def test_wrong_identity_gets_one_answer_whichever_field_was_wrong(csrf_client, family, people):
    person = family.person()
    code = family.code_for(person)
    unknown_nir = people.row(birth=person.birth_date)["nir"]

    wrong_nir = post(csrf_client, "/activer/", {**identity(person, code), "nir": unknown_nir})
    wrong_serial = post(csrf_client, "/activer/", {**identity(person, code), "serial": "99999999999"})
    wrong_code = post(csrf_client, "/activer/", identity(person, "AAAA-BBBB-CCCC"))

    for response in (wrong_nir, wrong_serial, wrong_code):
        assert response.status_code == 200
        assert str(UNIFORM_FAILURE) in text(response)
    assert comparable(wrong_nir) == comparable(wrong_serial) == comparable(wrong_code)
    assert "activation_ticket" not in csrf_client.session
    # The right details still work afterwards (two failures do not lock).
    assert post(csrf_client, "/activer/", identity(person, code)).status_code == 302


@pytest.mark.django_db
def test_five_wrong_codes_lock_the_nir_with_a_429(csrf_client, family, settings):
    person = family.person()
    code = family.code_for(person)
    for _ in range(settings.CARNET_MAX_ATTEMPTS):
        assert post(csrf_client, "/activer/", identity(person, "AAAA-BBBB-CCCC")).status_code == 200

    response = post(csrf_client, "/activer/", identity(person, code))

    assert response.status_code == 429
    assert str(LOCKED) in text(response)
    assert "activation_ticket" not in csrf_client.session


@pytest.mark.django_db
def test_malformed_nir_is_explained_before_any_check(csrf_client, family):
    person = family.person()
    bad_key = person.nir[:-2] + ("00" if person.nir[-2:] != "00" else "01")
    response = post(csrf_client, "/activer/", {**identity(person, "AAAA-BBBB-CCCC"), "nir": bad_key})
    assert response.status_code == 200
    assert "clé de contrôle" in text(response)


@pytest.mark.django_db
def test_credentials_step_checks_the_identifier_before_sending_a_code(csrf_client, family):
    person = family.person()
    post(csrf_client, "/activer/", identity(person, family.code_for(person)))
    sent_before = OutboundMessage.objects.count()

    response = post(csrf_client, "/activer/identifiants/", {
        "channel": "email", "destination": person.email, "username": "court",
    })

    assert response.status_code == 200
    assert "8 à 64 caractères" in text(response)
    assert OutboundMessage.objects.count() == sent_before


@pytest.mark.django_db
def test_password_is_checked_on_the_last_step_and_never_kept_in_the_session(csrf_client, family):
    person = family.person(family_name="Fontaine")
    post(csrf_client, "/activer/", identity(person, family.code_for(person)))
    post(csrf_client, "/activer/identifiants/", {
        "channel": "email", "destination": person.email, "username": USERNAME,
    })
    code = otp_sent_to(person.email)

    mismatch = post(csrf_client, "/activer/verification/", finish(code, confirm=PASSWORD + "x"))
    personal = post(csrf_client, "/activer/verification/", finish(code, password="Fontaine-2026!"))

    assert mismatch.status_code == 200 and "ne sont pas identiques" in text(mismatch)
    assert personal.status_code == 200 and "données personnelles" in text(personal)
    assert not any(PASSWORD in str(value) for value in csrf_client.session.values())
    assert post(csrf_client, "/activer/verification/", finish(code)).url == "/connexion/"


@pytest.mark.django_db
def test_wrong_one_time_code_keeps_the_person_on_the_verification_page(csrf_client, family):
    person = family.person()
    post(csrf_client, "/activer/", identity(person, family.code_for(person)))
    post(csrf_client, "/activer/identifiants/", {
        "channel": "email", "destination": person.email, "username": USERNAME,
    })
    right = otp_sent_to(person.email)
    wrong = "000000" if right != "000000" else "111111"

    response = post(csrf_client, "/activer/verification/", finish(wrong))

    assert response.status_code == 200
    assert str(BAD_OTP) in text(response)
    assert "p***@" not in text(response)
    assert not Account.objects.filter(person=person).exists()
    assert post(csrf_client, "/activer/verification/", finish(right)).status_code == 302


def reach_verification(client, family):
    person = family.person()
    post(client, "/activer/", identity(person, family.code_for(person)))
    post(client, "/activer/identifiants/", {
        "channel": "email", "destination": person.email, "username": USERNAME,
    })
    return person


@pytest.mark.django_db
def test_verification_page_can_send_a_new_code(csrf_client, family):
    person = reach_verification(csrf_client, family)
    first = otp_sent_to(person.email)

    response = post(csrf_client, "/activer/verification/", {"resend": "1"})

    assert response.status_code == 302 and response.url == "/activer/verification/"
    second = otp_sent_to(person.email)
    assert "Un nouveau code de sécurité vous a été envoyé" in text(csrf_client.get("/activer/verification/"))
    if first != second:
        assert post(csrf_client, "/activer/verification/", finish(first)).status_code == 200
    assert post(csrf_client, "/activer/verification/", finish(second)).url == "/connexion/"


@pytest.mark.django_db
def test_identifier_taken_meanwhile_sends_the_person_back_to_choose_another(csrf_client, family):
    person = reach_verification(csrf_client, family)
    code = otp_sent_to(person.email)
    Account.objects.create(username=USERNAME)  # someone else took it between the two steps

    response = post(csrf_client, "/activer/verification/", finish(code))

    assert response.status_code == 302 and response.url == "/activer/identifiants/"
    page = csrf_client.get("/activer/identifiants/")
    assert "Cet identifiant est déjà pris" in text(page)
    person.refresh_from_db()
    assert person.status == SpaceStatus.NOTIFIED


@pytest.mark.django_db
def test_activation_steps_need_the_identity_check_first(client):
    assert client.get("/activer/identifiants/").url == "/activer/"
    assert client.get("/activer/verification/").url == "/activer/"


# --- opposition ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_opposition_deletes_the_space_and_gives_a_pdf_proof(csrf_client, family):
    person = family.person()
    code = family.code_for(person)

    response = post(csrf_client, "/opposition/", identity(person, code, confirm="on"))

    assert response.status_code == 200
    proof = Opposition.objects.get()
    assert proof.proof_number in text(response)
    assert not Person.objects.filter(nir=person.nir).exists()
    pdf = csrf_client.get("/opposition/preuve/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert proof.proof_number.encode() in pdf.content
    assert person.nir.encode() not in pdf.content and person.family_name.encode() not in pdf.content


@pytest.mark.django_db
def test_opposition_proof_needs_the_session_that_opposed(client):
    assert client.get("/opposition/preuve/").status_code == 404


@pytest.mark.django_db
def test_opposition_after_the_window_is_refused(csrf_client, family):
    person = family.person(status=SpaceStatus.CREATED)
    code = family.code_for(person)

    response = post(csrf_client, "/opposition/", identity(person, code, confirm="on"))

    assert response.status_code == 200
    assert "Le délai d'opposition est dépassé" in text(response)
    assert Person.objects.filter(pk=person.pk).exists()
    assert not Opposition.objects.exists()


# --- new provisional code --------------------------------------------------------------------


@pytest.mark.django_db
def test_new_code_answers_the_same_for_unknown_and_known_people(csrf_client, family, people):
    person = family.person()
    unknown = people.row(birth=person.birth_date)["nir"]
    birth = person.birth_date.isoformat()

    known_answer = post(csrf_client, "/code-provisoire/", {"nir": person.nir, "serial": person.vitale_serial,
                                                             "birth_date": birth})
    unknown_answer = post(csrf_client, "/code-provisoire/", {"nir": unknown, "serial": person.vitale_serial,
                                                               "birth_date": birth})

    assert known_answer.status_code == unknown_answer.status_code == 200
    assert "Si les informations correspondent" in text(known_answer)
    assert comparable(known_answer) == comparable(unknown_answer)
    assert person.nir not in text(known_answer)


@pytest.mark.django_db
def test_regeneration_link_issues_a_code_that_activates(csrf_client, family):
    person = family.person()
    post(csrf_client, "/code-provisoire/", {"nir": person.nir, "serial": person.vitale_serial,
                                            "birth_date": person.birth_date.strftime("%d/%m/%Y")})
    body = last_message_to(person.email).body
    link = re.search(r"https://carnet\.test(/code-provisoire/lien/[\w-]+/)", body)
    assert link, "no link in the email"
    url = link.group(1)

    # The token leaves the URL at once: the browser continues to a page without it.
    opened = csrf_client.get(url)
    assert opened.status_code == 302 and opened["Location"] == "/code-provisoire/confirmer/"
    confirm = "/code-provisoire/confirmer/"
    assert csrf_client.get(confirm).status_code == 200  # a mail scanner's visit does not spend the link
    page = csrf_client.get(confirm)
    assert page.status_code == 200 and "carnet-code" not in page.content.decode()
    shown = post(csrf_client, confirm, {})
    assert shown.status_code == 200
    code = re.search(r'class="carnet-code[^"]*"[^>]*>\s*([A-Z0-9-]+)\s*<', shown.content.decode()).group(1)
    assert shown["Cache-Control"].count("no-store")

    csrf_client.get(url)
    assert post(csrf_client, confirm, {}).status_code == 410  # used up
    assert activate(csrf_client, person, code).status_code == 302
    person.refresh_from_db()
    assert person.status == SpaceStatus.ACTIVE


@pytest.mark.django_db
def test_unknown_regeneration_link_is_refused_with_a_way_forward(csrf_client):
    csrf_client.get("/code-provisoire/lien/not-a-real-token/")
    response = post(csrf_client, "/code-provisoire/confirmer/", {})
    assert response.status_code == 410
    assert 'href="/code-provisoire/"' in response.content.decode()


# --- sign-in ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_takes_password_then_one_time_code_and_logout_ends_the_device(csrf_client, family):
    account = family.holder()

    response = sign_in(csrf_client, account)

    assert response.status_code == 302 and response.url == "/"
    device = DeviceSession.objects.get(account=account)
    assert csrf_client.session["device"] == str(device.uuid)
    assert device.session_key == csrf_client.session.session_key
    dashboard = csrf_client.get("/")
    assert account.person.full_name in text(dashboard)
    assert 'href="/historique/"' in dashboard.content.decode()

    assert csrf_client.get("/deconnexion/").status_code == 405
    response = post(csrf_client, "/deconnexion/", {}, form_url="/")
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.ended_at is not None
    assert "_auth_user_id" not in csrf_client.session
    assert account.person.full_name not in text(csrf_client.get("/"))


@pytest.mark.django_db
def test_wrong_password_or_one_time_code_is_refused(csrf_client, family):
    account = family.holder()

    response = post(csrf_client, "/connexion/", {"username": account.username, "password": "Mauvais-1234!"})
    assert response.status_code == 200
    assert str(BAD_CREDENTIALS) in text(response)

    post(csrf_client, "/connexion/", {"username": account.username, "password": PASSWORD})
    right = otp_sent_to(account.email)
    response = post(csrf_client, "/connexion/code/", {"code": "000000" if right != "000000" else "111111"})
    assert response.status_code == 200
    assert str(BAD_OTP) in text(response)
    assert "_auth_user_id" not in csrf_client.session
    assert not DeviceSession.objects.exists()


@pytest.mark.django_db
def test_one_time_code_page_needs_the_password_step(client):
    assert client.get("/connexion/code/").url == "/connexion/"


@pytest.mark.django_db
@pytest.mark.urls("tests.portal.test_public")
def test_protected_page_sends_anonymous_people_to_login_and_back(csrf_client, family):
    response = csrf_client.get("/test-protege/")
    assert response.status_code == 302
    assert response.url == "/connexion/?next=/test-protege/"

    account = family.holder()
    response = sign_in(csrf_client, account, next_url="/test-protege/")

    assert response.url == "/test-protege/"
    assert csrf_client.get("/test-protege/").status_code == 200


@pytest.mark.django_db
def test_login_ignores_an_offsite_next(csrf_client, family):
    response = sign_in(csrf_client, family.holder(), next_url="https://evil.example/")
    assert response.url == "/"


@pytest.mark.django_db
def test_password_reset_end_to_end(csrf_client, family):
    account = family.holder()

    response = post(csrf_client, "/mot-de-passe-oublie/", {"username": account.username})
    assert response.status_code == 302 and response.url == "/mot-de-passe-oublie/code/"
    response = post(csrf_client, "/mot-de-passe-oublie/code/", {
        "code": otp_sent_to(account.email),
        "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD,
    })

    assert response.status_code == 302 and response.url == "/connexion/"
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)
    assert sign_in(csrf_client, account, password=NEW_PASSWORD).url == "/"


@pytest.mark.django_db
def test_password_reset_answers_alike_for_an_unknown_identifier(csrf_client):
    response = post(csrf_client, "/mot-de-passe-oublie/", {"username": "personne.inconnue"})
    assert response.status_code == 302 and response.url == "/mot-de-passe-oublie/code/"
    assert not OutboundMessage.objects.exists()


@pytest.mark.django_db
def test_username_reminder_answers_alike_and_mails_the_identifier(csrf_client, family, people):
    account = family.holder()
    person = account.person
    birth = person.birth_date.isoformat()

    known = post(csrf_client, "/identifiant-oublie/", {"nir": person.nir, "birth_date": birth})
    unknown = post(csrf_client, "/identifiant-oublie/", {"nir": people.row(birth=person.birth_date)["nir"],
                                                         "birth_date": birth})

    assert comparable(known) == comparable(unknown)
    assert account.username in last_message_to(account.email).body


# --- every page ------------------------------------------------------------------------------

PUBLIC_PAGES = [
    "/", "/activer/", "/opposition/", "/code-provisoire/", "/connexion/",
    "/mot-de-passe-oublie/", "/identifiant-oublie/", "/cgu/", "/accessibilite/",
]


def assert_accessible_basics(response):
    page = response.content.decode()
    assert response.status_code == 200
    assert len(re.findall(r"<h1[\s>]", page)) == 1
    assert re.search(r"<title>[^<]+ — Carnet</title>", page)
    for tag in re.findall(r"<input\b[^>]*>", page):
        if 'type="hidden"' in tag:
            continue
        field_id = re.search(r'id="([^"]+)"', tag)
        assert field_id and f'for="{field_id.group(1)}"' in page, f"input without a label: {tag}"


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_page_renders_with_one_h1_and_labelled_inputs(client, url):
    assert_accessible_basics(client.get(url))


@pytest.mark.django_db
def test_journey_pages_render_with_one_h1_and_labelled_inputs(csrf_client, family):
    person = family.person()
    post(csrf_client, "/activer/", identity(person, family.code_for(person)))
    assert_accessible_basics(csrf_client.get("/activer/identifiants/"))
    post(csrf_client, "/activer/identifiants/", {
        "channel": "email", "destination": person.email, "username": USERNAME,
    })
    verify = csrf_client.get("/activer/verification/")
    assert_accessible_basics(verify)
    assert person.email[:1] + "***@example.org" in text(verify)

    account = family.holder()
    post(csrf_client, "/connexion/", {"username": account.username, "password": PASSWORD})
    assert_accessible_basics(csrf_client.get("/connexion/code/"))
    post(csrf_client, "/mot-de-passe-oublie/", {"username": account.username})
    assert_accessible_basics(csrf_client.get("/mot-de-passe-oublie/code/"))
    sign_in(csrf_client, account)
    assert_accessible_basics(csrf_client.get("/"))


@pytest.mark.django_db
def test_no_code_or_nir_in_redirect_urls(csrf_client, family):
    person = family.person()
    code = family.code_for(person)
    response = post(csrf_client, "/activer/", identity(person, code))
    assert person.nir not in response.url and code not in response.url


def test_birth_date_accepts_french_format():
    from carnet.portal.forms_public import NewCodeForm

    form = NewCodeForm({"nir": "", "serial": "", "birth_date": "03/02/1990"})
    form.is_valid()
    assert form.cleaned_data["birth_date"] == dt.date(1990, 2, 3)


# --- in a real browser -----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_public_pages_pass_axe_and_activation_works_without_javascript(
    live_server, browser_page, family,
):
    for url in PUBLIC_PAGES:
        browser_page.goto(live_server.url + url)
        assert_accessible(browser_page)

    person = family.person()
    code = family.code_for(person)
    context = browser_page.context.browser.new_context(java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    page.goto(live_server.url + "/activer/")
    page.fill("#id_nir", person.nir)
    page.fill("#id_serial", person.vitale_serial)
    page.fill("#id_code", code)
    page.click("form[action='/activer/'] button[type=submit]")
    assert page.url.endswith("/activer/identifiants/")
    page.click("label[for=id_channel_0]")
    assert page.input_value("#id_destination") == person.email
    page.fill("#id_username", USERNAME)
    page.click("form[action='/activer/identifiants/'] button[type=submit]")
    assert page.url.endswith("/activer/verification/")
    # Committed for real here, so the outbox row was delivered and its body erased: read the mail itself.
    otp = code_in(next(m.body for m in reversed(mail.outbox) if m.to == [person.email]))
    page.fill("#id_code", otp)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_confirm", PASSWORD)
    page.click("label[for=id_accept_terms]")
    page.click("form[action='/activer/verification/'] button:not([name=resend])")
    assert page.url.endswith("/connexion/")
    assert "Votre espace santé est activé" in page.content()
    context.close()
    person.refresh_from_db()
    assert person.status == SpaceStatus.ACTIVE


@pytest.mark.django_db
def test_the_portal_is_available_in_english(client):
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    assert '<html lang="en"' in html
    assert "Activate my space" in html and "Activer mon espace" not in html
    assert "Activer mon espace" in Client().get("/").content.decode()
