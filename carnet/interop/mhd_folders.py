"""XDS Folders in an ITI-65 Provide Document Bundle (IHE MHD Folder List, PDSm_FolderComprehensive), read into
plain facts before anything is stored. Pure code, like `interop.mhd`, which calls it for a List coded `folder`.

MHD lets a bundle create a folder (POST) or add documents to an existing one (PUT, or a POST naming a uniqueId
already filed: both add, so a re-sent bundle changes nothing). Rules checked here: status `current`, a uniqueId
(identifier with use `usual`, else the first not `official`), the patient (same as the submission set's, checked
by `mhd.parse_transaction`), designationType codes with a system and a code (the XDS codeList; no French value
set is imposed by PDSm), and entries that are DocumentReferences of the bundle or `DocumentReference/<id>` of
the server (resolved, and checked against the space, when stored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from .mhd import (
    MAX_ID,
    DocumentInfo,
    MhdError,
    PatientRef,
    Resolver,
    _date,
    _list,
    _obj,
    _str,
    list_unique_id,
    patient_ref,
)

DESIGNATION_TYPE = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType"
SERVER_DOCUMENT = re.compile(r"(?:^|/)DocumentReference/([0-9a-fA-F-]{32,36})$")


@dataclass
class FolderInfo:
    """A Folder List: uniqueId, title, codes, patient, and its entries (bundle documents by index, server
    documents by id)."""

    full_url: str
    unique_id: str
    title: str
    date: str
    patient: PatientRef
    codes: list[dict[str, str]]
    references: list[tuple[str, str]]  # (where, reference) as received
    update: bool  # sent with PUT: the folder must already exist
    metadata: dict[str, Any]
    documents: list[int] = field(default_factory=list)  # indexes in Submission.documents
    stored_ids: list[str] = field(default_factory=list)  # DocumentReference ids already on the server


def folder_info(resource: dict[str, Any], where: str, resolver: Resolver, full_url: str, method: str) -> FolderInfo:
    """Check a Folder List; its entries are linked to the bundle's documents by `link`."""
    resolver = resolver.within(resource)
    if resource.get("status") != "current":
        raise MhdError(_("Un classeur a le statut « current »."), expression=f"{where}.status", code="value")
    unique_id = list_unique_id(resource, where)
    if not unique_id or len(unique_id) > MAX_ID:
        raise MhdError(_("Identifiant unique du classeur (identifier uniqueId) obligatoire."),
                       expression=f"{where}.identifier", code="required", reason="folder_unique_id")
    if "subject" not in resource:
        raise MhdError(_("Patient (subject) du classeur obligatoire."), expression=f"{where}.subject",
                       code="required")
    patient = patient_ref(resource["subject"], f"{where}.subject", resolver)
    codes = []
    for i, ext in enumerate(_list(resource.get("extension"), f"{where}.extension")):
        if not isinstance(ext, dict) or not str(ext.get("url", "")).endswith("designationType"):
            continue
        concept = _obj(ext.get("valueCodeableConcept"), f"{where}.extension[{i}].valueCodeableConcept")
        for j, coding in enumerate(_list(concept.get("coding"), f"{where}.extension[{i}].valueCodeableConcept")):
            coding = _obj(coding, f"{where}.extension[{i}].valueCodeableConcept.coding[{j}]")
            system, code = coding.get("system"), coding.get("code")
            if not (isinstance(system, str) and system and isinstance(code, str) and code) \
                    or len(system) > 200 or len(code) > 64:
                raise MhdError(_("Code du classeur (designationType) : système et code obligatoires."),
                               expression=f"{where}.extension[{i}].valueCodeableConcept.coding[{j}]",
                               code="required", reason="folder_code")
            display = coding.get("display")
            codes.append({"system": system, "code": code, "display": display[:200] if isinstance(display, str) else ""})
    references = []
    for i, entry in enumerate(_list(resource.get("entry"), f"{where}.entry")):
        item = _obj(_obj(entry, f"{where}.entry[{i}]").get("item"), f"{where}.entry[{i}].item")
        reference = item.get("reference")
        if not isinstance(reference, str) or not reference:
            raise MhdError(_("Entrée de classeur sans référence."), expression=f"{where}.entry[{i}].item",
                           code="required", reason="folder_entry")
        references.append((f"{where}.entry[{i}].item", reference))
    metadata = {k: v for k, v in resource.items() if k not in ("entry", "id", "meta", "text")}
    return FolderInfo(full_url, unique_id, _str(resource, "title", f"{where}.title", required=False, limit=255),
                      _date(resource, "date", f"{where}.date", required=False), patient, codes, references,
                      method == "PUT", metadata)


def link(folders: list[FolderInfo], documents: list[DocumentInfo], resources: dict[str, dict[str, Any]]) -> None:
    """Point each folder entry at a document of the bundle, or at a server document id; anything else (another
    resource of the bundle, an unknown fullUrl) is refused. Two folders with one uniqueId are refused too."""
    by_resource = {id(resources[d.full_url]): j for j, d in enumerate(documents) if d.full_url in resources}
    if len({f.unique_id for f in folders}) != len(folders):
        raise MhdError(_("Deux classeurs du lot ont le même identifiant unique."), code="duplicate",
                       expression="List.identifier", reason="duplicate_unique_id")
    for folder in folders:
        for where, reference in folder.references:
            target = resources.get(reference)
            if target is not None:
                if id(target) not in by_resource:
                    raise MhdError(_("Une entrée de classeur doit désigner un document (DocumentReference)."),
                                   expression=where, code="business-rule", reason="folder_entry")
                if by_resource[id(target)] not in folder.documents:
                    folder.documents.append(by_resource[id(target)])
                continue
            server = SERVER_DOCUMENT.search(reference)
            if server is None:
                raise MhdError(_("Entrée de classeur introuvable dans le lot."), expression=where,
                               code="not-found", reason="folder_entry_not_found")
            if server.group(1) not in folder.stored_ids:
                folder.stored_ids.append(server.group(1))
