"""Forms of the pro portal: shape only; services and the policy decide."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from carnet.identity.validators import validate_nir
from carnet.interop import terminology
from carnet.portal.forms_account import DomainErrorsMixin
from carnet.sharing.emergency import REASON_MAX_LENGTH
from carnet.sharing.models import EmergencyKind
from carnet.sharing.professions import rpps_is_valid


class PatientSearchForm(DsfrBaseForm):
    """INS and the identity traits it must be checked against (identitovigilance). Posted, never in a URL."""

    ins = forms.CharField(
        label=_("INS (matricule INS)"), max_length=21,
        help_text=_("Les 15 caractères du numéro de sécurité sociale de l'assuré, clé comprise."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    family_name = forms.CharField(label=_("Nom de naissance"), max_length=100,
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    given_name = forms.CharField(label=_("Premier prénom de naissance"), max_length=100,
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    birth_date = forms.DateField(label=_("Date de naissance"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_ins(self) -> str:
        try:
            return validate_nir(self.cleaned_data["ins"])
        except ValidationError:
            raise ValidationError(_("INS invalide : 15 caractères attendus, clé de contrôle comprise.")) from None


def _type_choices():
    return [("", _("Lu dans le document (CDA) — sinon, choisissez"))] + sorted(
        ((t.code, t.label) for t in terminology.DOCUMENT_TYPES), key=lambda choice: str(choice[1]))


def _announcement_help() -> str:
    """Read at each rendering: the delays are the operator's settings."""
    return _("Pour un résultat à annoncer lors d'une consultation : le document est caché au patient et à ses "
             "représentants jusqu'à ce que vous le rendiez visible depuis sa page. Au bout de %(reminder)s jours, le "
             "patient est informé qu'un document l'attend pour une consultation, sans son contenu ; au bout de "
             "%(release)s jours, le document lui devient visible automatiquement (délai légal).") % {
        "reminder": settings.CARNET_ANNOUNCEMENT_REMINDER_DAYS, "release": settings.CARNET_ANNOUNCEMENT_RELEASE_DAYS}


class ProUploadForm(DomainErrorsMixin, DsfrBaseForm):
    """A document the professional files for the patient, with the author's two confidentiality flags: held from
    the patient until an announcement consultation (INVISIBLE_PATIENT), and, for a minor only, hidden from their
    legal representatives (INVISIBLE_REPRESENTANTS_LEGAUX, CSP L1111-5). Masking to professionals is the
    holder's choice, never the author's: no such field here."""

    file = forms.FileField(
        label=_("Fichier"),
        help_text=_("PDF, image JPEG ou PNG, texte, document CDA ou imagerie DICOM (fichier ou zip d'une étude)."),
    )
    title = forms.CharField(label=_("Titre"), max_length=255, required=False,
                            help_text=_("Laissé vide, le titre est celui du type de document."))
    type_code = forms.ChoiceField(label=_("Type de document"), choices=_type_choices, required=False)
    act_date = forms.DateField(label=_("Date de l'acte"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    invisible_to_holder = forms.BooleanField(
        label=_("Invisible au patient en attendant la consultation d'annonce"), required=False,
        help_text=lazy(lambda: _announcement_help(), str)())
    hidden_from_representatives = forms.BooleanField(
        label=_("Confidentiel : invisible aux représentants légaux du patient mineur"), required=False,
        help_text=_("Le patient mineur a demandé le secret envers ses titulaires de l'autorité parentale (article "
                    "L1111-5 du code de la santé publique) : ni eux, ni ses aidants ne verront ce document. Le "
                    "patient, lui, le voit."),
    )

    def __init__(self, *args, minor: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not minor:  # an adult's representatives are not kept out of their documents by the author
            del self.fields["hidden_from_representatives"]


class DemoSignInForm(DsfrBaseForm):
    professional = forms.ChoiceField(label=_("Professionnel de l'annuaire de démonstration"), choices=[])

    def __init__(self, *args, professionals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["professional"].choices = [("", _("Choisir un professionnel"))] + [
            (str(p.uuid), f"{p.full_name} — {p.profession_label} — RPPS {p.rpps}") for p in professionals]


class EmergencyAccessForm(DomainErrorsMixin, DsfrBaseForm):
    """Opening a space in an emergency: the kind (the SAMU only for a régulateur; everyone else sees bris de glace
    alone) and the stated reason. The reason may describe the patient's state: posted, never in a URL."""

    kind = forms.ChoiceField(label=_("Type d'accès"), choices=EmergencyKind.choices, initial=EmergencyKind.BREAK_GLASS,
                             widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Motif de l'accès en urgence"), max_length=REASON_MAX_LENGTH,
        help_text=_("Décrivez la situation qui justifie l'accès (%(count)s caractères au plus). Le motif est "
                    "conservé chiffré ; il n'est communiqué ni au patient dans ses notifications, ni au médecin "
                    "traitant.") % {"count": REASON_MAX_LENGTH},
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
    )

    def __init__(self, *args, regulator: bool = False, **kwargs):
        kwargs.setdefault("auto_id", "urgence-%s")
        super().__init__(*args, **kwargs)
        if not regulator:  # one choice: nothing to pick (a forged "samu" still reaches the policy, which refuses)
            self.fields["kind"].widget = forms.HiddenInput()


class BlockOnBehalfForm(DsfrBaseForm):
    """The administrateur de santé blocks a professional for the holder, by RPPS number."""

    rpps = forms.CharField(
        label=_("Numéro RPPS du professionnel"), max_length=11,
        help_text=_("Les 11 chiffres du numéro RPPS, clé comprise."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "blocage-%s")
        super().__init__(*args, **kwargs)

    def clean_rpps(self) -> str:
        value = self.cleaned_data["rpps"].strip()
        if not rpps_is_valid(value):
            raise ValidationError(_("Numéro RPPS invalide : 11 chiffres attendus, le dernier étant la clé de "
                                    "contrôle."))
        return value
