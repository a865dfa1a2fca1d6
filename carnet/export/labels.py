"""How the export names an access event's actor, role and action, in French. The portal's history page has its
own, richer labels (a face's); a file outlives the session, so here the actor is always named, never "Vous"."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carnet.sharing.policy import Role

ROLES = {
    Role.HOLDER: gettext_lazy("Titulaire"), Role.REPRESENTATIVE: gettext_lazy("Représentant légal"),
    Role.CAREGIVER: gettext_lazy("Aidant"), Role.SYSTEM: gettext_lazy("Système"),
    Role.PROFESSIONAL: gettext_lazy("Professionnel de santé"), Role.NONE: gettext_lazy("Aucun lien avec ce profil"),
}
# By action prefix: what kind of act it was (the code itself is kept beside it in every file).
ACTIONS = {
    "account.": gettext_lazy("Compte et connexion"), "representative": gettext_lazy("Représentants légaux"),
    "caregiver": gettext_lazy("Aidants"), "record.read": gettext_lazy("Consultation du dossier"),
    "record.write": gettext_lazy("Modification du dossier"),
    "record.delete": gettext_lazy("Suppression dans le dossier"),
    "document.read": gettext_lazy("Consultation d'un document"), "document.add": gettext_lazy("Ajout d'un document"),
    "document.": gettext_lazy("Modification d'un document"), "space.export": gettext_lazy("Export des données"),
    "space.": gettext_lazy("Espace santé"), "sharing.": gettext_lazy("Gestion des accès des professionnels"),
    "emergency": gettext_lazy("Accès en situation d'urgence"), "settings.": gettext_lazy("Paramètres"),
    "message.": gettext_lazy("Messagerie"),
}


def role_label(role: str) -> str:
    label = ROLES.get(role)  # type: ignore[call-overload]
    return str(label) if label else role


def action_label(event) -> str:
    for prefix, label in ACTIONS.items():
        if event.action.startswith(prefix):
            return str(label)
    return _("Autre action")


def who(event) -> str:
    if event.actor_role == Role.SYSTEM or not (event.actor_id or event.actor_label or event.professional_id):
        return _("Système")
    return event.actor_label or role_label(event.actor_role)
