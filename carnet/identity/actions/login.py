"""Login (password + one-time code), password reset, contact change, devices."""

import uuid as uuidlib
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connections, router, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carnet.common.secrets import keyed_hash, new_token
from carnet.notifications import actions as notifications
from carnet.notifications.enums import Kind
from carnet.sharing.events import record
from carnet.sharing.policy import Role

from .. import notices, throttle
from .. import otp as otps
from ..enums import Channel, OtpPurpose, SpaceStatus
from ..errors import LOCKED, ActionRefused
from ..models import Account, DeviceSession, Person
from ..validators import normalise_nir, validate_mobile, validate_password

BAD_CREDENTIALS = gettext_lazy("Identifiant ou mot de passe incorrect.")
BAD_OTP = gettext_lazy("Code de sécurité incorrect ou expiré.")
TOKEN_PURPOSE = "api-token"


class LoginError(ActionRefused):
    pass


@dataclass
class Challenge:
    """A one-time code on its way; the page shows where it went (masked)."""

    otp_uuid: uuidlib.UUID
    channel: str
    masked_destination: str


def _check(scope: str, value: str) -> None:
    try:
        throttle.check(scope, value)
    except throttle.Locked:
        raise LoginError(LOCKED, code="locked") from None


def begin_login(username: str, password: str, *, ip: str = "") -> Challenge:
    """First factor. Limits per identifier (5) and per address (50) against guessing."""
    username = username.strip().lower()
    _check("login", username)
    if ip:
        _check("login-ip", ip)
    account = authenticate(username=username, password=password)
    if account is None or not (
        account.is_staff or (account.person is not None and account.person.status == SpaceStatus.ACTIVE)
    ):
        throttle.fail("login", username)
        if ip:
            throttle.fail("login-ip", ip, limit=50)
        raise LoginError(BAD_CREDENTIALS)
    throttle.succeed("login", username)
    otp = otps.issue(OtpPurpose.LOGIN, account.otp_channel, account.otp_destination(), person=account.person,
                     account=account)
    return Challenge(otp.uuid, otp.channel, otps.mask(otp.destination))


def finish_login(otp_uuid, code: str) -> Account:
    """Second factor: returns the account; the face opens the session or issues a token."""
    try:
        otp = otps.consume(otp_uuid, code, OtpPurpose.LOGIN)
    except otps.OtpInvalid:
        raise LoginError(BAD_OTP) from None
    if otp.account_id is None:  # never: a login code is issued to an account, and deleted with it
        raise LoginError(BAD_OTP)
    account = Account.objects.select_related("person").get(pk=otp.account_id)
    if account.person_id:
        record(account.person, actor=account.person, role=Role.HOLDER, action="account.login")
    return account


def open_device(account: Account, *, kind: str, session_key: str = "",
                user_agent: str = "") -> tuple[DeviceSession, str]:
    """Register a signed-in device; for the API, returns the bearer token (only its hash is kept)."""
    token = new_token() if kind == DeviceSession.Kind.API else ""
    device = DeviceSession.objects.create(
        account=account, kind=kind, session_key=session_key, user_agent=user_agent[:200],
        token_hash=keyed_hash(token, TOKEN_PURPOSE) if token else "",
    )
    return device, token


_TOKEN_MODELS: tuple[type[Model], ...] = (DeviceSession, Account, Person)
_token_sql: str | None = None


def _token_lookup_sql(connection) -> str:
    """The token lookup, written once from the models' fields: the device, its account and person in one row.

    Asked on every API and FHIR request; building it through the ORM (select_related on three wide rows) cost
    about three times what PostgreSQL takes to answer it. Empty when a field needs a conversion from the
    database (then the ORM does it)."""
    global _token_sql
    if _token_sql is None:
        fields = [(alias, model._meta.db_table, field) for alias, model in zip("dap", _TOKEN_MODELS, strict=True)
                  for field in model._meta.concrete_fields]
        if any(connection.ops.get_db_converters(field.get_col(table)) or field.get_db_converters(connection)  # type: ignore[attr-defined]
               for _alias, table, field in fields):
            _token_sql = ""
            return _token_sql
        columns = ", ".join(f'{alias}."{field.column}"' for alias, _table, field in fields)
        # Table and column names come from the models, the values are parameters.
        _token_sql = (
            f'SELECT {columns} FROM "{DeviceSession._meta.db_table}" d '  # noqa: S608
            f'JOIN "{Account._meta.db_table}" a ON a."id" = d."account_id" '
            f'LEFT JOIN "{Person._meta.db_table}" p ON p."id" = a."person_id" '
            'WHERE d."token_hash" = %s AND d."kind" = %s AND d."ended_at" IS NULL ORDER BY d."id" LIMIT 1'
        )
    return _token_sql


def _device_with_account(token: str) -> DeviceSession | None:
    """The open API device of a token, with `device.account` and `account.person` loaded (no further query)."""
    alias = router.db_for_read(DeviceSession)
    digest = keyed_hash(token, TOKEN_PURPOSE)
    sql = _token_lookup_sql(connections[alias])
    if not sql:
        return (DeviceSession.objects.filter(token_hash=digest, kind=DeviceSession.Kind.API, ended_at__isnull=True)
                .select_related("account", "account__person").first())
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [digest, DeviceSession.Kind.API.value])
        row = cursor.fetchone()
    if row is None:
        return None
    loaded: list[Any] = []
    start = 0
    for model in _TOKEN_MODELS:
        fields = model._meta.concrete_fields
        values = row[start:start + len(fields)]
        start += len(fields)
        loaded.append(None if values[0] is None else model.from_db(alias, [f.attname for f in fields], values))
    device, account, person = loaded
    DeviceSession.account.field.set_cached_value(device, account)
    Account.person.field.set_cached_value(account, person)
    if person is not None:
        Account.person.field.remote_field.set_cached_value(person, account)  # person.account, as select_related
    return device


def device_for_token(token: str) -> DeviceSession | None:
    device = _device_with_account(token)
    if device is None or not device.is_open() or not device.account.is_active:
        return None
    if (timezone.now() - device.last_seen_at).total_seconds() > 60:  # one write a minute, not per call
        DeviceSession.objects.filter(pk=device.pk).update(last_seen_at=timezone.now())
    return device


def sign_out_device(account: Account, device_uuid) -> int:
    devices = DeviceSession.objects.filter(account=account, uuid=device_uuid, ended_at__isnull=True)
    keys = [k for k in devices.values_list("session_key", flat=True) if k]
    Session.objects.filter(session_key__in=keys).delete()
    return devices.update(ended_at=timezone.now())


def sign_out_everywhere(account: Account) -> int:
    """Ends every browser session and app token of the account."""
    devices = DeviceSession.objects.filter(account=account, ended_at__isnull=True)
    keys = [k for k in devices.values_list("session_key", flat=True) if k]
    Session.objects.filter(session_key__in=keys).delete()
    count = devices.update(ended_at=timezone.now())
    if account.person_id:
        record(account.person, actor=account.person, role=Role.HOLDER, action="account.sign_out_everywhere")
    return count


def _password_rules(account: Account, password: str) -> None:
    person = account.person
    personal: dict[str, object] = {"username": account.username, "email": account.email}
    if person:
        personal |= {"family_name": person.family_name, "given_names": person.given_names,
                     "birth_date": person.birth_date, "nir": person.nir}
    try:
        validate_password(password, **personal)
    except ValidationError as exc:
        raise LoginError(exc.messages[0], "password") from None


def begin_password_reset(username: str) -> Challenge:
    """Sends a code to the account's contact if the identifier exists; answers the same either way."""
    username = username.strip().lower()
    _check("reset", username)
    account = Account.objects.filter(username=username, is_active=True).first()
    if account is None:
        throttle.fail("reset", username)
        return Challenge(uuidlib.uuid4(), Channel.EMAIL, "")
    throttle.fail("reset", username, limit=10)
    otp = otps.issue(OtpPurpose.PASSWORD_RESET, account.otp_channel, account.otp_destination(),
                     person=account.person, account=account)
    return Challenge(otp.uuid, otp.channel, otps.mask(otp.destination))


def finish_password_reset(otp_uuid, code: str, new_password: str) -> Account:
    from ..models import OneTimeCode

    pending = OneTimeCode.objects.filter(uuid=otp_uuid, purpose=OtpPurpose.PASSWORD_RESET).first()
    if pending is None or pending.account is None:
        raise LoginError(BAD_OTP, "code")
    _password_rules(pending.account, new_password)
    try:
        otp = otps.consume(otp_uuid, code, OtpPurpose.PASSWORD_RESET)
    except otps.OtpInvalid:
        raise LoginError(BAD_OTP, "code") from None
    if otp.account_id is None:  # never: the same row as `pending`, checked above
        raise LoginError(BAD_OTP, "code")
    account = Account.objects.get(pk=otp.account_id)
    with transaction.atomic():
        account.set_password(new_password)
        account.save(update_fields=["password"])
        sign_out_everywhere(account)
        if account.person_id:
            record(account.person, actor=account.person, role=Role.HOLDER, action="account.password_reset")
            notifications.notify(account.person, kind=Kind.ACCOUNT, code="MOT_DE_PASSE_REINITIALISE",
                                 title=_("Le mot de passe de votre espace a été réinitialisé"))
    return account


def change_password(account: Account, current: str, new_password: str, *, keep_device=None) -> None:
    """Knowing the current password (5 tries) is required; every other device is signed out."""
    _check("password-change", account.username)
    if not account.check_password(current):
        throttle.fail("password-change", account.username)
        raise LoginError(_("Mot de passe actuel incorrect."), "current")
    _password_rules(account, new_password)
    with transaction.atomic():
        account.set_password(new_password)
        account.save(update_fields=["password"])
        others = DeviceSession.objects.filter(account=account, ended_at__isnull=True).exclude(uuid=keep_device)
        keys = [k for k in others.values_list("session_key", flat=True) if k]
        Session.objects.filter(session_key__in=keys).delete()
        others.update(ended_at=timezone.now())
        if account.person_id:
            record(account.person, actor=account.person, role=Role.HOLDER, action="account.password_change")
            notifications.notify(account.person, kind=Kind.ACCOUNT, code="MOT_DE_PASSE_MODIFIE",
                                 title=_("Le mot de passe de votre espace a été modifié"))


def begin_contact_change(account: Account, channel: str, value: str, *, password: str) -> Challenge:
    """Re-authentication (current password), then a code to the *new* address or number."""
    _check("contact-change", account.username)
    if not account.check_password(password):
        throttle.fail("contact-change", account.username)
        raise LoginError(_("Mot de passe incorrect."), "password")
    try:
        if channel == Channel.SMS:
            value = validate_mobile(value)
        else:
            value = value.strip()
            validate_email(value)
    except ValidationError:
        raise LoginError(_("Adresse électronique ou numéro de mobile invalide."), "value") from None
    otp = otps.issue(OtpPurpose.CONTACT_CHANGE, channel, value, person=account.person, account=account)
    return Challenge(otp.uuid, otp.channel, otps.mask(otp.destination))


def finish_contact_change(account: Account, otp_uuid, code: str, *, use_for_login: bool = True) -> Account:
    try:
        otp = otps.consume(otp_uuid, code, OtpPurpose.CONTACT_CHANGE)
    except otps.OtpInvalid:
        raise LoginError(BAD_OTP, "code") from None
    if otp.account_id != account.pk:
        raise LoginError(BAD_OTP, "code")
    with transaction.atomic():
        old_email = account.email
        if otp.channel == Channel.SMS:
            account.phone = otp.destination
        else:
            account.email = otp.destination
        if use_for_login:
            account.otp_channel = otp.channel
        account.save(update_fields=["email", "phone", "otp_channel"])
        if account.person_id:
            action = "account.phone_change" if otp.channel == Channel.SMS else "account.email_change"
            record(account.person, actor=account.person, role=Role.HOLDER, action=action)
            notifications.notify(account.person, kind=Kind.ACCOUNT, code="MODIF_CONTACT",
                                 title=_("Les coordonnées de votre espace ont été modifiées"))
        if old_email and old_email != account.email:
            # The previous address learns of the change too: it is how a hijack gets noticed.
            notifications.send_email(
                old_email, "Carnet : vos coordonnées ont été modifiées",
                "Bonjour,\n\nL'adresse électronique de votre espace Carnet vient d'être modifiée. "
                "Si vous n'êtes pas à l'origine de ce changement, contactez-nous sans attendre.\n",
                person=account.person,
            )
    return account


def send_username_reminder(nir: str, birth_date) -> None:
    """Forgotten identifier: mailed to the account's address when NIR and birth date match; silent otherwise."""
    nir = normalise_nir(nir)
    try:
        throttle.check("username-reminder", nir)
    except throttle.Locked:
        return
    throttle.fail("username-reminder", nir)
    person = Person.objects.filter(nir=nir, birth_date=birth_date).select_related("account").first()
    if person is None or not person.has_account or not person.account.email:
        return
    subject, body = notices.username_reminder(person, person.account.username)
    notifications.send_email(person.account.email, subject, body, person=person)
