"""Forms of "Mes aidants / Les personnes que j'aide": shape only; the rules are carnet/caregivers/actions.py's."""

from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from carnet.identity.validators import validate_nir

from .forms_account import DomainErrorsMixin


class InviteCaregiverForm(DomainErrorsMixin, DsfrBaseForm):
    nir = forms.CharField(
        label=_("Son numéro de sécurité sociale (NIR)"), max_length=21,
        help_text=_("15 caractères, tels qu'inscrits sur sa carte Vitale."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    family_name = forms.CharField(label=_("Son nom de naissance"), max_length=100,
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    given_name = forms.CharField(label=_("Son premier prénom"), max_length=100,
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    birth_date = forms.DateField(
        label=_("Sa date de naissance"), help_text=_("Au format jj/mm/aaaa."),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "off"}, format="%Y-%m-%d"),
    )
    # Not `required`: the domain action refuses an invitation without it, with its own message.
    sworn = forms.BooleanField(
        label=_("Je déclare sur l'honneur que cette personne est mon proche aidant et je l'autorise à consulter "
                "et compléter mes documents et mon profil médical"),
        help_text=_("Une fausse déclaration vous expose à des poursuites (article 441-7 du code pénal)."),
        required=False,
    )

    def clean_nir(self) -> str:
        return validate_nir(self.cleaned_data["nir"])


class RespondCaregiverForm(DsfrBaseForm):
    ACCEPT, REFUSE = "accept", "refuse"

    decision = forms.ChoiceField(choices=[(ACCEPT, ACCEPT), (REFUSE, REFUSE)])
