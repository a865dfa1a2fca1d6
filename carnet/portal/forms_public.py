"""Forms of the public pages: enrolment (opposition, activation, new code) and sign-in.

They check what can be checked without the registry (formats, password confirmation, the person's
own data in a password); whether the NIR, card and code match is the domain's call, answered uniformly.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from carnet.identity.enums import Channel
from carnet.identity.models import Account, Person
from carnet.identity.validators import validate_nir, validate_password, validate_serial, validate_username

OTP_PATTERN = r"\s*\d{6}\s*"


def _text(label, *, help_text="", autocomplete="off", max_length=64, **attrs):
    return forms.CharField(
        label=label, help_text=help_text, max_length=max_length,
        widget=forms.TextInput(attrs={"autocomplete": autocomplete, "spellcheck": "false", **attrs}),
    )


def _password(label, *, autocomplete="new-password", help_text=""):
    return forms.CharField(
        label=label, help_text=help_text, max_length=128, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def _birth_date():
    return forms.DateField(
        label=_("Date de naissance"), help_text=_("Au format jj/mm/aaaa."),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )


def _otp_code():
    return forms.RegexField(
        regex=OTP_PATTERN, label=_("Code de sécurité"), help_text=_("Les 6 chiffres reçus."),
        max_length=12, error_messages={"invalid": _("Le code de sécurité compte 6 chiffres.")},
        widget=forms.TextInput(attrs={
            "autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false",
        }),
    )


class NirField(forms.CharField):
    """The 15-character NIR with its control key; spaces are allowed while typing."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Numéro de sécurité sociale"))
        kwargs.setdefault("help_text", _("15 caractères, clé comprise, comme sur votre carte Vitale."))
        kwargs.setdefault("max_length", 21)
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
        super().__init__(**kwargs)

    def clean(self, value):
        return validate_nir(super().clean(value))


class SerialField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Numéro de série de la carte Vitale"))
        kwargs.setdefault("help_text", _("8 à 13 chiffres, au dos de la carte Vitale."))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("widget", forms.TextInput(attrs={
            "autocomplete": "off", "inputmode": "numeric", "spellcheck": "false",
        }))
        super().__init__(**kwargs)

    def clean(self, value):
        return validate_serial(super().clean(value))


class IdentityForm(DsfrBaseForm):
    """NIR + Vitale serial + provisional code: how a person proves who they are without an account."""

    nir = NirField()
    serial = SerialField()
    code = _text(
        _("Code provisoire"), max_length=20,
        help_text=_("12 caractères au format XXXX-XXXX-XXXX, reçus par courrier ou par courriel."),
    )


class OppositionForm(IdentityForm):
    confirm = forms.BooleanField(
        label=_("Je confirme m'opposer à la création de mon espace santé."),
        error_messages={"required": _("Cochez la case pour confirmer votre opposition.")},
        help_text=_("Les informations de l'espace seront supprimées ; seule la preuve de votre "
                    "opposition sera conservée."),
    )


class CredentialsForm(DsfrBaseForm):
    """Step 2 of activation: where one-time codes go, and the identifier chosen."""

    channel = forms.ChoiceField(
        label=_("Recevoir le code de sécurité par"), choices=Channel.choices, widget=forms.RadioSelect,
    )
    destination = _text(
        _("Adresse électronique ou numéro de mobile"), max_length=254, autocomplete="email",
        help_text=_("Celle ou celui que vous utiliserez pour vous connecter : un code de sécurité vous sera "
                    "envoyé à chaque connexion. Pour le SMS, saisissez un numéro de mobile (06 ou 07)."),
    )
    username = _text(
        _("Identifiant"), autocomplete="username",
        help_text=_("8 à 64 caractères : lettres sans accent, chiffres, « . », « - » ou « _ ». Ni adresse "
                    "électronique, ni numéro de sécurité sociale."),
    )

    def __init__(self, *args, person: Person, **kwargs):
        self.person = person
        super().__init__(*args, **kwargs)

    def clean_username(self):
        person = self.person
        username = validate_username(self.cleaned_data["username"], nir=person.nir, email=person.email)
        if Account.objects.filter(username=username).exists():
            raise ValidationError(_("Cet identifiant est déjà pris. Choisissez-en un autre."))
        return username

    def clean(self):
        data = super().clean()
        channel, destination = data.get("channel"), data.get("destination", "")
        if channel == Channel.SMS and "@" in destination:
            self.add_error("destination", _("Vous avez choisi le SMS : saisissez un numéro de mobile."))
        elif channel == Channel.EMAIL and destination and "@" not in destination:
            self.add_error("destination",
                           _("Vous avez choisi le courriel : saisissez une adresse électronique."))
        return data


class ActivationFinishForm(DsfrBaseForm):
    """Step 3: the one-time code proves the contact; the password is chosen here, so it is never kept
    between two requests."""

    code = _otp_code()
    password = _password(
        _("Mot de passe"),
        help_text=_("Au moins 9 caractères avec une minuscule, une majuscule, un chiffre et un caractère "
                    "spécial, ou une phrase de passe d'au moins 4 mots et 20 caractères ; aucune de vos "
                    "données personnelles."),
    )
    password_confirm = _password(_("Confirmation du mot de passe"))
    accept_terms = forms.BooleanField(
        label=_("J'ai lu et j'accepte les conditions générales d'utilisation."),
        error_messages={"required": _("Vous devez accepter les conditions générales d'utilisation.")},
    )

    def __init__(self, *args, person: Person, username: str, **kwargs):
        self.person, self.username = person, username
        super().__init__(*args, **kwargs)

    def clean_code(self):
        return self.cleaned_data["code"].strip()

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password:
            person = self.person
            try:
                validate_password(password, family_name=person.family_name, given_names=person.given_names,
                                  birth_date=person.birth_date, nir=person.nir, email=person.email,
                                  username=self.username)
            except ValidationError as exc:
                self.add_error("password", exc)
            else:
                if password != data.get("password_confirm"):
                    self.add_error("password_confirm", _("Les deux mots de passe ne sont pas identiques."))
        return data


class OtpForm(DsfrBaseForm):
    code = _otp_code()

    def clean_code(self):
        return self.cleaned_data["code"].strip()


class NewCodeForm(DsfrBaseForm):
    nir = NirField()
    serial = SerialField()
    birth_date = _birth_date()


class LoginForm(DsfrBaseForm):
    username = _text(_("Identifiant"), autocomplete="username")
    password = _password(_("Mot de passe"), autocomplete="current-password")
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)


class PasswordResetForm(DsfrBaseForm):
    username = _text(_("Identifiant"), autocomplete="username",
                     help_text=_("Celui que vous avez choisi en activant votre espace."))


class PasswordResetConfirmForm(DsfrBaseForm):
    code = _otp_code()
    new_password = _password(
        _("Nouveau mot de passe"),
        help_text=_("Au moins 9 caractères avec une minuscule, une majuscule, un chiffre et un caractère "
                    "spécial, ou une phrase de passe d'au moins 4 mots et 20 caractères."),
    )
    new_password_confirm = _password(_("Confirmation du nouveau mot de passe"))

    def clean_code(self):
        return self.cleaned_data["code"].strip()

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_confirm"):
            self.add_error("new_password_confirm", _("Les deux mots de passe ne sont pas identiques."))
        return data


class UsernameReminderForm(DsfrBaseForm):
    nir = NirField()
    birth_date = _birth_date()
