"""Opposition, activation and provisional-code regeneration (domain actions)."""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from carnet.cli.daily import run_daily
from carnet.common.dates import today
from carnet.identity import actions
from carnet.identity.actions.enrolment import UNIFORM_FAILURE, is_opposed
from carnet.identity.enums import Channel, SpaceStatus
from carnet.identity.models import Account, Opposition, Person, ProvisionalCode, RegenerationLink
from carnet.notifications.models import OutboundMessage
from carnet.sharing.events import verify_chain
from carnet.sharing.models import AccessEvent
from tests.conftest import code_in, last_message_to

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Tr3s-Solide!mot"


def activate(person, code, *, username="lea.martin.75", password=NEW_PASSWORD, channel=Channel.EMAIL,
             destination=None):
    ticket = actions.begin_activation(person.nir, person.vitale_serial, code)
    destination = destination or "lea@example.org"
    otp = actions.send_activation_otp(ticket.token, channel, destination)
    otp_code = code_in(last_message_to(otp.destination).body)
    return actions.complete_activation(ticket.token, otp_uuid=otp.uuid, otp_code=otp_code, username=username,
                                       password=password, accept_terms=True)


def assert_uniform_failure(nir, serial, code):
    with pytest.raises(actions.EnrolmentError) as error:
        actions.begin_activation(nir, serial, code)
    assert error.value.message == str(UNIFORM_FAILURE)


class TestActivation:
    def test_activation_makes_the_space_active_with_a_verified_contact(self, family):
        person = family.person()
        code = family.code_for(person)

        account = activate(person, code)

        person.refresh_from_db()
        assert person.status == SpaceStatus.ACTIVE and person.activated_at
        assert account.username == "lea.martin.75" and account.email == "lea@example.org"
        assert account.check_password(NEW_PASSWORD) and account.terms_accepted_at
        assert ProvisionalCode.objects.get(person=person).used_at is not None
        assert AccessEvent.objects.filter(person=person, action="space.activate").exists()
        assert verify_chain(person)

    def test_activation_is_possible_during_the_opposition_window_and_after_it(self, family):
        during = family.person(status=SpaceStatus.NOTIFIED)
        after = family.person(status=SpaceStatus.CREATED)
        activate(during, family.code_for(during), username="pendant.delai")
        activate(after, family.code_for(after), username="apres.delai")
        assert set(Person.objects.filter(pk__in=[during.pk, after.pk]).values_list("status", flat=True)) == {"active"}

    def test_every_wrong_field_gives_the_same_message(self, family):
        person = family.person()
        code = family.code_for(person)
        other = family.person()
        family.code_for(other)

        assert_uniform_failure(other.nir, person.vitale_serial, code)  # NIR of someone else
        assert_uniform_failure("2 99 01 75 113 999 12", person.vitale_serial, code)  # unknown NIR
        assert_uniform_failure(person.nir, "000000000000", code)  # wrong serial
        assert_uniform_failure(person.nir, person.vitale_serial, "AAAA-BBBB-CCCC")  # wrong code

    def test_expired_code_is_refused(self, family):
        person = family.person()
        code = family.code_for(person)
        with time_machine.travel(timezone.now() + dt.timedelta(days=43)):
            assert_uniform_failure(person.nir, person.vitale_serial, code)

    def test_used_code_is_refused(self, family):
        person = family.person()
        code = family.code_for(person)
        account = activate(person, code)
        account.delete()  # even without an account, a used code never works again
        assert_uniform_failure(person.nir, person.vitale_serial, code)

    def test_a_regenerated_code_revokes_the_previous_one(self, family):
        person = family.person()
        first = family.code_for(person)
        family.code_for(person)
        assert_uniform_failure(person.nir, person.vitale_serial, first)

    def test_five_failures_lock_the_nir_even_with_the_right_code_then_the_lock_expires(self, family, settings):
        person = family.person()
        code = family.code_for(person)
        for _ in range(5):
            assert_uniform_failure(person.nir, person.vitale_serial, "AAAA-BBBB-CCCC")
        with pytest.raises(actions.EnrolmentError, match="Trop de tentatives"):
            actions.begin_activation(person.nir, person.vitale_serial, code)
        with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.CARNET_LOCKOUT_BASE_SECONDS + 5)):
            assert actions.begin_activation(person.nir, person.vitale_serial, code).person == person

    def test_the_lockout_delay_grows(self, family, settings):
        person = family.person()
        family.code_for(person)
        base = settings.CARNET_LOCKOUT_BASE_SECONDS
        for _ in range(5):
            assert_uniform_failure(person.nir, person.vitale_serial, "AAAA-BBBB-CCCC")
        with time_machine.travel(timezone.now() + dt.timedelta(seconds=base + 5)):
            for _ in range(5):
                assert_uniform_failure(person.nir, person.vitale_serial, "AAAA-BBBB-CCCC")
        with time_machine.travel(timezone.now() + dt.timedelta(seconds=2 * base + 10)):
            # the second lock lasts twice as long: still locked here
            with pytest.raises(actions.EnrolmentError, match="Trop de tentatives"):
                actions.begin_activation(person.nir, person.vitale_serial, "AAAA-BBBB-CCCC")

    def test_unknown_nirs_are_locked_too(self, family):
        for _ in range(5):
            assert_uniform_failure("2 99 01 75 113 999 12", "123456789012", "AAAA-BBBB-CCCC")
        with pytest.raises(actions.EnrolmentError, match="Trop de tentatives"):
            actions.begin_activation("2 99 01 75 113 999 12", "123456789012", "AAAA-BBBB-CCCC")

    @pytest.mark.parametrize(
        ("username", "password", "field"),
        [
            ("court", NEW_PASSWORD, "username"),
            ("lea@example.org", NEW_PASSWORD, "username"),
            ("prénom.accent", NEW_PASSWORD, "username"),
            ("fr7630006000011234567890189", NEW_PASSWORD, "username"),
            ("bon.identifiant", "court1!A", "password"),
            ("bon.identifiant", "toutenminuscules", "password"),
        ],
    )
    def test_credentials_rules(self, family, username, password, field):
        person = family.person()
        ticket = actions.begin_activation(person.nir, person.vitale_serial, family.code_for(person))
        otp = actions.send_activation_otp(ticket.token, Channel.EMAIL, "x@example.org")
        with pytest.raises(actions.EnrolmentError) as error:
            actions.complete_activation(ticket.token, otp_uuid=otp.uuid, otp_code="000000", username=username,
                                        password=password, accept_terms=True)
        assert error.value.field == field
        assert not Account.objects.exists()

    def test_password_with_personal_data_is_refused_and_a_passphrase_is_accepted(self, family):
        person = family.person(family_name="Fontaine")
        ticket = actions.begin_activation(person.nir, person.vitale_serial, family.code_for(person))
        otp = actions.send_activation_otp(ticket.token, Channel.EMAIL, "x@example.org")
        with pytest.raises(actions.EnrolmentError, match="données personnelles"):
            actions.complete_activation(ticket.token, otp_uuid=otp.uuid, otp_code="000000",
                                        username="bon.identifiant", password="Fontaine-2026!", accept_terms=True)
        otp_code = code_in(last_message_to("x@example.org").body)
        account = actions.complete_activation(
            ticket.token, otp_uuid=otp.uuid, otp_code=otp_code, username="bon.identifiant",
            password="le chat dort sur le canapé bleu", accept_terms=True)
        assert account.pk

    def test_terms_must_be_accepted_and_the_otp_must_match(self, family):
        person = family.person()
        ticket = actions.begin_activation(person.nir, person.vitale_serial, family.code_for(person))
        otp = actions.send_activation_otp(ticket.token, Channel.SMS, "06 12 34 56 78")
        assert otp.destination == "+33612345678"
        with pytest.raises(actions.EnrolmentError, match="conditions"):
            actions.complete_activation(ticket.token, otp_uuid=otp.uuid, otp_code="1", username="bon.identifiant",
                                        password=NEW_PASSWORD, accept_terms=False)
        with pytest.raises(actions.EnrolmentError) as error:
            actions.complete_activation(ticket.token, otp_uuid=otp.uuid, otp_code="999999",
                                        username="bon.identifiant", password=NEW_PASSWORD, accept_terms=True)
        assert error.value.field == "otp_code"
        sms = last_message_to("+33612345678")
        assert sms.channel == "sms"
        account = actions.complete_activation(ticket.token, otp_uuid=otp.uuid, otp_code=code_in(sms.body),
                                              username="bon.identifiant", password=NEW_PASSWORD,
                                              accept_terms=True)
        assert account.phone == "+33612345678" and account.otp_channel == Channel.SMS

    def test_username_must_be_unique(self, family):
        first, second = family.person(), family.person()
        activate(first, family.code_for(first), username="meme.identifiant")
        with pytest.raises(actions.EnrolmentError, match="déjà pris"):
            activate(second, family.code_for(second), username="meme.identifiant")

    def test_a_minor_cannot_activate_through_the_public_flow(self, family):
        parent = family.person(status=SpaceStatus.ACTIVE)
        child = family.person(age=10, parent=parent, email=False)
        with pytest.raises(actions.EnrolmentError, match="représentant légal"):
            actions.begin_activation(child.nir, child.vitale_serial, family.code_for(child))


class TestOpposition:
    def test_opposition_deletes_the_person_and_keeps_only_the_proof(self, family):
        person = family.person()
        code = family.code_for(person)
        nir = person.nir

        opposition = actions.oppose(nir, person.vitale_serial, code)

        assert opposition.proof_number.startswith("OPP-")
        assert not Person.objects.filter(nir=nir).exists()
        assert is_opposed(nir)
        assert nir not in opposition.nir_digest
        # the notice that carried the code is emptied too
        assert not OutboundMessage.objects.exclude(body="").filter(recipient__contains="@").filter(
            body__contains=code).exists()

    def test_opposition_after_the_window_is_refused(self, family):
        person = family.person()
        with time_machine.travel(timezone.now() + dt.timedelta(days=43)):
            code = family.code_for(person)  # a fresh code, but the window has closed
            with pytest.raises(actions.EnrolmentError, match="délai d'opposition est dépassé"):
                actions.oppose(person.nir, person.vitale_serial, code)
        assert Person.objects.filter(pk=person.pk).exists() and not Opposition.objects.exists()

    def test_opposition_is_refused_once_the_space_is_created(self, family):
        person = family.person(status=SpaceStatus.CREATED, opposition_deadline=today() - dt.timedelta(days=1))
        with pytest.raises(actions.EnrolmentError, match="délai"):
            actions.oppose(person.nir, person.vitale_serial, family.code_for(person))

    def test_a_parent_opposes_for_a_minor_with_the_code_they_received(self, family):
        parent = family.person()
        child = family.person(age=6, parent=parent, email=False)
        code = family.code_for(child)
        assert code_in(last_message_to(parent.email).body) == code

        opposition = actions.oppose(child.nir, child.vitale_serial, code)

        assert opposition.by_representative and not Person.objects.filter(pk=child.pk).exists()

    def test_wrong_code_gives_the_uniform_message(self, family):
        person = family.person()
        family.code_for(person)
        with pytest.raises(actions.EnrolmentError) as error:
            actions.oppose(person.nir, person.vitale_serial, "ZZZZ-ZZZZ-ZZZZ")
        assert error.value.message == str(UNIFORM_FAILURE)


class TestCodeRegeneration:
    def test_matching_card_details_mail_a_one_time_link_that_issues_a_working_code(self, family):
        person = family.person()
        old = family.code_for(person)

        actions.request_new_code(person.nir, person.vitale_serial, person.birth_date)

        link_mail = last_message_to(person.email)
        token = link_mail.body.split("/code-provisoire/lien/")[1].split("/")[0]
        assert person.nir not in link_mail.body
        redeemed = actions.redeem_regeneration_link(token)
        assert redeemed is not None
        _, code = redeemed
        assert actions.redeem_regeneration_link(token) is None  # single use
        assert_uniform_failure(person.nir, person.vitale_serial, old)
        assert actions.begin_activation(person.nir, person.vitale_serial, code).person == person

    def test_no_response_reveals_whether_a_nir_exists(self, family):
        person = family.person()
        before = OutboundMessage.objects.count()
        assert actions.request_new_code("2 99 01 75 113 999 12", "123", dt.date(1980, 1, 1)) is None
        assert actions.request_new_code(person.nir, "000000000", person.birth_date) is None
        assert OutboundMessage.objects.count() == before
        assert not RegenerationLink.objects.exists()

    def test_links_expire(self, family):
        person = family.person()
        actions.request_new_code(person.nir, person.vitale_serial, person.birth_date)
        token = last_message_to(person.email).body.split("/code-provisoire/lien/")[1].split("/")[0]
        with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
            assert actions.redeem_regeneration_link(token) is None

    def test_without_email_a_new_code_is_posted(self, family):
        person = family.person(email=False)
        actions.request_new_code(person.nir, person.vitale_serial, person.birth_date)
        letter = OutboundMessage.objects.get(person=person, channel="letter")
        assert letter.status == "pending" and person.family_name in letter.recipient
        assert not RegenerationLink.objects.exists()
        run_daily(today())  # the day's print batch
        letter.refresh_from_db()
        assert letter.status == "printed"

    def test_a_minor_link_goes_to_the_parent(self, family):
        parent = family.person()
        child = family.person(age=12, parent=parent, email=False)
        actions.request_new_code(child.nir, child.vitale_serial, child.birth_date)
        assert "/code-provisoire/lien/" in last_message_to(parent.email).body


def test_one_address_trying_many_nirs_is_locked(family, settings):
    from carnet.identity.actions.enrolment import IP_LIMIT

    person = family.person()
    code = family.code_for(person)
    for index in range(IP_LIMIT):
        with pytest.raises(actions.EnrolmentError):
            actions.begin_activation(f"1 80 01 75 113 {index:03d} 00", "123456789012", "AAAA-BBBB-CCCC", ip="192.0.2.7")
    with pytest.raises(actions.EnrolmentError) as error:
        actions.begin_activation(person.nir, person.vitale_serial, code, ip="192.0.2.7")
    assert error.value.code == "locked"
    assert actions.begin_activation(person.nir, person.vitale_serial, code, ip="192.0.2.8").person == person


def test_provisional_codes_are_uniform_over_the_alphabet():
    """Rejection sampling, not folding: no character of the alphabet is favoured (chi-squared)."""
    from carnet.common.secrets import CODE_ALPHABET, new_codes, new_provisional_code

    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", new_provisional_code())
    text = "".join(new_codes(20_000))
    assert set(text) <= set(CODE_ALPHABET)
    expected = len(text) / len(CODE_ALPHABET)
    chi2 = sum((text.count(c) - expected) ** 2 / expected for c in CODE_ALPHABET)
    assert chi2 < 80  # 30 degrees of freedom: p ≈ 1e-6 that a fair generator exceeds this
