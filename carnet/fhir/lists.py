"""ITI-66 Find Lists: the SubmissionSets filed through ITI-65, as FHIR Lists (IHE MHD / PDSm).

A List is shown with the documents of it the caller may read, and only if there is at least one: a professional
sees the submission sets of documents the policy lets them read (`documents_for_professional`, the same rules as a
DocumentReference search), a holder or representative those of the documents visible to them. A search is one
access event on the space, like a DocumentReference search. Folders are not stored (ITI-65 refuses them), so a
search for `code=folder` is empty.
"""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from carnet.identity.models import Person
from carnet.interop.mhd import IS_ARCHIVED, MHD_LIST_TYPES, SOURCE_ID
from carnet.record.models import Document, SubmissionSet
from carnet.record.visibility import documents_for_professional, visible_documents
from carnet.sharing.events import authorise
from carnet.sharing.policy import Action, Decision

from . import mapping
from .http import not_found
from .params import Search, instant, parse_uuid
from .resources import (
    ID,
    PATIENT,
    Context,
    DocumentReferenceHandler,
    Handler,
    Param,
    and_or,
    date_filter,
    document_space,
    id_filter,
)


def _visible(ctx: Context, person: Person, decision: Decision) -> QuerySet[Document]:
    if ctx.professional is not None:
        return documents_for_professional(ctx.professional, person)
    return visible_documents(person, decision.role, include_history=True)


def _identifier(unique_id: str) -> dict[str, str]:
    value = f"urn:oid:{unique_id}" if mapping.OID.match(unique_id) else unique_id
    return {"use": "usual", "system": "urn:ietf:rfc:3986", "value": value}


def list_resource(submission_set: SubmissionSet, person: Person, documents: list[Document]) -> dict[str, Any]:
    """A SubmissionSet as a PDSm List: uniqueId, source id, title, date, and its readable documents."""
    extensions: list[dict[str, Any]] = [{"url": IS_ARCHIVED, "valueBoolean": False}]
    if submission_set.source_id:
        extensions.append({"url": SOURCE_ID, "valueIdentifier": {"value": submission_set.source_id}})
    resource: dict[str, Any] = {
        "resourceType": "List",
        "id": str(submission_set.uuid),
        "meta": mapping.meta(submission_set.submitted_at, 1),
        "extension": extensions,
        "identifier": [_identifier(submission_set.unique_id)],
        "status": "current",
        "mode": "working",
        "code": {"coding": [mapping.coding(MHD_LIST_TYPES, "submissionset", "Submission Set")]},
        "subject": {"reference": f"Patient/{person.uuid}"},
        "date": instant(submission_set.submitted_at),
        "entry": [{"item": {"reference": f"DocumentReference/{d.uuid}"}} for d in documents],
    }
    if submission_set.title:
        resource["title"] = submission_set.title
    return resource


class ListHandler(Handler):
    """SubmissionSets (IHE MHD ITI-66)."""

    type = "List"
    params = {
        "patient": PATIENT, "_id": ID,
        "patient.identifier": DocumentReferenceHandler.params["patient.identifier"],
        "code": Param("token", f"{MHD_LIST_TYPES}|submissionset (les classeurs, folder, ne sont pas stockés).",
                      "http://hl7.org/fhir/SearchParameter/List-code"),
        "status": Param("token", "current (les lots sont toujours courants).",
                        "http://hl7.org/fhir/SearchParameter/List-status"),
        "date": Param("date", "Date de soumission du lot, avec préfixe.",
                      "http://hl7.org/fhir/SearchParameter/clinical-date"),
        "identifier": Param("token", "Identifiant unique du lot (uniqueId) : [système|]valeur.",
                            "http://hl7.org/fhir/SearchParameter/clinical-identifier"),
        "sourceId": Param("token", "Identifiant du système source du lot (extension ihe-sourceId).",
                          "https://profiles.ihe.net/ITI/MHD/SearchParameter/List-SourceId"),
    }
    documentation = _("Lots de soumission (SubmissionSet IHE MHD / PDSm) déposés par ITI-65 ; seuls sont listés les "
                      "lots dont le demandeur peut lire au moins un document, avec ces seuls documents.")

    def read(self, ctx: Context, resource_id: str) -> dict[str, Any]:
        wanted = parse_uuid(resource_id)
        found = SubmissionSet.objects.filter(uuid=wanted).first() if wanted else None
        if found is None:
            raise not_found()
        person = Person.objects.get(pk=found.person_id)
        decision = authorise(ctx.actor, Action.READ_RECORD, person, subject=f"list:{found.uuid}")
        documents = list(_visible(ctx, person, decision).filter(submission_set=found).order_by("id"))
        if not documents:
            raise not_found()
        return list_resource(found, person, documents)

    def search(self, ctx: Context, search: Search) -> tuple[int, list[dict[str, Any]]]:
        person, decision = document_space(ctx, search)  # `patient` or `patient.identifier` (INS)
        visible = _visible(ctx, person, decision)
        sets = SubmissionSet.objects.filter(person=person, pk__in=visible.filter(
            submission_set__isnull=False).values("submission_set_id"))
        sets = sets.filter(id_filter(search) & date_filter(search, "date", "submitted_at"))
        every, nothing = Q(pk__isnull=False), Q(pk__in=[])  # (an empty Q() would vanish inside an OR)
        sets = sets.filter(and_or([[every if t.matches(MHD_LIST_TYPES, "submissionset") else nothing
                                    for t in alternatives] for alternatives in search.tokens("code")]))
        sets = sets.filter(and_or([[every if t.code == "current" else nothing for t in alternatives]
                                   for alternatives in search.tokens("status")]))
        sets = sets.filter(and_or([[Q(unique_id=t.code.removeprefix("urn:oid:")) for t in alternatives]
                                   for alternatives in search.tokens("identifier")]))
        sets = sets.filter(and_or([[Q(source_id=t.code) for t in alternatives]
                                   for alternatives in search.tokens("sourceId")]))
        total = sets.count()
        page = list(sets.order_by("-submitted_at", "-id")[search.offset:search.offset + search.count])
        documents: dict[int, list[Document]] = {}
        for document in visible.filter(submission_set__in=[s.pk for s in page]).order_by("id"):
            documents.setdefault(document.submission_set_id, []).append(document)  # type: ignore[arg-type]
        return total, [list_resource(s, person, documents.get(s.pk, [])) for s in page]
