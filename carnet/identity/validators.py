"""Rules on what people type: NIR, Vitale serial, identifiers, passwords, phone numbers."""

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir as stdnum_nir


def normalise_nir(value: str) -> str:
    return "".join(value.split()).upper()


def validate_nir(value: str) -> str:
    """A 15-character NIR with its control key (Corsica's 2A/2B included); returns it compacted."""
    try:
        return stdnum_nir.validate(normalise_nir(value))
    except InvalidChecksum:
        raise ValidationError(_("NIR invalide : la clé de contrôle ne correspond pas.")) from None
    except StdnumError:
        raise ValidationError(_("NIR invalide : 13 caractères suivis d'une clé de 2 chiffres attendus.")) from None


def normalise_serial(value: str) -> str:
    return "".join(value.split())


def validate_serial(value: str) -> str:
    serial = normalise_serial(value)
    if not re.fullmatch(r"\d{8,13}", serial):
        raise ValidationError(_("Numéro de série de carte Vitale invalide (8 à 13 chiffres)."))
    return serial


def normalise_phone(value: str) -> str:
    """French numbers to E.164 (+33...); other international numbers kept with their +."""
    digits = re.sub(r"[\s.\-()]", "", value)
    if re.fullmatch(r"0[1-9]\d{8}", digits):
        return "+33" + digits[1:]
    if re.fullmatch(r"\+\d{8,15}", digits):
        return digits
    raise ValidationError(_("Numéro de téléphone invalide."))


def validate_mobile(value: str) -> str:
    phone = normalise_phone(value)
    if phone.startswith("+33") and phone[3] not in "67":
        raise ValidationError(_("Un numéro de mobile (06 ou 07) est nécessaire pour recevoir des SMS."))
    return phone


USERNAME_RE = re.compile(r"[a-z0-9._-]{8,64}")
IBAN_RE = re.compile(r"[a-z]{2}\d{2}[a-z0-9]{10,30}")


def validate_username(value: str, *, nir: str = "", email: str = "") -> str:
    """Identifier rules of the real service: ≥8 characters, no accents, only `. - _`, never an email,
    a NIR or an IBAN (people must not reveal those by logging in)."""
    username = value.strip().lower()
    if "@" in username:
        raise ValidationError(_("L'identifiant ne peut pas être une adresse électronique."))
    if not USERNAME_RE.fullmatch(username):
        raise ValidationError(
            _("L'identifiant doit compter 8 à 64 caractères : lettres sans accent, chiffres, « . », « - » ou « _ ».")
        )
    if re.search(r"\d{13}", username) or (nir and nir.lower()[:13] in username):
        raise ValidationError(_("L'identifiant ne peut pas contenir un numéro de sécurité sociale."))
    if IBAN_RE.fullmatch(username.replace("-", "").replace(".", "").replace("_", "")):
        raise ValidationError(_("L'identifiant ne peut pas être un IBAN."))
    if email and username == email.lower().split("@")[0] and len(username) >= 8:
        raise ValidationError(_("L'identifiant ne peut pas être votre adresse électronique."))
    return username


def _fold(value: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", value.lower()) if not unicodedata.combining(c))


def personal_tokens(*, family_name="", given_names="", birth_date: dt.date | None = None, nir="",
                    username="", email="") -> set[str]:
    tokens = {_fold(t) for t in re.split(r"[\s'\-]+", f"{family_name} {given_names}") if len(t) >= 3}
    if birth_date:
        tokens |= {birth_date.strftime(f) for f in ("%d%m%Y", "%Y%m%d", "%d%m%y", "%Y")}
    if nir:
        tokens.add(nir.lower()[:13])
    if username:
        tokens.add(_fold(username))
    if email:
        tokens.add(_fold(email.split("@")[0]))
    return {t for t in tokens if len(t) >= 3}


def validate_password(password: str, **personal) -> str:
    """At least 9 characters, with lower case, upper case, a digit and a special character — or a
    passphrase of at least 4 words and 20 characters — and none of the person's own data."""
    if len(password) < 9:
        raise ValidationError(_("Le mot de passe doit compter au moins 9 caractères."))
    classes = [
        any(c.islower() for c in password), any(c.isupper() for c in password),
        any(c.isdigit() for c in password), any(not c.isalnum() for c in password),
    ]
    passphrase = len(password) >= 20 and len([w for w in password.split() if w]) >= 4
    if not (all(classes) or passphrase):
        raise ValidationError(
            _("Le mot de passe doit contenir une minuscule, une majuscule, un chiffre et un caractère spécial, "
              "ou être une phrase de passe d'au moins 4 mots et 20 caractères.")
        )
    folded = _fold(password)
    if any(token in folded for token in personal_tokens(**personal)):
        raise ValidationError(_("Le mot de passe ne doit contenir aucune de vos données personnelles."))
    return password
