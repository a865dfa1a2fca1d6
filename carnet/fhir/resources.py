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

import functools
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from carnet.identity import throttle
from carnet.identity.actions.family import represented_profiles
from carnet.identity.enums import Sex
from carnet.identity.models import Person
from carnet.interop import terminology
from carnet.pro.services import Traits, match_identity
from carnet.record.actions import open_document
from carnet.record.errors import RecordError
from carnet.record.models import Document
from carnet.record.visibility import documents_for_professional, visible_documents
from carnet.sharing import events
from carnet.sharing.events import authorise
from carnet.sharing.models import Authorisation, Professional
from carnet.sharing.policy import Action, Decision, PolicyDenied, decide

from . import mapping
from .http import FhirError, not_found, outcome
from .params import Search, Token, bad_value, parse_date, parse_uuid, split_or


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


GENDERS = {"male": Sex.MALE, "female": Sex.FEMALE, "other": "", "unknown": ""}
GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender"
DAY = re.compile(r"^(eq)?\d{4}-\d{2}-\d{2}$")
LOOKUP_PARAMS = ("identifier", "family", "given", "birthdate", "gender")
LOOKUP_SUBJECT = "lookup:Patient"
LOOKUP_ACTION = "patient.lookup"


class PatientHandler(Handler):
    """The caller's own Patient and the persons they represent (children, protected adults); for a
    professional, the persons whose space they may read now, or — with `identifier` or identity traits — the
    PDSm space existence check and PDQm ITI-78 (docs/decisions/0011-patient-lookup.md):

    - by INS alone: one Patient whose `active` says whether the space is open. A professional who never had a
      relationship with the space (authorisation, document filed) learns only "open" or nothing: an unknown INS
      and a space that is not open (in its opposition window, opposed, closed) are the same empty answer. The
      identity traits are not given back for an INS alone (the INS already carries sex and birth month);
    - by INS and traits (family, given, birthdate; gender optional), or by traits alone: exact comparison as
      identity vigilance does it (the pro portal's `match_identity`, with its attempt limit shared), at most one
      Patient, "multiple-matches" otherwise;
    - every lookup that names a person is an access event on their space (`patient.lookup`), denials included;
      the policy's WRITE_RECORD decision (may this professional file documents here?) is what the answer tells.
    """

    type = "Patient"
    params = {
        "_id": ID, "_lastUpdated": LAST_UPDATED,
        "identifier": Param("token", f"INS : {mapping.INS_SYSTEM}|<INS> (ou l'OID des INS de test "
                                     "1.2.250.1.213.1.4.10 là où ils sont acceptés). Pour un professionnel : test "
                                     "d'existence de l'espace (active) ou recherche PDQm avec les traits d'identité.",
                            "http://hl7.org/fhir/SearchParameter/Patient-identifier"),
        "family": Param("string", "Nom de naissance. Pour un professionnel : comparaison exacte (hors accents, casse "
                                  "et tirets), avec given et birthdate.",
                        "http://hl7.org/fhir/SearchParameter/individual-family"),
        "given": Param("string", "Premier prénom de naissance (comparaison exacte pour un professionnel).",
                       "http://hl7.org/fhir/SearchParameter/individual-given"),
        "birthdate": Param("date", "Date de naissance complète AAAA-MM-JJ.",
                           "http://hl7.org/fhir/SearchParameter/individual-birthdate"),
        "gender": Param("token", "male, female, other ou unknown.",
                        "http://hl7.org/fhir/SearchParameter/individual-gender"),
    }
    documentation = ("Le titulaire et les personnes qu'il représente ; pour un professionnel de santé, les patients "
                     "dont il peut consulter l'espace, le test d'existence d'un espace par INS (PDSm) et la "
                     "recherche PDQm (ITI-78) par INS et traits d'identité. id = UUID public de la personne.")

    def read(self, ctx: Context, resource_id: str) -> dict[str, Any]:
        wanted = parse_uuid(resource_id)
        if wanted is None:
            raise not_found()
        own = ctx.professional is None and wanted == ctx.person.uuid
        target = ctx.actor if own else Person.objects.filter(uuid=wanted).first()
        authorise(ctx.actor, Action.READ_RECORD, target)  # raises PolicyDenied for None too (not recorded)
        return mapping.patient(target)  # type: ignore[arg-type]

    def search(self, ctx: Context, search: Search) -> tuple[int, list[dict[str, Any]]]:
        wanted = _identity_query(search)  # every value checked (400) first
        if ctx.professional is not None and wanted is not None:
            return self._lookup(ctx.professional, search, *wanted)
        candidates = self._candidates(ctx)
        ids = Person.objects.filter(pk__in=[p.pk for p in candidates]).filter(
            id_filter(search) & date_filter(search, "_lastUpdated", "updated_at")).values_list("pk", flat=True)
        matching = [p for p in candidates if p.pk in set(ids) and (wanted is None or _same_identity(p, *wanted))
                    and decide(ctx.actor, Action.READ_RECORD, p)]
        page = matching[search.offset:search.offset + search.count]
        for person in page:  # each listed person is a read: representatives' and professionals' reads are traced
            authorise(ctx.actor, Action.READ_RECORD, person)
        return len(matching), [mapping.patient(p) for p in page]

    def _lookup(self, professional: Professional, search: Search, nir: str | None, by_ins: bool,
                traits: Traits | None) -> tuple[int, list[dict[str, Any]]]:
        """Existence check and PDQm for a professional (see the class docstring)."""
        if any(name in search.params for name in ("_id", "_lastUpdated")):
            raise FhirError(400, "not-supported", _("Une recherche par identité ne se combine pas avec _id ou "
                                                    "_lastUpdated."), expression="_id")
        hidden: list[Person] = []

        def admit(person: Person) -> bool:
            """Revealed when the space is open, or to a professional who already knows the space; a hidden one is
            still an access event (denied) on that person's space."""
            decision = decide(professional, Action.WRITE_RECORD, person)
            if decision.allowed or decision.reason != "not_active" or _knows_space(professional, person):
                return True
            events.record(person, actor=professional, role=decision.role, action=LOOKUP_ACTION, allowed=False,
                          reason=decision.reason, subject=LOOKUP_SUBJECT)
            hidden.append(person)
            return False

        try:
            if by_ins and nir is None:  # an INS that may match no one here (NIA, refused test INS): still an attempt
                found = match_identity(professional, nir="", traits=traits)
            else:
                found = match_identity(professional, nir=nir, traits=traits, accept=admit)
        except throttle.Locked:
            raise FhirError(429, "throttled", _("Trop de recherches sans résultat : réessayez plus tard."),
                            headers={"Retry-After": "60"}) from None
        if len(found) > 1:  # traits alone naming several persons: none is given (identity vigilance)
            search.notes.append(outcome("multiple-matches", _("Plusieurs personnes correspondent à ces traits "
                                                              "d'identité : précisez l'INS."), severity="warning"))
            return 0, []
        if not found:
            return 0, []
        person = found[0]
        decision = decide(professional, Action.WRITE_RECORD, person)
        events.record(person, actor=professional, role=decision.role, action=LOOKUP_ACTION,
                      allowed=decision.allowed, reason=decision.reason,
                      subject=LOOKUP_SUBJECT)
        if not decision.allowed and decision.reason != "not_active":
            raise PolicyDenied(decision)  # blocked, inactive professional: a 403 with the reason
        if traits is not None or decide(professional, Action.READ_RECORD, person):
            answer = mapping.patient(person)
        else:
            answer = mapping.patient_status(person)
        answer["active"] = decision.allowed  # open to filing: an active space, or one created and not yet activated
        return 1, [answer]

    @staticmethod
    def _candidates(ctx: Context) -> list[Person]:
        """Who might be listed, before the policy decides on each: for a person, themselves and whom they
        represent; for a professional, the persons who ever authorised them, one of their care teams or one
        of their activity places (expiry, revocation, blocks and the space's status are the policy's call)."""
        professional = ctx.professional
        if professional is None:
            return [ctx.person, *represented_profiles(ctx.person)]
        persons = Authorisation.objects.filter(_grantee(professional)).values("person_id")
        return list(Person.objects.filter(pk__in=persons).order_by("family_name", "given_names", "pk"))


def _grantee(professional: Professional) -> Q:
    return (Q(professional=professional) | Q(care_team__memberships__professional=professional)
            | Q(establishment__activity_places__professional=professional))


def _knows_space(professional: Professional, person: Person) -> bool:
    """Whether the professional already knows this person has a space: the holder authorised them (or their team or
    establishment) at some time, or they filed a document there."""
    if Authorisation.objects.filter(person=person).filter(_grantee(professional)).exists():
        return True
    ids = [i for i in (professional.rpps, professional.national_id) if i]
    return Document.objects.filter(person_id=person.pk, author_identifier__in=ids).exists()


def _one(search: Search, name: str) -> str | None:
    values = search.params.get(name, [])
    if len(values) > 1 or any(len(split_or(v)) > 1 for v in values):
        raise bad_value(name, _("Une seule valeur est acceptée."))
    return values[0].strip() if values else None


def _identity_query(search: Search) -> tuple[str | None, bool, Traits | None] | None:
    """The identity asked for: (NIR or None, whether an INS was given, traits or None); None without any of
    the identity parameters. Traits come complete (family, given, birthdate) or not at all: 400 naming what is
    missing, as identity vigilance never matches on part of an identity."""
    raw = {name: _one(search, name) for name in LOOKUP_PARAMS}
    if not any(raw.values()):
        return None
    nir = _ins_token("identifier", raw["identifier"]) if raw["identifier"] else None
    birth = None
    if raw["birthdate"]:
        if not DAY.match(raw["birthdate"]):
            raise bad_value("birthdate", _("Une date de naissance complète est attendue : AAAA-MM-JJ."))
        birth = parse_date("birthdate", raw["birthdate"]).low.date()
    sex = None
    if raw["gender"]:
        token = Token.parse(raw["gender"])
        if (token.system and token.system != GENDER_SYSTEM) or token.code not in GENDERS:
            raise bad_value("gender", _("Valeurs possibles : male, female, other, unknown."))
        sex = GENDERS[token.code]
    traits = None
    if raw["family"] or raw["given"] or raw["birthdate"] or raw["gender"]:
        missing = [name for name in ("family", "given", "birthdate") if not raw[name]]
        if missing:
            raise FhirError(400, "required", _("Traits d'identité incomplets : nom de naissance (family), premier "
                                               "prénom (given) et date de naissance (birthdate) sont attendus "
                                               "ensemble."), expression=missing[0])
        traits = Traits(raw["family"] or "", raw["given"] or "", birth, sex)  # type: ignore[arg-type]
    return nir, bool(raw["identifier"]), traits


def _same_identity(person: Person, nir: str | None, by_ins: bool, traits: Traits | None) -> bool:
    """A holder's own list (themselves and whom they represent) narrowed by identity, with the same rules."""
    if by_ins and person.nir != nir:
        return False
    return traits is None or traits.match(person)


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


def _ins_token(name: str, raw: str) -> str | None:
    """The NIR a `system|value` INS token names (None: may match no one here); 400 naming `name` otherwise."""
    from carnet.pro.services import BadIdentifier, nir_for_ins

    token = Token.parse(raw)
    if not token.system or not token.code:
        raise bad_value(name, _("Format attendu : urn:oid:1.2.250.1.213.1.4.8|<INS>."))
    try:
        return nir_for_ins(token.system, token.code)
    except BadIdentifier as error:
        why = _("Système d'identifiant inconnu : seul l'INS est accepté.") if error.code == "system" else _(
            "Ce numéro n'est pas un INS valide.")
        raise bad_value(name, why) from None


def document_space(ctx: Context, search: Search) -> tuple[Person, Decision]:
    """`target_space`, where the patient may also be named by INS (`patient.identifier`, as PDSm software does):
    an unknown INS ends like an unknown id (404)."""
    values = search.params.get("patient.identifier", [])
    if not values:
        return target_space(ctx, search)
    if "patient" in search.params or len(values) > 1 or len(split_or(values[0])) > 1:
        raise FhirError(400, "not-supported", _("Un seul patient par recherche."), expression="patient.identifier")
    nir = _ins_token("patient.identifier", values[0])
    target = Person.objects.filter(nir=nir).first() if nir else None
    subject = f"search:{search.resource_type}" if ctx.professional is not None else ""
    decision = authorise(ctx.actor, Action.READ_RECORD, target, subject=subject)  # raises PolicyDenied (records it)
    return target, decision  # type: ignore[return-value]


STATUS_SYSTEM = "http://hl7.org/fhir/document-reference-status"
STATUSES = {"current", "superseded", "entered-in-error", "deleted"}  # deleted: accepted, never returned
SECURITY_SYSTEMS = {mapping.CONFIDENTIALITY_CISIS, mapping.CONFIDENTIALITY_V3, "urn:oid:2.16.840.1.113883.5.25",
                    *[uri for uri, oid in mapping.MOS_SYSTEMS.items() if oid == "1.2.250.1.213.1.1.4.13"]}


def _codes_in(name: str, token: Token, codes: tuple, column: str) -> Q:
    """A token against a column holding a code of a CI-SIS value set (setting: J04, facility: J02): the code must
    be in the value set (400 otherwise); a system, when given, must be the code's (or `system|`: any of its)."""
    wanted_system = mapping.system_oid(token.system) if token.system else None
    known = [c for c in codes if wanted_system is None or c.system == wanted_system]
    if wanted_system is not None and not known:
        raise bad_value(name, _("Système de codes inconnu pour ce paramètre."))
    if not token.code:
        return Q(**{f"{column}__in": [c.code for c in known]})
    if not any(c.code == token.code for c in codes):
        raise bad_value(name, _("Code hors du jeu de valeurs."))
    if not any(c.code == token.code for c in known):
        return Q(pk__in=[])
    return Q(**{column: token.code})


def _format_q(token: Token) -> Q:
    found = terminology.format_code(token.code) if token.code else None
    if token.code and found is None:
        raise bad_value("format", _("Code hors du jeu de valeurs."))
    if token.system and found is not None and mapping.system_oid(token.system) != (found.system or ""):
        return Q(pk__in=[])
    if not token.code:
        raise bad_value("format", _("Un code est attendu."))
    return Q(format_code=token.code)


def _status_q(token: Token) -> Q:
    if token.system and token.system != STATUS_SYSTEM:
        raise bad_value("status", _("Système de codes inconnu pour ce paramètre."))
    if token.code not in STATUSES:
        raise bad_value("status", _("Valeurs possibles : current, superseded, entered-in-error."))
    return Q(status=token.code) if token.code in ("current", "superseded") else Q(pk__in=[])


def _identifier_q(token: Token) -> Q:
    """masterIdentifier (XDS uniqueId): an OID is stored bare and shown as urn:oid:, so both forms match."""
    if token.system and token.system != mapping.RFC3986:
        return Q(pk__in=[])
    if not token.code:
        raise bad_value("identifier", _("Une valeur est attendue."))
    return Q(unique_id__in={token.code, token.code.removeprefix("urn:oid:")})


def _security_check(token: Token) -> Token:
    known = {c.code for c in terminology.confidentiality_codes}
    if token.system and token.system not in SECURITY_SYSTEMS:
        raise bad_value("security-label", _("Système de codes inconnu pour ce paramètre."))
    if token.code not in known:
        raise bad_value("security-label", _("Valeurs possibles : %(codes)s.") % {"codes": ", ".join(sorted(known))})
    return token


def _author_matches(wanted: list[str], part: str, document: Document) -> bool:
    """An author whose given name (or family name) starts with one of `wanted`; an author known only by the label
    the document was filed with (no parts) matches on any word of it."""
    for author in mapping.authors(document):
        names = [author[part]] if author[part] else author["name"].split()
        if any(_starts(w, n) for w in wanted for n in names):
            return True
    return False


def _same_system(token: Token, system: str) -> bool:
    return token.system is None or mapping.system_oid(token.system) == mapping.system_oid(system or "")


def _starts(wanted: str, value: str) -> bool:
    """FHIR string search: case- and accent-insensitive, matching the start of the value."""
    from carnet.pro.services import fold

    return bool(value) and fold(value).startswith(fold(wanted))


class DocumentReferenceHandler(Handler):
    """Document metadata: read, and ITI-67 Find Document References. `status` defaults to every status but
    `deleted` (never returned). Token parameters take `system|code`, `code`, `|code` or `system|`; a comma is OR,
    a repeated parameter is AND (FHIR R4 §3.1.1.4); a code outside its value set is a 400 naming the parameter."""

    type = "DocumentReference"
    params = {
        "patient": PATIENT, "_id": ID, "_lastUpdated": LAST_UPDATED,
        "patient.identifier": Param("token", f"INS du patient : {mapping.INS_SYSTEM}|<INS> (ou l'OID des INS de test "
                                             "1.2.250.1.213.1.4.10 là où ils sont acceptés), au lieu de « patient »."),
        "date": Param("date", "Date de dépôt dans l'espace (DocumentReference.date), avec préfixe.",
                      "http://hl7.org/fhir/SearchParameter/DocumentReference-date"),
        "period": Param("date", "Date de l'acte (context.period), avec préfixe.",
                        "http://hl7.org/fhir/SearchParameter/DocumentReference-period"),
        "type": Param("token", "Type de document (JDV_J07) : http://loinc.org|<code>, urn:oid:<oid>|<code> ou <code>."),
        "category": Param("token", f"Classe (urn:oid:{mapping.CLASS_SYSTEM.removeprefix('urn:oid:')}) ou catégorie "
                                   f"de l'espace ({mapping.CATEGORY_SYSTEM})."),
        "status": Param("token", "current, superseded (ou entered-in-error, jamais renvoyé).",
                        "http://hl7.org/fhir/SearchParameter/DocumentReference-status"),
        "setting": Param("token", "Cadre d'exercice (context.practiceSetting, JDV_J04).",
                         "http://hl7.org/fhir/SearchParameter/DocumentReference-setting"),
        "facility": Param("token", "Secteur d'activité (context.facilityType, JDV_J02).",
                          "http://hl7.org/fhir/SearchParameter/DocumentReference-facility"),
        "event": Param("token", "Acte ou pathologie (context.event).",
                       "http://hl7.org/fhir/SearchParameter/DocumentReference-event"),
        "author.given": Param("string", "Prénom d'un auteur (début du prénom, sans tenir compte des accents ni de "
                                        "la casse)."),
        "author.family": Param("string", "Nom d'un auteur (début du nom, sans tenir compte des accents ni de la "
                                         "casse)."),
        "security-label": Param("token", "Confidentialité (JDV_J08) : MASQUE_PS, INVISIBLE_PATIENT, "
                                         "INVISIBLE_REPRESENTANTS_LEGAUX, N, R ou V.",
                                "http://hl7.org/fhir/SearchParameter/DocumentReference-security-label"),
        "format": Param("token", "Format du document (content.format, JDV_J10).",
                        "http://hl7.org/fhir/SearchParameter/DocumentReference-format"),
        "related": Param("token", "Identifiant d'un objet lié (context.related.identifier) : système|valeur."),
        "identifier": Param("token", "Identifiant unique du document (masterIdentifier) : "
                                     "urn:ietf:rfc:3986|urn:oid:<oid> ou urn:uuid:<uuid>.",
                            "http://hl7.org/fhir/SearchParameter/DocumentReference-identifier"),
    }
    documentation = ("Métadonnées des documents ; id = UUID public du document. date = date de dépôt ; la date de "
                     "l'acte est context.period.start. L'empreinte SHA-256 (hex) est dans l'extension "
                     f"{mapping.SHA256_EXTENSION} de l'attachment (pas de hash SHA-1). Recherche IHE MHD ITI-67 "
                     "(PDSm) : « patient » ou « patient.identifier » obligatoire pour un professionnel.")

    def read(self, ctx: Context, resource_id: str) -> dict[str, Any]:
        return mapping.document_reference(_document(ctx, resource_id))

    def search(self, ctx: Context, search: Search) -> tuple[int, list[dict[str, Any]]]:
        q = self._filters(search)  # every value checked (400) before the policy is asked or anything recorded
        checks = self._checks(search)
        person, decision = document_space(ctx, search)
        if ctx.professional is not None:
            documents = documents_for_professional(ctx.professional, person)
        else:
            documents = visible_documents(person, decision.role, include_history=True)
        documents = documents.filter(q).select_related("person", "replaces").order_by("-created_at", "-id")
        if not checks:
            total = documents.count()
            page = list(documents[search.offset:search.offset + search.count])
        else:  # JSON-held facts: filtered here, over one person's documents already narrowed in SQL
            matching = [d for d in documents if all(check(d) for check in checks)]
            total, page = len(matching), matching[search.offset:search.offset + search.count]
        return total, [mapping.document_reference(d) for d in page]

    def _filters(self, search: Search) -> Q:
        def each(name: str, build) -> Q:
            return and_or([[build(t) for t in alternatives] for alternatives in search.tokens(name)])

        return (
            id_filter(search) & date_filter(search, "_lastUpdated", "updated_at")
            & date_filter(search, "date", "created_at") & date_filter(search, "period", "act_date")
            & each("type", lambda t: token_q(t, "type_system", "type_code"))
            & each("category", self._category)
            & each("status", _status_q)
            & each("setting", lambda t: _codes_in("setting", t, terminology.practice_settings,
                                                  "practice_setting_code"))
            & each("facility", lambda t: _codes_in("facility", t, terminology.facility_types, "facility_type_code"))
            & each("format", _format_q)
            & each("identifier", _identifier_q)
        )

    @staticmethod
    def _checks(search: Search) -> list:
        """One predicate per occurrence (AND) of the parameters answered in Python, each an OR of its values."""
        checks = []
        for alternatives in search.tokens("security-label"):
            wanted = [_security_check(t) for t in alternatives]
            checks.append(lambda d, wanted=wanted: any(
                t.code == code and _same_system(t, system) for t in wanted for system, code in mapping.label_codes(d)))
        for alternatives in search.tokens("event"):
            checks.append(lambda d, wanted=alternatives: any(
                isinstance(e, dict) and (not t.code or t.code == e.get("code"))
                and _same_system(t, str(e.get("system") or "")) for t in wanted for e in d.event_codes or []))
        for alternatives in search.tokens("related"):
            checks.append(lambda d, wanted=alternatives: any(
                (not t.code or t.code == value) and (t.system is None or t.system == system)
                for t in wanted for system, value in mapping.related_identifiers(d)))
        for name, part in (("author.given", "given"), ("author.family", "family")):
            for value in search.params.get(name, []):
                checks.append(functools.partial(_author_matches, split_or(value), part))
        return checks

    @staticmethod
    def _category(token: Token) -> Q:
        if token.system and mapping.system_oid(token.system) == mapping.system_oid(mapping.CLASS_SYSTEM):
            return Q(class_code=token.code) if token.code else ~Q(class_code="")
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
    from .lists import ListHandler
    from .profile import profile_handlers

    found: dict[str, Handler] = {h.type: h for h in (PatientHandler(), DocumentReferenceHandler(), BinaryHandler())}
    found.update(profile_handlers())
    found["List"] = ListHandler()  # ITI-66, carnet/fhir/lists.py
    return found
