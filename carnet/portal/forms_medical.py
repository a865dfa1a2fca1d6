"""Forms of the profil médical pages. They check shape only (required, lengths, choices, date
syntax); the rules (dates after birth, one trusted person, FHIR validity) belong to the domain
actions, whose `MedicalError` the views put back on the right field."""

import datetime as dt
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from carnet.medical import vaccines
from carnet.medical.dates import PartialDate
from carnet.medical.enums import Section
from carnet.medical.errors import MedicalError
from carnet.medical.sections import entourage, history, observations
from carnet.medical.sections.base import COMMENT_MAX

from .forms_account import DomainErrorsMixin

DATE_HELP = _("L'année (2019), le mois et l'année (03/2019) ou la date complète (14/03/2019).")
PARTIAL_RE = re.compile(r"^(?:(?:(\d{1,2})/)?(\d{1,2})/)?(\d{4})$")


class PartialDateField(forms.CharField):
    """A date people may know only in part: year, month/year or day/month/year."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", DATE_HELP)
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 10)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, PartialDate):
            parts = [f"{value.day:02d}" if value.day else "", f"{value.month:02d}" if value.month else "",
                     str(value.year)]
            return "/".join(p for p in parts if p)
        return value

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        match = PARTIAL_RE.match(value.strip())
        if not match:
            raise forms.ValidationError(DATE_HELP)
        day, month, year = match.groups()
        try:
            return PartialDate.of(year, month, day)
        except MedicalError as exc:
            raise forms.ValidationError(exc.message) from None


COMMENT_LABEL = _("Commentaire")


def comment_field(label=COMMENT_LABEL):
    return forms.CharField(label=label, required=False, max_length=COMMENT_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("3 000 caractères au maximum."))


class EntryForm(DomainErrorsMixin, DsfrBaseForm):
    """Base of the section forms: `data()` is what the domain action receives."""

    def data_for_action(self) -> dict:
        return dict(self.cleaned_data)


class DiseaseForm(EntryForm):
    label = forms.CharField(label=_("Maladie ou sujet de santé"), max_length=200)
    start = PartialDateField(label=_("Date de début"))
    end = PartialDateField(label=_("Date de fin"), help_text=_("Laissez vide si elle est en cours. ") + DATE_HELP)  # type: ignore[operator]  # lazy strings concatenate
    comment = comment_field()


class AllergyForm(EntryForm):
    label = forms.CharField(label=_("Allergie ou intolérance"), max_length=200,
                            help_text=_("Par exemple : arachide, pénicilline, pollen de bouleau."))
    kind = forms.ChoiceField(label=_("Type"), choices=history.ALLERGY_TYPES, initial="allergy",
                             widget=forms.RadioSelect)
    category = forms.ChoiceField(label=_("Catégorie"), required=False,
                                 choices=[("", _("Non précisée")), *history.ALLERGY_CATEGORIES])
    start = PartialDateField(label=_("Depuis"))
    comment = comment_field()


class HospitalisationForm(EntryForm):
    label = forms.CharField(label=_("Motif ou intervention"), max_length=200)
    kind = forms.ChoiceField(label=_("Type"), choices=history.HOSPITALISATION_KINDS, initial="hospitalisation",
                             widget=forms.RadioSelect)
    start = PartialDateField(label=_("Date d'entrée"), required=True, help_text=_("L'année est obligatoire. ")
                             + DATE_HELP)  # type: ignore[operator]  # lazy strings concatenate
    duration = forms.IntegerField(label=_("Durée du séjour"), required=False, min_value=1, max_value=9999)
    duration_unit = forms.ChoiceField(label=_("Unité de la durée"), required=False,
                                      choices=[("", _("Non précisée")), *history.DURATION_UNITS])
    comment = comment_field()


class FamilyHistoryForm(EntryForm):
    relationship = forms.ChoiceField(label=_("Lien de parenté"), choices=[("", "—"), *history.RELATIONSHIPS])
    label = forms.CharField(label=_("Maladie"), max_length=200)
    comment = comment_field()


class TreatmentForm(EntryForm):
    name = forms.CharField(label=_("Nom du médicament"), max_length=200, required=False,
                           help_text=_("50 caractères au maximum : la suite est gardée dans le commentaire."))
    code = forms.CharField(label=_("Code CIP ou CIS (facultatif)"), max_length=40, required=False,
                           help_text=_("Le code à 13 ou 7 chiffres imprimé sur la boîte."),
                           widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    dosage = forms.CharField(label=_("Posologie"), max_length=1000, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    start = PartialDateField(label=_("Date de début"))
    end = PartialDateField(label=_("Date de fin"))
    comment = comment_field()


class VaccinationForm(EntryForm):
    vaccine = forms.ChoiceField(label=_("Vaccin"), required=False)
    label = forms.CharField(label=_("Autre vaccin (s'il n'est pas dans la liste)"), max_length=200, required=False)
    date = PartialDateField(label=_("Date de la vaccination"), required=True)
    dose = forms.IntegerField(label=_("Numéro de la dose"), required=False, min_value=1, max_value=10)
    booster = forms.BooleanField(label=_("C'est un rappel"), required=False)
    lot = forms.CharField(label=_("Numéro de lot"), max_length=100, required=False)
    vaccinator = forms.CharField(label=_("Vaccinateur"), max_length=100, required=False)
    comment = comment_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vaccine"].choices = [("", _("Choisir dans la liste")), *vaccines.choices()]


class DisabilityForm(EntryForm):
    label = forms.CharField(label=_("Handicap"), max_length=200)
    types = forms.MultipleChoiceField(label=_("Type de handicap"), choices=history.DISABILITY_TYPES,
                                      widget=forms.CheckboxSelectMultiple)
    rate = forms.ChoiceField(label=_("Taux d'incapacité"), required=False,
                             choices=[("", _("Non précisé")), *history.DISABILITY_RATES])
    technical_aid = forms.CharField(label=_("Aide technique"), max_length=50, required=False)
    human_aid = forms.ChoiceField(label=_("Aide humaine"), required=False,
                                  choices=[("", _("Non précisé")), *history.HUMAN_HELP])
    comment = comment_field(_("Informations utiles à la prise en charge"))


class LifestyleForm(EntryForm):
    domain = forms.ChoiceField(label=_("Thème"), choices=observations.LIFESTYLE_DOMAINS,
                               widget=forms.HiddenInput)
    answer = forms.ChoiceField(label=_("Votre réponse"), widget=forms.RadioSelect)
    count = forms.IntegerField(label=_("Quantité"), required=False, min_value=0, max_value=5000)
    comment = comment_field()

    def __init__(self, *args, domain: str = "food", **kwargs):
        super().__init__(*args, **kwargs)
        spec = observations.LIFESTYLE[domain]
        self.fields["domain"].initial = domain
        self.fields["answer"].choices = spec["answers"]
        self.fields["answer"].label = spec["label"]
        if spec["count"]:
            self.fields["count"].label = spec["count"][0]
            self.fields["count"].max_value = spec["count"][3]
        else:
            del self.fields["count"]


class BloodGroupForm(EntryForm):
    group = forms.ChoiceField(label=_("Groupe sanguin"), choices=observations.BLOOD_GROUP_CHOICES,
                              widget=forms.RadioSelect)


class EntourageForm(EntryForm):
    roles = forms.MultipleChoiceField(label=_("Rôle"), choices=entourage.ROLES, widget=forms.CheckboxSelectMultiple)
    relation = forms.ChoiceField(label=_("Lien avec vous"), choices=entourage.RELATIONS, initial="FRND")
    prefix = forms.ChoiceField(label=_("Civilité"), required=False, choices=[("", "—"), *entourage.PREFIXES])
    first_name = forms.CharField(label=_("Prénom"), max_length=50, widget=forms.TextInput(
        attrs={"autocomplete": "off"}))
    last_name = forms.CharField(label=_("Nom"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    mobile = forms.CharField(label=_("Téléphone mobile"), max_length=20, required=False)
    phone = forms.CharField(label=_("Téléphone fixe"), max_length=20, required=False)
    email = forms.CharField(label=_("Adresse électronique"), max_length=100, required=False)
    address = forms.CharField(label=_("Adresse"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Code postal"), max_length=10, required=False)
    city = forms.CharField(label=_("Commune"), max_length=100, required=False)
    country = forms.CharField(label=_("Pays"), max_length=100, required=False)


class OrganDonationForm(EntryForm):
    position = forms.ChoiceField(label=_("Ma position sur le don d'organes"),
                                 choices=entourage.ORGAN_DONATION_POSITIONS, widget=forms.RadioSelect)


FORMS = {
    Section.DISEASES: DiseaseForm, Section.ALLERGIES: AllergyForm, Section.HOSPITALISATIONS: HospitalisationForm,
    Section.FAMILY_HISTORY: FamilyHistoryForm, Section.TREATMENTS: TreatmentForm,
    Section.VACCINATIONS: VaccinationForm, Section.DISABILITIES: DisabilityForm, Section.LIFESTYLE: LifestyleForm,
    Section.BLOOD_GROUP: BloodGroupForm, Section.ENTOURAGE: EntourageForm, "organ_donation": OrganDonationForm,
}


class MeasureForm(EntryForm):
    value = forms.DecimalField(label=_("Valeur"), max_digits=9, decimal_places=2, localize=True)
    value2 = forms.DecimalField(label=_("Pression diastolique"), max_digits=9, decimal_places=2, required=False,
                                localize=True)
    when = forms.DateTimeField(label=_("Date et heure de la mesure"),
                               widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                               input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M"])
    comment = comment_field()

    def __init__(self, *args, measure, **kwargs):
        super().__init__(*args, **kwargs)
        self.measure = measure
        self.fields["value"].label = f"{measure.label} ({measure.unit_label})"
        if measure.components:
            self.fields["value"].label = f"{measure.components[0][1]} ({measure.unit_label})"
            self.fields["value2"].label = f"{measure.components[1][1]} ({measure.unit_label})"
            self.fields["value2"].required = True
        else:
            del self.fields["value2"]
        self.fields["when"].initial = timezone.localtime().replace(second=0, microsecond=0)

    def data_for_action(self) -> dict:
        return {**self.cleaned_data, "measure": self.measure.key}


class TargetForm(DomainErrorsMixin, DsfrBaseForm):
    low = forms.DecimalField(label=_("Valeur minimale"), max_digits=9, decimal_places=2, required=False,
                             localize=True)
    high = forms.DecimalField(label=_("Valeur maximale"), max_digits=9, decimal_places=2, required=False,
                             localize=True)


class SynthesisForm(DsfrBaseForm):
    sections = forms.MultipleChoiceField(label=_("Rubriques à inclure"), widget=forms.CheckboxSelectMultiple,
                                         choices=[(s.value, s.label) for s in Section])


class MedicineSearchForm(DsfrBaseForm):
    q = forms.CharField(label=_("Nom du médicament ou code CIP / CIS"), max_length=60, required=False)


def now_local() -> dt.datetime:
    return timezone.localtime()
