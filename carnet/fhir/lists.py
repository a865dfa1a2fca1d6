"""ITI-66 Find Lists: the SubmissionSets and XDS Folders filed through ITI-65, as FHIR Lists (IHE MHD / PDSm).

A List is shown with the documents of it the caller may read, and only if there is at least one: a professional
sees the submission sets and folders of documents the policy lets them read (`documents_for_professional`, the
same rules as a DocumentReference search), a holder or representative those of the documents visible to them. A
search is one access event on the space, like a DocumentReference search. Folders (`code=folder`,
`record.XdsFolder`) grow across submissions; their `date` is their last update, and `designationType` searches
their codes. Both kinds are paged together, newest first.
"""

from typing import Any

from django.db.models import F, Q, QuerySet, Value
from django.utils.translation import gettext as _

from carnet.identity.models import Person
from carnet.interop.mhd import IS_ARCHIVED, MHD_LIST_TYPES, SOURCE_ID
from carnet.interop.mhd_folders import DESIGNATION_TYPE
from carnet.record.models import Document, SubmissionSet, XdsFolder
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


def folder_resource(folder: XdsFolder, person: Person, documents: list[Document]) -> dict[str, Any]:
    """An XDS Folder as an MHD Folder List: uniqueId, title, codes (designationType), last update, and its
    readable documents."""
    resource: dict[str, Any] = {
        "resourceType": "List",
        "id": str(folder.uuid),
        "meta": mapping.meta(folder.updated_at, folder.version),
        "identifier": [_identifier(folder.unique_id)],
        "status": folder.status,
        "mode": "working",
        "code": {"coding": [mapping.coding(MHD_LIST_TYPES, "folder", "Folder")]},
        "subject": {"reference": f"Patient/{person.uuid}"},
        "date": instant(folder.updated_at),
        "entry": [{"item": {"reference": f"DocumentReference/{d.uuid}"}} for d in documents],
    }
    if folder.codes:
        resource["extension"] = [{"url": DESIGNATION_TYPE, "valueCodeableConcept": {"coding": [
            mapping.coding(c["system"], c["code"], c.get("display"))]}} for c in folder.codes]
    if folder.title:
        resource["title"] = folder.title
    return resource


def _asks_for(search: Search, kind: str) -> bool:
    """Whether the `code` parameters (AND of ORs) let this kind of List through."""
    return all(any(t.matches(MHD_LIST_TYPES, kind) for t in alternatives) for alternatives in search.tokens("code"))


def _folder_documents(visible: QuerySet[Document], folder_ids: list[int]) -> dict[int, list[Document]]:
    through = XdsFolder.documents.through
    out: dict[int, list[Document]] = {}
    for link in through.objects.filter(xdsfolder_id__in=folder_ids, document__in=visible).select_related(
            "document").order_by("document_id"):
        out.setdefault(link.xdsfolder_id, []).append(link.document)
    return out


class ListHandler(Handler):
    """SubmissionSets and Folders (IHE MHD ITI-66)."""

    type = "List"
    params = {
        "patient": PATIENT, "_id": ID,
        "patient.identifier": DocumentReferenceHandler.params["patient.identifier"],
        "code": Param("token", f"{MHD_LIST_TYPES}|submissionset ou {MHD_LIST_TYPES}|folder (classeurs).",
                      "http://hl7.org/fhir/SearchParameter/List-code"),
        "status": Param("token", "current (les lots et classeurs sont courants).",
                        "http://hl7.org/fhir/SearchParameter/List-status"),
        "date": Param("date", "Date de soumission du lot, ou de dernière mise à jour du classeur, avec préfixe.",
                      "http://hl7.org/fhir/SearchParameter/clinical-date"),
        "identifier": Param("token", "Identifiant unique du lot ou du classeur (uniqueId) : [système|]valeur.",
                            "http://hl7.org/fhir/SearchParameter/clinical-identifier"),
        "sourceId": Param("token", "Identifiant du système source du lot (extension ihe-sourceId).",
                          "https://profiles.ihe.net/ITI/MHD/SearchParameter/List-SourceId"),
        "designationType": Param("token", "Code du classeur (extension ihe-designationType) : [système|]code.",
                                 "https://profiles.ihe.net/ITI/MHD/SearchParameter/List-DesignationType"),
    }
    documentation = _("Lots de soumission (SubmissionSet) et classeurs (Folder) IHE MHD / PDSm déposés par ITI-65 ; "
                      "seuls sont listés ceux dont le demandeur peut lire au moins un document, avec ces seuls "
                      "documents.")

    def read(self, ctx: Context, resource_id: str) -> dict[str, Any]:
        wanted = parse_uuid(resource_id)
        found: SubmissionSet | XdsFolder | None = None
        if wanted:
            found = SubmissionSet.objects.filter(uuid=wanted).first() or XdsFolder.objects.filter(uuid=wanted).first()
        if found is None:
            raise not_found()
        person = Person.objects.get(pk=found.person_id)
        decision = authorise(ctx.actor, Action.READ_RECORD, person, subject=f"list:{found.uuid}")
        visible = _visible(ctx, person, decision)
        if isinstance(found, XdsFolder):
            documents = _folder_documents(visible, [found.pk]).get(found.pk, [])
            if not documents:
                raise not_found()
            return folder_resource(found, person, documents)
        documents = list(visible.filter(submission_set=found).order_by("id"))
        if not documents:
            raise not_found()
        return list_resource(found, person, documents)

    def search(self, ctx: Context, search: Search) -> tuple[int, list[dict[str, Any]]]:
        person, decision = document_space(ctx, search)  # `patient` or `patient.identifier` (INS)
        visible = _visible(ctx, person, decision)
        every, nothing = Q(pk__isnull=False), Q(pk__in=[])  # (an empty Q() would vanish inside an OR)
        status = and_or([[every if t.code == "current" else nothing for t in alternatives]
                         for alternatives in search.tokens("status")])
        identifier = and_or([[Q(unique_id=t.code.removeprefix("urn:oid:")) for t in alternatives]
                             for alternatives in search.tokens("identifier")])
        sets = SubmissionSet.objects.none()
        if _asks_for(search, "submissionset") and not search.tokens("designationType"):
            sets = SubmissionSet.objects.filter(person=person, pk__in=visible.filter(
                submission_set__isnull=False).values("submission_set_id"))
            sets = sets.filter(id_filter(search) & date_filter(search, "date", "submitted_at") & status & identifier)
            sets = sets.filter(and_or([[Q(source_id=t.code) for t in alternatives]
                                       for alternatives in search.tokens("sourceId")]))
        folders = XdsFolder.objects.none()
        if _asks_for(search, "folder") and not search.tokens("sourceId"):
            folders = XdsFolder.objects.filter(person=person, pk__in=XdsFolder.documents.through.objects.filter(
                document__in=visible).values("xdsfolder_id"))
            folders = folders.filter(id_filter(search) & date_filter(search, "date", "updated_at") & identifier
                                     & and_or([[Q(status=t.code) for t in alternatives]
                                               for alternatives in search.tokens("status")]))
            folders = folders.filter(and_or([[Q(codes__contains=[{k: v for k, v in (("system", t.system),
                                                                                    ("code", t.code)) if v}])
                                              for t in alternatives]
                                             for alternatives in search.tokens("designationType")]))
        total = sets.count() + folders.count()
        rows = sets.annotate(kind=Value(0), at=F("submitted_at")).values_list("pk", "kind", "at").union(
            folders.annotate(kind=Value(1), at=F("updated_at")).values_list("pk", "kind", "at"), all=True)
        page = list(rows.order_by("-at", "-kind", "-pk")[search.offset:search.offset + search.count])
        set_rows = SubmissionSet.objects.in_bulk([pk for pk, kind, _at in page if kind == 0])
        folder_rows = XdsFolder.objects.in_bulk([pk for pk, kind, _at in page if kind == 1])
        documents: dict[int, list[Document]] = {}
        for document in visible.filter(submission_set__in=list(set_rows)).order_by("id"):
            documents.setdefault(document.submission_set_id, []).append(document)  # type: ignore[arg-type]
        in_folders = _folder_documents(visible, list(folder_rows)) if folder_rows else {}
        return total, [list_resource(set_rows[pk], person, documents.get(pk, [])) if kind == 0
                       else folder_resource(folder_rows[pk], person, in_folders.get(pk, []))
                       for pk, kind, _at in page]
