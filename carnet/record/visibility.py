"""Which of a person's documents an actor sees, given the role the policy gave them.

The holder and representatives never see what an author made invisible pending an announcement
consultation; representatives never see what is hidden from them. The sharing issue adds the
professional rules (masking, habilitation matrix) here, behind the same policy decision.
"""

from django.db.models import Q
from django.utils import timezone

from carnet.sharing.policy import Role

from .enums import DocumentStatus
from .models import Document


def visible_documents(person, role: Role, *, include_history: bool = False):
    documents = Document.objects.of(person)
    if not include_history:
        documents = documents.listed()
    else:
        documents = documents.exclude(status=DocumentStatus.DELETED)
    today = timezone.localdate()
    still_invisible = Q(invisible_to_holder=True) & (
        Q(invisible_to_holder_until__isnull=True) | Q(invisible_to_holder_until__gt=today)
    )
    if role in (Role.HOLDER, Role.REPRESENTATIVE):
        documents = documents.exclude(still_invisible)
    if role == Role.REPRESENTATIVE:
        documents = documents.exclude(hidden_from_representatives=True)
    if role not in (Role.HOLDER, Role.REPRESENTATIVE, Role.SYSTEM):
        return documents.none()
    return documents
