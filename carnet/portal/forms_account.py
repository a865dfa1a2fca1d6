"""Forms of the signed-in pages: account settings, notifications, family and representatives.

They only check shape (required, lengths, choices); the rules (password strength, who may invite
whom) belong to the domain actions, whose errors the views put back on these forms.
"""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm
from dsfr.utils import dsfr_input_class_attr

from carnet.identity.enums import Channel, RepresentationKind
from carnet.identity.validators import validate_nir
from carnet.notifications.enums import MANDATORY_KINDS, Kind


class DomainErrorsMixin:
    """Puts a domain error (`LoginError`, `FamilyError`: `.message`, `.field`) on the right field."""

    def add_domain_error(self, error, field_map: dict[str, str] | None = None) -> None:
        field = (field_map or {}).get(error.field, error.field)
        form = cast(forms.BaseForm, self)  # always mixed into a form
        form.add_error(field if field in form.fields else None, error.message)


class PasswordChangeForm(DomainErrorsMixin, DsfrBaseForm):
    current = forms.CharField(
        label=_("Mot de passe actuel"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("Nouveau mot de passe"), strip=False,
        help_text=_("Au moins 9 caractères avec une minuscule, une majuscule, un chiffre et un caractère "
                    "spécial, ou une phrase de passe d'au moins 4 mots et 20 caractères ; aucune de vos "
                    "données personnelles."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    confirmation = forms.CharField(
        label=_("Confirmation du nouveau mot de passe"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        new, confirmation = data.get("new_password"), data.get("confirmation")
        if new and confirmation and new != confirmation:
            self.add_error("confirmation", _("Les deux mots de passe ne sont pas identiques."))
        return data


class ContactChangeForm(DomainErrorsMixin, DsfrBaseForm):
    channel = forms.ChoiceField(
        label=_("Coordonnée à modifier"), choices=[(Channel.EMAIL, _("Mon adresse électronique")),
                                                   (Channel.SMS, _("Mon numéro de mobile"))],
        widget=forms.RadioSelect, initial=Channel.EMAIL,
    )
    value = forms.CharField(
        label=_("Nouvelle adresse électronique ou nouveau numéro de mobile"), max_length=254,
        help_text=_("Par exemple : prenom.nom@exemple.fr ou 06 12 34 56 78. "
                    "Un code de sécurité y sera envoyé."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    password = forms.CharField(
        label=_("Mot de passe actuel"), strip=False,
        help_text=_("Par sécurité, confirmez votre identité avant de modifier vos coordonnées."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class OneTimeCodeForm(DomainErrorsMixin, DsfrBaseForm):
    code = forms.CharField(
        label=_("Code de sécurité"), max_length=6, min_length=6,
        help_text=_("Les 6 chiffres reçus, valables 10 minutes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "pattern": "[0-9]{6}"}),
    )


ALWAYS_SENT = _("Toujours envoyé : vous devez être prévenu(e) de tout changement sur votre compte.")


class PreferencesForm(DsfrBaseForm):
    """Two checkboxes per kind of notification; security notices by email cannot be switched off."""

    def __init__(self, *args, preferences: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in Kind:
            preference = preferences[kind.value]
            mandatory = kind in MANDATORY_KINDS
            self.fields[f"{kind.value}_email"] = forms.BooleanField(
                label=_("Par courriel"), required=False, initial=True if mandatory else preference.email,
                disabled=mandatory,
                help_text=ALWAYS_SENT if mandatory else "",
            )
            self.fields[f"{kind.value}_sms"] = forms.BooleanField(
                label=_("Par SMS"), required=False, initial=preference.sms,
            )
        # The base class styles fields at init; the ones added above need it too.
        for visible in self.visible_fields():
            dsfr_input_class_attr(visible)

    def groups(self):
        """(kind label, email field, SMS field) for each kind, in display order."""
        return [(kind.label, self[f"{kind.value}_email"], self[f"{kind.value}_sms"]) for kind in Kind]

    def choices(self):
        """{kind: (email, sms)} from the cleaned data."""
        return {kind.value: (self.cleaned_data[f"{kind.value}_email"], self.cleaned_data[f"{kind.value}_sms"])
                for kind in Kind}


class NotificationActionForm(DsfrBaseForm):
    READ, UNREAD, DELETE, ALL_READ = "read", "unread", "delete", "all_read"

    action = forms.ChoiceField(choices=[(a, a) for a in (READ, UNREAD, DELETE, ALL_READ)])
    notification = forms.UUIDField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") in {self.READ, self.UNREAD, self.DELETE} and not data.get("notification"):
            raise forms.ValidationError(_("Notification manquante."))
        return data


class DeviceActionForm(DsfrBaseForm):
    SIGN_OUT, EVERYWHERE = "sign_out", "everywhere"

    action = forms.ChoiceField(choices=[(SIGN_OUT, SIGN_OUT), (EVERYWHERE, EVERYWHERE)])
    device = forms.UUIDField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") == self.SIGN_OUT and not data.get("device"):
            raise forms.ValidationError(_("Appareil manquant."))
        return data


class SwitchProfileForm(DsfrBaseForm):
    profile = forms.UUIDField(label=_("Profil affiché"))


class ActivateChildForm(DomainErrorsMixin, DsfrBaseForm):
    # Not `required`: the domain action refuses an uncertified activation with its own message.
    certify = forms.BooleanField(
        label=_("Je certifie être le représentant légal de cet enfant"), required=False,
        help_text=_("Une fausse déclaration vous expose à des poursuites (article 441-7 du code pénal)."),
    )


class InviteRepresentativeForm(DomainErrorsMixin, DsfrBaseForm):
    child = forms.UUIDField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label=_("Cette personne est"),
        choices=[(RepresentationKind.LEGAL_REPRESENTATIVE, RepresentationKind.LEGAL_REPRESENTATIVE.label),
                 (RepresentationKind.GUARDIAN, RepresentationKind.GUARDIAN.label)],
        widget=forms.RadioSelect, initial=RepresentationKind.LEGAL_REPRESENTATIVE,
    )
    nir = forms.CharField(
        label=_("Son numéro de sécurité sociale"), max_length=21,
        help_text=_("15 caractères, tels qu'inscrits sur sa carte Vitale."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    family_name = forms.CharField(label=_("Son nom de naissance"), max_length=100,
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    given_name = forms.CharField(label=_("Son prénom"), max_length=100,
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    birth_date = forms.DateField(
        label=_("Sa date de naissance"), help_text=_("Au format jj/mm/aaaa."),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "off"}, format="%Y-%m-%d"),
    )

    def clean_nir(self) -> str:
        return validate_nir(self.cleaned_data["nir"])


class RespondInvitationForm(DsfrBaseForm):
    ACCEPT, REFUSE = "accept", "refuse"

    decision = forms.ChoiceField(choices=[(ACCEPT, ACCEPT), (REFUSE, REFUSE)])
