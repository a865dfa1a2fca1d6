"""The resource types this endpoint serves, each a handler with its read, its search and the search
parameters it implements (the CapabilityStatement is built from these, so it declares exactly them).

Every read goes through the one policy function: `authorise(actor, action, target)` records the access
event (every representative's and professional's read, every denial) and raises `PolicyDenied`, which
the view answers 404 when the answer must not reveal a space, else 403 with the reason (views.denial).

Holders and representatives: documents are narrowed by `visible_documents(person, role)`, so what is
hidden from representatives stays hidden. Professionals: a search names its `patient` (they have no
space of their own), is decided once at space level (`READ_RECORD`: one event for the whole searchset,
not one per result) and lists `documents_for_professional`, the SQL twin of the per-document decision;
a DocumentReference or Binary read is decided on the document itself (`READ_DOCUMENT`: one event).
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from carnet.identity.actions.family import represented_profiles
from carnet.identity.models import Person
from carnet.record.actions import open_document
from carnet.record.errors import RecordError
from carnet.record.models import Document
from carnet.record.visibility import documents_for_professional, visible_documents
from carnet.sharing.events import authorise
from carnet.sharing.models import Authorisation, Professional
from carnet.sharing.policy import Action, Decision, decide

from . import mapping
from .http import FhirError, not_found
from .params import Search, Token, parse_date, parse_uuid


@dataclass
class Context:
    """Who asks (a person: holder or representative; or a professional), and the absolute base URL of the
    endpoint (for `fullUrl` and links)."""

    request: HttpRequest
    actor: Person | Professional
    base: str

    @property
    def professional(self) -> Professional | None:
        return self.actor if isinstance(self.actor, Professional) else None

    @property
    def person(self) -> Person:
        """The caller as a person (holder or representative); only on the paths where it is one."""
        if not isinstance(self.actor, Person):  # a professional never takes these paths
            raise TypeError("a holder's path taken by a professional")
        return self.actor


@dataclass(frozen=True)
class Param:
    """A search parameter as the CapabilityStatement declares it."""

    type: str
    documentation: str
    definition: str = ""


ID = Param("token", "L'identifiant (UUID) de la ressource ; plusieurs séparés par des virgules.",
           "http://hl7.org/fhir/SearchParameter/Resource-id")
LAST_UPDATED = Param("date", "Date de dernière modification, avec préfixe eq, ne, gt, lt, ge ou le.",
                     "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated")
PATIENT = Param("reference", "Patient/<uuid> ou <uuid> : l'espace du demandeur par défaut, ou celui d'une personne "
                             "qu'il représente. Obligatoire pour un professionnel de santé (400 sinon).")


class Handler:
    """A resource type: its interactions, its search parameters, and how to read and search it."""

    type: str
    params: dict[str, Param] = {}
    interactions: tuple[str, ...] = ("read", "search-type")
    documentation: str = ""

    def read(self, ctx: Context, resource_id: str) -> dict[str, Any] | HttpResponseBase:  # pragma: no cover
        raise NotImplementedError

    def search(self, ctx: Context, search: Search) -> tuple[int, list[dict[str, Any]]]:  # pragma: no cover
        raise NotImplementedError


def target_space(ctx: Context, search: Search) -> tuple[Person, Decision]:
    """The space a search looks into: the caller's own, or the one `patient` names, after the policy.
    A person the caller has no relationship with, and an unknown one, both end in the same 404.
    A professional has no space of their own: `patient` is required (400 without it). The decision is
    recorded as one event on the space, with the searched type as subject."""
    values = search.params.get("patient", [])
    if len(values) > 1 or any("," in v for v in values):
        raise FhirError(400, "not-supported", _("Un seul patient par recherche."), expression="patient")
    if not values and ctx.professional is not None:
        raise FhirError(400, "required", _("Le paramètre « patient » est obligatoire pour un professionnel de "
                                           "santé."), expression="patient")
    target: Person | None = None if ctx.professional is not None else ctx.person
    if values:
        kind, _slash, ident = values[0].rstrip("/").rpartition("/")
        wanted = parse_uuid(ident) if kind in ("", "Patient") or kind.endswith("/Patient") else None
        if target is None or wanted != target.uuid:
            target = Person.objects.filter(uuid=wanted).first() if wanted else None
    subject = f"search:{search.resource_type}" if ctx.professional is not None else ""
    decision = authorise(ctx.actor, Action.READ_RECORD, target, subject=subject)  # raises PolicyDenied (records it)
    return target, decision  # type: ignore[return-value]


def and_or(queries: list[list[Q]]) -> Q:
    """AND between occurrences of a parameter, OR between the comma-separated values of one."""
    combined = Q()
    for alternatives in queries:
        any_of = Q(pk__in=[])
        for alternative in alternatives:
            any_of |= alternative
        combined &= any_of
    return combined


def id_filter(search: Search, column: str = "uuid") -> Q:
    def one(token: Token) -> Q:
        wanted = parse_uuid(token.code)
        return Q(**{column: wanted}) if wanted else Q(pk__in=[])
    return and_or([[one(t) for t in alternatives] for alternatives in search.tokens("_id")])


def date_filter(search: Search, name: str, column: str) -> Q:
    return and_or([[parse_date(name, part).q(column) for part in value.split(",")]
                   for value in search.params.get(name, [])])


class PatientHandler(Handler):
    """The caller's own Patient and the persons they represent (children, protected adults); for a
    professional, the persons whose space they may read now.

    No `identifier` search: the INS is a NIR, and a NIR never goes in a URL (DESIGN.md §4).
    """

    type = "Patient"
    params = {"_id": ID, "_lastUpdated": LAST_UPDATED}
    documentation = ("Le titulaire et les personnes qu'il représente ; pour un professionnel de santé, les patients "
                     "dont il peut consulter l'espace. id = UUID public de la personne.")

    def read(self, ctx: Context, resource_id: str) -> dict[str, Any]:
        wanted = parse_uuid(resource_id)
        if wanted is None:
            raise not_found()
        own = ctx.professional is None and wanted == ctx.person.uuid
        target = ctx.actor if own else Person.objects.filter(uuid=wanted).first()
        authorise(ctx.actor, Action.READ_RECORD, target)  # raises PolicyDenied for None too (not recorded)
        return mapping.patient(target)  # type: ignore[arg-type]

    def search(self, ctx: Context, search: Search) -> tuple[int, list[dict[str, Any]]]:
        candidates = self._candidates(ctx)
        ids = Person.objects.filter(pk__in=[p.pk for p in candidates]).filter(
            id_filter(search) & date_filter(search, "_lastUpdated", "updated_at")).values_list("pk", flat=True)
        matching = [p for p in candidates if p.pk in set(ids) and decide(ctx.actor, Action.READ_RECORD, p)]
        page = matching[search.offset:search.offset + search.count]
        for person in page:  # each listed person is a read: representatives' and professionals' reads are traced
            authorise(ctx.actor, Action.READ_RECORD, person)
        return len(matching), [mapping.patient(p) for p in page]

    @staticmethod
    def _candidates(ctx: Context) -> list[Person]:
        """Who might be listed, before the policy decides on each: for a person, themselves and whom they
        represent; for a professional, the persons who ever authorised them, one of their care teams or one
        of their activity places (expiry, revocation, blocks and the space's status are the policy's call)."""
        professional = ctx.professional
        if professional is None:
            return [ctx.person, *represented_profiles(ctx.person)]
        grantee = (Q(professional=professional) | Q(care_team__memberships__professional=professional)
                   | Q(establishment__activity_places__professional=professional))
        persons = Authorisation.objects.filter(grantee).values("person_id")
        return list(Person.objects.filter(pk__in=persons).order_by("family_name", "given_names", "pk"))


def _document(ctx: Context, resource_id: str) -> Document:
    """A document the caller may read, found by its public id. A holder's side is decided on its owner's
    space; a professional on the document itself (matrix, masking, authorship: one event, the document
    as subject; a 403 with the reason, or 404 for a deleted document or a space that is not open)."""
    wanted = parse_uuid(resource_id)
    found = Document.objects.filter(uuid=wanted).select_related("person").first() if wanted else None
    if found is None:
        raise not_found()
    if ctx.professional is not None:
        authorise(ctx.professional, Action.READ_DOCUMENT, found)  # raises PolicyDenied (recorded)
        return found
    try:
        document, _decision = open_document(ctx.actor, found.person, wanted)
    except RecordError:
        raise not_found() from None
    return document


def token_q(token: Token, system_column: str, code_column: str, systems: dict[str, str] | None = None) -> Q:
    """A token against a (system OID, code) pair of columns; `systems` maps accepted URIs to a fixed value."""
    q = Q(**{code_column: token.code}) if token.code else Q()
    if token.system:
        stored = (systems or {}).get(token.system, mapping.system_oid(token.system))
        q &= Q(**{system_column: stored})
    return q


class DocumentReferenceHandler(Handler):
    """Document metadata. `status` defaults to every status but `deleted` (never returned)."""

    type = "DocumentReference"
    params = {
        "patient": PATIENT, "_id": ID, "_lastUpdated": LAST_UPDATED,
        "date": Param("date", "Date de dépôt dans l'espace (DocumentReference.date), avec préfixe.",
                      "http://hl7.org/fhir/SearchParameter/DocumentReference-date"),
        "period": Param("date", "Date de l'acte (context.period), avec préfixe.",
                        "http://hl7.org/fhir/SearchParameter/DocumentReference-period"),
        "type": Param("token", "Type de document (JDV_J07) : http://loinc.org|<code>, urn:oid:<oid>|<code> ou <code>."),
        "category": Param("token", f"Classe (urn:oid:{mapping.CLASS_SYSTEM.removeprefix('urn:oid:')}) ou catégorie "
                                   f"de l'espace ({mapping.CATEGORY_SYSTEM})."),
        "status": Param("token", "current ou superseded.",
                        "http://hl7.org/fhir/SearchParameter/DocumentReference-status"),
    }
    documentation = ("Métadonnées des documents ; id = UUID public du document. date = date de dépôt ; la date de "
                     "l'acte est context.period.start. L'empreinte SHA-256 (hex) est dans l'extension "
                     f"{mapping.SHA256_EXTENSION} de l'attachment (pas de hash SHA-1).")

    def read(self, ctx: Context, resource_id: str) -> dict[str, Any]:
        return mapping.document_reference(_document(ctx, resource_id))

    def search(self, ctx: Context, search: Search) -> tuple[int, list[dict[str, Any]]]:
        person, decision = target_space(ctx, search)
        if ctx.professional is not None:
            documents = documents_for_professional(ctx.professional, person)
        else:
            documents = visible_documents(person, decision.role, include_history=True)
        documents = documents.filter(
            id_filter(search) & date_filter(search, "_lastUpdated", "updated_at")
            & date_filter(search, "date", "created_at") & date_filter(search, "period", "act_date")
        )
        documents = documents.filter(and_or([[token_q(t, "type_system", "type_code") for t in alternatives]
                                             for alternatives in search.tokens("type")]))
        documents = documents.filter(and_or([[self._category(t) for t in alternatives]
                                             for alternatives in search.tokens("category")]))
        documents = documents.filter(and_or([[Q(status=t.code) for t in alternatives]
                                             for alternatives in search.tokens("status")]))
        total = documents.count()
        page = documents.select_related("person", "replaces").order_by("-created_at", "-id")[
            search.offset:search.offset + search.count]
        return total, [mapping.document_reference(d) for d in page]

    @staticmethod
    def _category(token: Token) -> Q:
        if token.system == mapping.CLASS_SYSTEM:
            return Q(class_code=token.code)
        if token.system == mapping.CATEGORY_SYSTEM:
            return Q(category=token.code)
        if token.system:
            return Q(pk__in=[])
        return Q(class_code=token.code) | Q(category=token.code)


class BinaryHandler(Handler):
    """A document's bytes, id = the document's id. Read only: a search over Binaries would mean decrypting
    every document of a space; clients find them through DocumentReference.content.attachment.url."""

    type = "Binary"
    params = {}
    interactions = ("read",)
    documentation = ("Contenu d'un document (même id que sa DocumentReference). Avec Accept: application/fhir+json, "
                     "une ressource Binary (base64) ; sinon les octets bruts avec leur type MIME.")

    def read(self, ctx: Context, resource_id: str) -> HttpResponseBase | dict[str, Any]:
        from .binary import serve

        return serve(ctx.request, _document(ctx, resource_id))


def handlers() -> dict[str, Handler]:
    from .profile import profile_handlers

    found: dict[str, Handler] = {h.type: h for h in (PatientHandler(), DocumentReferenceHandler(), BinaryHandler())}
    found.update(profile_handlers())
    return found
