"""Forms of the "Paramètres de confidentialité" sharing sections. Shape only; carnet.sharing.actions decides."""

from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from carnet.sharing import professions
from carnet.sharing.directory_search import MAX_LENGTH
from carnet.sharing.models import CareRoleKind

from .forms_account import DomainErrorsMixin

SEARCH_KINDS = [
    ("professional", _("Un professionnel de santé")),
    ("care_team", _("Une équipe de soins")),
    ("establishment", _("Un établissement")),
]


def _profession_choices():
    known = sorted(professions.professions().values(), key=lambda c: c.label)
    return [("", _("Toutes les professions"))] + [(c.code, c.label) for c in known]


class DirectorySearchForm(DomainErrorsMixin, DsfrBaseForm):
    """Posted, never in a URL: the words live in the session while the holder picks from the results."""

    kind = forms.ChoiceField(label=_("Je cherche"), choices=SEARCH_KINDS, initial="professional")
    name = forms.CharField(label=_("Nom"), max_length=MAX_LENGTH,
                           help_text=_("Nom et prénom d'un professionnel, nom d'une équipe ou d'un établissement, "
                                       "ou numéro RPPS ou FINESS."))
    profession = forms.ChoiceField(label=_("Profession (professionnels seulement)"), required=False,
                                   choices=_profession_choices)


class UntilForm(DsfrBaseForm):
    """An end date, inclusive; empty: no end. The action checks it is after today."""

    until = forms.DateField(label=_("Jusqu'au (inclus)"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class RoleForm(DomainErrorsMixin, DsfrBaseForm):
    kind = forms.ChoiceField(label=_("Rôle"), choices=CareRoleKind.choices)
    professional = forms.ChoiceField(label=_("Professionnel autorisé"), choices=[])

    def __init__(self, *args, professionals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["professional"].choices = [("", _("Choisir un professionnel"))] + [
            (str(p.uuid), f"{p.full_name} — {p.profession_label}") for p in professionals]


class EmergencySettingsForm(DsfrBaseForm):
    """The holder's three emergency choices ("Accès en cas d'urgence"), each independent of the others."""

    samu_allowed = forms.BooleanField(
        label=_("Autoriser le médecin régulateur du SAMU (centre 15) à consulter mon dossier"), required=False,
        help_text=_("Lorsque le SAMU reçoit un appel vous concernant, son médecin régulateur peut consulter votre "
                    "dossier pour décider des secours."))
    break_glass_allowed = forms.BooleanField(
        label=_("Autoriser les autres professionnels de santé à consulter mon dossier en cas d'urgence"),
        required=False,
        help_text=_("Si vous ne pouvez pas donner votre accord et que votre santé est en danger immédiat, un "
                    "professionnel peut ouvrir votre dossier en indiquant un motif (« bris de glace »)."))
    masked_visible = forms.BooleanField(
        label=_("Montrer mes documents masqués en cas d'urgence"), required=False,
        help_text=_("Sinon, les documents que vous avez masqués restent cachés aux professionnels qui accèdent à "
                    "votre dossier en urgence (sauf à leur auteur et à votre médecin traitant)."))
