"""Which of a person's documents an actor sees, given the role the policy gave them.

The holder and representatives never see what an author made invisible pending an announcement
consultation; representatives never see what is hidden from them. The sharing issue adds the
professional rules (masking, habilitation matrix) here, behind the same policy decision.
"""

from django.db.models import Q
from django.db.models.lookups import In
from django.utils import timezone

from carnet.sharing.policy import Role

from .enums import DocumentStatus
from .models import Document


class AnyOf(In):
    """`type_code__any_of=[...]`: `IN` everywhere, `= ANY(%s)` with one array parameter on PostgreSQL. The
    habilitation matrix lets a doctor read about 110 types; as `IN (...)`, Django and psycopg handled each code
    as a parameter, in the count and again in the page (about 0.8 ms of a professional's search)."""

    lookup_name = "any_of"

    def get_prep_lookup(self):
        if isinstance(self.rhs, Codes):  # strings already: CharField would give each back unchanged
            return self.rhs
        return super().get_prep_lookup()

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


class Codes:
    """Codes for `any_of`, fixed and prepared once: not a list or tuple, so Django neither resolves nor prepares
    each of them again for every query (the matrix's 110 codes cost about 0.5 ms per search that way)."""

    __slots__ = ("codes",)

    def __init__(self, codes) -> None:
        self.codes = tuple(str(code) for code in codes)

    def __iter__(self):
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)


Document._meta.get_field("type_code").register_lookup(AnyOf)


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
    if role in (Role.HOLDER, Role.REPRESENTATIVE, Role.CAREGIVER):
        documents = documents.exclude(still_invisible)
    if role in (Role.REPRESENTATIVE, Role.CAREGIVER):  # a caregiver sees no more than a representative
        documents = documents.exclude(hidden_from_representatives=True)
    if role not in (Role.HOLDER, Role.REPRESENTATIVE, Role.CAREGIVER, Role.SYSTEM):
        return documents.none()
    return documents


# The matrix's readable codes by profession, with the matrix they come from: `habilitation.reload()` loads a new
# matrix, which makes them asked again. About 110 codes out of 130 types for a doctor, on every search.
_codes_by_profession: dict[str, tuple[object, Codes]] = {}


def _readable_codes(profession_code: str) -> Codes:
    from carnet.sharing import habilitation

    matrix = habilitation.matrix()
    known = _codes_by_profession.get(profession_code)
    if known is None or known[0] is not matrix:
        known = (matrix, Codes(t.code for t in habilitation.readable_types(profession_code)))
        _codes_by_profession[profession_code] = known
    return known[1]


def documents_for_professional(professional, person):
    """The documents of `person` a professional may read, as one query. It must agree with the policy's
    document-level answer (`decide(professional, Action.READ_DOCUMENT, document)`); a test checks both on
    random cases. Authors always read what they authored, blocked or not; an emergency opening in force counts
    as an authorisation, and shows masked documents only if the holder chose so."""
    from carnet.sharing.policy import (
        OPEN_STATUSES,
        SEES_MASKED,
        emergency_in_force,
        emergency_settings_of,
        is_authorised,
        is_blocked,
        roles_of,
    )

    documents = Document.objects.of(person).exclude(status=DocumentStatus.DELETED)
    if not professional.active or person.status not in OPEN_STATUSES:
        return documents.none()
    authored = Q(author_identifier__in=[professional.rpps, professional.national_id]) & ~Q(author_identifier="")
    if is_blocked(person, professional):
        return documents.filter(authored)
    authorised = is_authorised(person, professional)
    emergency = None if authorised else emergency_in_force(person, professional)
    if not authorised and emergency is None:
        return documents.filter(authored)
    readable = Q(type_code__any_of=_readable_codes(professional.profession_code))
    if not roles_of(person, professional) & SEES_MASKED:
        if emergency is None:
            emergency = emergency_in_force(person, professional)
        if emergency is None or not emergency_settings_of(person).masked_visible:
            readable &= Q(masked_to_professionals=False)
    return documents.filter(readable | authored)
