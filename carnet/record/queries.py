"""The documents list with its filters, shared by the portal, the patient API and FHIR search."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from carnet.sharing.policy import Role

from .visibility import visible_documents

ORDERINGS = {
    "recent": ["-created_at", "-id"],
    "oldest": ["created_at", "id"],
    "title": ["title", "-id"],
    "-title": ["-title", "-id"],
    "act": ["-act_date", "-id"],
}


@dataclass
class DocumentFilters:
    q: str = ""
    category: str = ""
    type: str = ""
    source: str = ""
    author: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    folder: str = ""  # a folder uuid
    sort: str = "recent"
    pinned: bool = False  # only those the reader pinned


def search_documents(person, role: Role, filters: DocumentFilters, *, reader=None):
    """`reader` (who is looking) is needed for their own marks: the pinned filter."""
    documents = visible_documents(person, role)
    if filters.pinned and reader is not None:
        documents = documents.filter(marks__person=person, marks__reader=reader, marks__pinned=True)
    if filters.q:
        documents = documents.filter(title__icontains=filters.q)
    if filters.category:
        documents = documents.filter(category=filters.category)
    if filters.type:
        documents = documents.filter(type_code=filters.type)
    if filters.source:
        documents = documents.filter(source=filters.source)
    if filters.author:
        documents = documents.filter(author_label__icontains=filters.author)
    day = Q(act_date__isnull=True)
    if filters.date_from:
        documents = documents.filter(Q(act_date__date__gte=filters.date_from) | (day & Q(
            created_at__date__gte=filters.date_from)))
    if filters.date_to:
        documents = documents.filter(Q(act_date__date__lte=filters.date_to) | (day & Q(
            created_at__date__lte=filters.date_to)))
    if filters.folder:
        documents = documents.filter(folder__uuid=filters.folder)
    return documents.order_by(*ORDERINGS.get(filters.sort or "recent", ORDERINGS["recent"]))


def types_present(person, role: Role) -> list[tuple[str, str]]:
    """The document types this person has, for the type filter."""
    from carnet.interop import terminology

    codes = visible_documents(person, role).order_by().values_list("type_code", flat=True).distinct()
    labelled = []
    for code in codes:
        known = terminology.document_type(code)
        labelled.append((code, str(known.label) if known else code))
    return sorted(labelled, key=lambda pair: pair[1])
