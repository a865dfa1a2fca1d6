"""Demo conversation: the first demo doctor writes to the first demo holder, who replies (idempotent). Goes
through the real actions, so the notices are in the dev outbox."""

from carnet.identity.models import Person
from carnet.sharing.models import Professional

from . import actions
from .models import Conversation


def fill_demo_messages(holder: Person) -> int:
    """One conversation for `holder` the first time; returns how many were added."""
    if Conversation.objects.filter(person=holder).exists():
        return 0
    doctor = Professional.objects.filter(active=True, profession_code="10").order_by("rpps").first()
    if doctor is None:
        return 0
    conversation = actions.start_conversation(
        doctor, holder, doctor, subject="Suite à votre consultation",
        body="Bonjour,\n\nVos résultats d'analyse sont dans votre espace. Tout est normal ; pensez à reprendre "
             "rendez-vous dans six mois pour le suivi.\n\nBien cordialement.")
    actions.send_message(holder, conversation, body="Merci docteur, je prends rendez-vous pour le printemps.")
    return 1
