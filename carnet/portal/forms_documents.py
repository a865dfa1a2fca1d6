"""Forms of the Documents pages. Shape only; the record actions decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from carnet.interop import terminology
from carnet.record.enums import DocumentSource

from .forms_account import DomainErrorsMixin

SORTS = [
    ("recent", _("Les plus récents")),
    ("oldest", _("Les plus anciens")),
    ("title", _("Titre de A à Z")),
    ("-title", _("Titre de Z à A")),
    ("act", _("Date de l'acte")),
]


def _category_choices():
    return [("", _("Toutes les catégories"))] + [(c.value, c.label) for c in terminology.PatientCategory]


def _deposit_type_choices():
    return [("", _("Choisir un type"))] + [(t.code, t.label) for t in terminology.patient_deposit_types()]


class DocumentFilterForm(DsfrBaseForm):
    """The list's filters, read from the query string (GET): nothing here is health content in a URL
    except the words the person types into the search box themselves."""

    q = forms.CharField(label=_("Rechercher dans les titres"), required=False, max_length=100)
    category = forms.ChoiceField(label=_("Catégorie"), required=False, choices=_category_choices)
    type = forms.ChoiceField(label=_("Type de document"), required=False, choices=[])
    source = forms.ChoiceField(
        label=_("Ajouté par"), required=False, choices=[("", _("Tous"))] + list(DocumentSource.choices)
    )
    author = forms.CharField(label=_("Auteur"), required=False, max_length=100)
    date_from = forms.DateField(label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Au"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    folder = forms.ChoiceField(label=_("Dossier"), required=False, choices=[])
    sort = forms.ChoiceField(label=_("Trier par"), required=False, choices=SORTS)
    pinned = forms.BooleanField(label=_("Documents épinglés uniquement"), required=False)

    def __init__(self, *args, types=(), folders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", _("Tous les types"))] + list(types)
        self.fields["folder"].choices = [("", _("Tous les dossiers"))] + [(str(f.uuid), f.name) for f in folders]


class DocumentUploadForm(DomainErrorsMixin, DsfrBaseForm):
    file = forms.FileField(
        label=_("Fichier"),
        help_text=_("PDF, image JPEG ou PNG, texte, document CDA ou imagerie DICOM (fichier ou zip d'une étude)."),
    )
    title = forms.CharField(label=_("Titre"), max_length=255, required=False,
                            help_text=_("Laissé vide, le titre est celui du type de document."))
    type_code = forms.ChoiceField(label=_("Type de document"), choices=_deposit_type_choices, required=False,
                                  help_text=_("Pour un document CDA, laissé vide, le type est lu dans le document."))
    act_date = forms.DateField(label=_("Date du document"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    folder = forms.ChoiceField(label=_("Dossier"), required=False, choices=[])
    masked = forms.BooleanField(label=_("Masquer ce document aux professionnels de santé"), required=False)

    def __init__(self, *args, folders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["folder"].choices = [("", _("Aucun dossier"))] + [(str(f.uuid), f.name) for f in folders]


class DocumentEditForm(DomainErrorsMixin, DsfrBaseForm):
    title = forms.CharField(label=_("Titre"), max_length=255)
    type_code = forms.ChoiceField(label=_("Type de document"), choices=_deposit_type_choices)
    act_date = forms.DateField(label=_("Date du document"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))


class FolderForm(DomainErrorsMixin, DsfrBaseForm):
    name = forms.CharField(label=_("Nom du dossier"), max_length=50)


class MoveForm(DsfrBaseForm):
    folder = forms.ChoiceField(label=_("Ranger dans le dossier"), required=False, choices=[])

    def __init__(self, *args, folders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["folder"].choices = [("", _("Aucun dossier"))] + [(str(f.uuid), f.name) for f in folders]


class ConfidentialityDefaultsForm(DsfrBaseForm):
    new_documents_masked = forms.BooleanField(
        label=_("Masquer aux professionnels de santé les nouveaux documents"), required=False,
        help_text=_("Les documents qui arriveront dans votre espace seront masqués : seuls leur auteur et votre "
                    "médecin traitant pourront les consulter."))
    care_history_masked = forms.BooleanField(
        label=_("Masquer aux professionnels de santé mon histoire de santé"), required=False)
    apply_to_existing = forms.BooleanField(
        label=_("Appliquer ce choix à tous mes documents actuels"), required=False,
        help_text=_("Masque (ou rend visibles) d'un coup tous les documents déjà présents."))
