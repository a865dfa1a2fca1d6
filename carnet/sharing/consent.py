"""Consent declared by a professional at first access ("le patient m'a donné son accord").

A professional outside any authorisation in force may declare that the holder agreed; this creates a permanent
authorisation of their own (`declared_by_professional`, no `granted_by`) that the holder sees on the privacy page
and can revoke. It is refused where the policy says the professional may not read for any other reason than the
missing authorisation (blocked, not active in the directory, space not active): the declaration only supplies the
consent, it never overrides a block. Every declaration, and every refused one, is an access event.
"""

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from carnet.identity.models import Person
from carnet.notifications import actions as notifications
from carnet.notifications.enums import Kind

from .actions import SharingError, in_force
from .events import record
from .models import Authorisation, Professional
from .policy import Action, PolicyDenied, Role, decide

ACTION = "authorisation.declare"
REASON = "declared_consent"


def declare_consent(professional: Professional, person: Person) -> Authorisation:
    """Record the holder's consent as declared by `professional`: a permanent authorisation of their own, an access
    event, and a notice to the holder (no health content, no professional's name: the privacy page says who)."""
    subject = f"professional:{professional.uuid}"
    decision = decide(professional, Action.READ_RECORD, person)
    if decision.allowed:
        raise SharingError(_("Vous avez déjà accès à cet espace : aucun accord n'est à déclarer."),
                           code="already_authorised")
    if decision.reason != "no_authorisation":
        record(person, actor=professional, role=decision.role, action=ACTION, allowed=False, reason=decision.reason,
               subject=subject)
        raise PolicyDenied(decision)
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).values_list("pk", flat=True).first()
        if in_force(Authorisation.objects.filter(person=person, professional=professional)).exists():
            raise SharingError(_("Vous avez déjà accès à cet espace : aucun accord n'est à déclarer."),
                               code="already_authorised")
        authorisation = Authorisation.objects.create(person=person, professional=professional, granted_by=None,
                                                     declared_by_professional=True, expires_at=None)
        record(person, actor=professional, role=Role.PROFESSIONAL, action=ACTION, reason=REASON, subject=subject)
        notifications.notify(
            person, kind=Kind.ACCOUNT, code="authorisation_declared",
            title=_("Un professionnel de santé a déclaré avoir recueilli votre accord pour consulter votre espace. "
                    "Vous pouvez retirer cette autorisation dans vos paramètres de confidentialité."),
            url=reverse("portal:privacy"),
        )
    return authorisation
