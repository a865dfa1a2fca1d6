"""Opposition and activation: a person proves who they are with NIR + Vitale serial + provisional
code, then either refuses their space or takes it up."""

import secrets
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carnet.common.dates import today
from carnet.common.secrets import keyed_hash
from carnet.notifications import actions as notifications
from carnet.notifications.enums import Kind
from carnet.sharing.events import record
from carnet.sharing.policy import Role

from .. import otp as otps
from .. import throttle
from ..enums import Channel, OtpPurpose, SpaceStatus
from ..errors import LOCKED, ActionRefused
from ..models import Account, Opposition, Person, ProvisionalCode
from ..validators import (
    normalise_nir,
    normalise_serial,
    validate_mobile,
    validate_password,
    validate_username,
)
from .codes import usable_code

TERMS_VERSION = "2026-11"
TICKET_SALT = "carnet.identity.activation"
TICKET_MAX_AGE = 30 * 60
UNIFORM_FAILURE = gettext_lazy(
    "Les informations saisies ne correspondent pas. Vérifiez votre numéro de sécurité sociale, le numéro "
    "de série de votre carte Vitale et votre code provisoire (un code ne sert qu'une fois et expire : "
    "vous pouvez en demander un nouveau)."
)


class EnrolmentError(ActionRefused):
    pass


IP_LIMIT = 50  # failures from one address (many NIRs tried) before it is locked too


def verify_enrolment(nir: str, serial: str, code: str, *, statuses, ip: str = "") -> tuple[Person, ProvisionalCode]:
    """NIR + serial + code, checked together: one uniform failure whichever was wrong, 5 failures
    lock the NIR for a growing delay (also for NIRs that do not exist), 50 lock the address."""
    nir = normalise_nir(nir)
    try:
        throttle.check("enrolment", nir)
        if ip:
            throttle.check("enrolment-ip", ip)
    except throttle.Locked:
        raise EnrolmentError(LOCKED, code="locked") from None
    person = Person.objects.filter(nir=nir).select_related("parent").first()
    code_row = usable_code(person, code) if person else None
    serial_ok = person is not None and secrets.compare_digest(person.vitale_serial, normalise_serial(serial))
    if person is None or code_row is None or not serial_ok or person.status not in statuses:
        throttle.fail("enrolment", nir)
        if ip:
            throttle.fail("enrolment-ip", ip, limit=IP_LIMIT)
        raise EnrolmentError(UNIFORM_FAILURE)
    throttle.succeed("enrolment", nir)
    return person, code_row


def oppose(nir: str, serial: str, code: str, *, ip: str = "") -> Opposition:
    """Opposition during the window: only the proof is kept, the person's data is deleted, and a later
    registry import will not recreate the space."""
    person, _code = verify_enrolment(nir, serial, code, statuses={SpaceStatus.NOTIFIED, SpaceStatus.CREATED}, ip=ip)
    if person.status != SpaceStatus.NOTIFIED or (person.opposition_deadline and person.opposition_deadline < today()):
        raise EnrolmentError(
            _("Le délai d'opposition est dépassé. Vous pouvez activer votre espace puis le fermer depuis ses "
              "paramètres.")
        )
    with transaction.atomic():
        opposition = Opposition.objects.create(
            nir_digest=keyed_hash(person.nir, "opposition"),
            proof_number="OPP-" + secrets.token_hex(6).upper(),
            by_representative=person.is_minor(),
        )
        # Messages already sent keep no trace of the person: erase their text before deletion.
        from carnet.notifications.models import OutboundMessage

        OutboundMessage.objects.filter(person=person).update(body="", body_erased=True, recipient="")
        person.delete()
    return opposition


def is_opposed(nir: str) -> bool:
    return Opposition.objects.filter(nir_digest=keyed_hash(nir, "opposition")).exists()


@dataclass
class ActivationTicket:
    """Proof that a person passed the identity check, carried between the activation steps."""

    token: str
    person: Person

    @property
    def suggested_email(self) -> str:
        return self.person.email

    @property
    def suggested_phone(self) -> str:
        return self.person.phone


ACTIVABLE = {SpaceStatus.NOTIFIED, SpaceStatus.CREATED, SpaceStatus.ACTIVE}


def begin_activation(nir: str, serial: str, code: str, *, ip: str = "") -> ActivationTicket:
    person, code_row = verify_enrolment(nir, serial, code, statuses=ACTIVABLE, ip=ip)
    if person.has_account:
        raise EnrolmentError(UNIFORM_FAILURE)
    if person.is_minor() and person.parent_id:
        raise EnrolmentError(
            _("Ce profil est celui d'un mineur : son représentant légal l'active depuis son propre espace, "
              "rubrique « Mes proches ».")
        )
    token = signing.dumps({"p": str(person.uuid), "c": code_row.pk}, salt=TICKET_SALT)
    return ActivationTicket(token=token, person=person)


def read_ticket(token: str) -> tuple[Person, int]:
    try:
        data = signing.loads(token, salt=TICKET_SALT, max_age=TICKET_MAX_AGE)
    except signing.BadSignature:
        raise EnrolmentError(_("Votre session d'activation a expiré. Recommencez depuis le début.")) from None
    person = Person.objects.filter(uuid=data["p"]).first()
    if person is None or person.has_account:
        raise EnrolmentError(_("Votre session d'activation a expiré. Recommencez depuis le début."))
    return person, data["c"]


def send_activation_otp(token: str, channel: str, destination: str):
    """Step 2: the person names the email address or mobile number they will use; we send it a code."""
    person, _code_id = read_ticket(token)
    if channel == Channel.SMS:
        try:
            destination = validate_mobile(destination)
        except ValidationError as exc:
            raise EnrolmentError(exc.messages[0], "destination") from None
    else:
        from django.core.validators import validate_email

        destination = destination.strip()
        try:
            validate_email(destination)
        except ValidationError:
            raise EnrolmentError(_("Adresse électronique invalide."), "destination") from None
    try:
        throttle.check("otp-send", str(person.uuid))
    except throttle.Locked:
        raise EnrolmentError(LOCKED, code="locked") from None
    throttle.fail("otp-send", str(person.uuid), limit=10)  # at most 10 codes sent per lockout period
    return otps.issue(OtpPurpose.ACTIVATION_CONTACT, channel, destination, person=person)


def complete_activation(token: str, *, otp_uuid, otp_code: str, username: str, password: str,
                        accept_terms: bool) -> Account:
    """Step 3: verified contact, chosen identifier and password, terms accepted: the space is active."""
    person, code_id = read_ticket(token)
    if not accept_terms:
        raise EnrolmentError(_("Vous devez accepter les conditions générales d'utilisation."), "accept_terms")
    try:
        username = validate_username(username, nir=person.nir, email=person.email)
    except ValidationError as exc:
        raise EnrolmentError(exc.messages[0], "username") from None
    if Account.objects.filter(username=username).exists():
        raise EnrolmentError(_("Cet identifiant est déjà pris. Choisissez-en un autre."), "username")
    try:
        validate_password(password, family_name=person.family_name, given_names=person.given_names,
                          birth_date=person.birth_date, nir=person.nir, username=username, email=person.email)
    except ValidationError as exc:
        raise EnrolmentError(exc.messages[0], "password") from None
    try:
        otp = otps.consume(otp_uuid, otp_code, OtpPurpose.ACTIVATION_CONTACT)
    except otps.OtpInvalid:
        raise EnrolmentError(_("Code de sécurité incorrect ou expiré."), "otp_code") from None
    if otp.person_id != person.pk:
        raise EnrolmentError(_("Code de sécurité incorrect ou expiré."), "otp_code")
    now = timezone.now()
    with transaction.atomic():
        code_row = ProvisionalCode.objects.select_for_update().filter(pk=code_id, person=person).first()
        if code_row is None or not code_row.is_usable(now):
            raise EnrolmentError(UNIFORM_FAILURE)
        code_row.used_at = now
        code_row.save(update_fields=["used_at"])
        ProvisionalCode.objects.filter(person=person, used_at__isnull=True).update(revoked_at=now)
        account = Account(
            person=person, username=username, terms_accepted_at=now, terms_version=TERMS_VERSION,
            otp_channel=otp.channel,
            email=otp.destination if otp.channel == Channel.EMAIL else "",
            phone=otp.destination if otp.channel == Channel.SMS else "",
        )
        account.set_password(password)
        account.save()
        person.status = SpaceStatus.ACTIVE
        person.activated_at = now
        person.opened_at = person.opened_at or now
        person.save(update_fields=["status", "activated_at", "opened_at", "updated_at"])
        record(person, actor=person, role=Role.HOLDER, action="space.activate")
        notifications.notify(person, kind=Kind.ACCOUNT, code="ACTIVATION",
                             title=_("Votre espace santé est activé"), url="/")
    return account
