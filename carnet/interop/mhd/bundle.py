"""The requests themselves: an ITI-65 transaction Bundle (one SubmissionSet, DocumentReferences, Binaries, XDS
Folders) and an ITI-105 Simplified Publish DocumentReference."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from .documents import _decode, document_info
from .model import MAX_ID, MHD_LIST_TYPES, SOURCE_ID, DocumentInfo, MhdError, PatientRef, Submission, SubmissionInfo
from .readers import _codings, _date, _extension, _list, _obj, _str, list_unique_id
from .references import Resolver, author_info, patient_ref

if TYPE_CHECKING:
    from ..mhd_folders import FolderInfo


def _submission_set(resource: dict[str, Any], where: str, resolver: Resolver, full_url: str) -> SubmissionInfo:
    resolver = resolver.within(resource)
    if resource.get("status") != "current":
        raise MhdError(_("Un lot de soumission a le statut « current »."), expression=f"{where}.status",
                       code="value")
    unique_id = list_unique_id(resource, where)
    if not unique_id or len(unique_id) > MAX_ID:
        raise MhdError(_("Identifiant unique du lot de soumission (identifier uniqueId) obligatoire."),
                       expression=f"{where}.identifier", code="required")
    if "subject" not in resource:
        raise MhdError(_("Patient (subject) du lot obligatoire."), expression=f"{where}.subject", code="required")
    patient = patient_ref(resource["subject"], f"{where}.subject", resolver)
    source_ext = _extension(resource, SOURCE_ID) or next(
        (e for e in resource.get("extension") or [] if isinstance(e, dict)
         and str(e.get("url", "")).endswith("sourceId")), None)
    source_id = ""
    if source_ext and isinstance(source_ext.get("valueIdentifier"), dict):
        source_id = str(source_ext["valueIdentifier"].get("value") or "")[:128]
    author_rpps = ""
    if isinstance(resource.get("source"), dict):
        try:
            author_rpps = author_info(resource["source"], f"{where}.source", resolver).rpps
        except MhdError:
            author_rpps = ""
    metadata = {k: v for k, v in resource.items() if k not in ("entry", "id", "meta", "text")}
    return SubmissionInfo(full_url, unique_id, source_id, _str(resource, "title", f"{where}.title", required=False,
                                                               limit=255),
                          _date(resource, "date", f"{where}.date", required=False), patient, author_rpps, metadata)


def _is_kind(resource: dict[str, Any], kind: str) -> bool:
    return any(system == MHD_LIST_TYPES and code == kind
               for system, code, _d in _codings(resource.get("code") or {"coding": []}, "List.code")) \
        if resource.get("code") else False


def parse_transaction(bundle: Any) -> Submission:
    """Check an ITI-65 Provide Document Bundle and return its facts, or raise `MhdError`."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise MhdError(_("Une ressource Bundle est attendue."), expression="Bundle", code="structure", status=400)
    if bundle.get("type") != "transaction":
        raise MhdError(_("Le Bundle doit être de type « transaction »."), expression="Bundle.type", code="value",
                       status=400)
    entries = _list(bundle.get("entry"), "Bundle.entry")
    resources: dict[str, dict[str, Any]] = {}
    typed: list[tuple[str, str, dict[str, Any], str]] = []  # (type, fullUrl, resource, where)
    puts: set[str] = set()  # fullUrls of Folder Lists sent with PUT (an update)
    for i, entry in enumerate(entries):
        where = f"Bundle.entry[{i}]"
        entry = _obj(entry, where)
        resource = _obj(entry.get("resource"), f"{where}.resource")
        kind = resource.get("resourceType")
        if kind not in ("List", "DocumentReference", "Binary"):
            raise MhdError(_("Ressource non prise en charge dans un lot (List, DocumentReference, Binary)."),
                           expression=f"{where}.resource", code="not-supported")
        request = _obj(entry.get("request"), f"{where}.request")
        if request.get("method") != "POST" and not (request.get("method") == "PUT" and kind == "List"
                                                    and _is_kind(resource, "folder")):  # MHD: a Folder may be updated
            raise MhdError(_("Chaque entrée est une création (request.method = POST)."),
                           expression=f"{where}.request.method", code="not-supported")
        full_url = _str(entry, "fullUrl", f"{where}.fullUrl", limit=300)
        if request.get("method") == "PUT":
            puts.add(full_url)
        if full_url in resources:
            raise MhdError(_("fullUrl en double dans le lot."), expression=f"{where}.fullUrl", code="duplicate",
                           status=400)
        resources[full_url] = resource
        if isinstance(resource.get("id"), str):
            resources.setdefault(f"{kind}/{resource['id']}", resource)
        typed.append((kind, full_url, resource, where))
    resolver = Resolver(resources)
    binaries: dict[str, bytes] = {}
    aliases: dict[str, str] = {}  # what a document may point at -> the Binary entry's fullUrl
    for kind, full_url, resource, where in typed:
        if kind == "Binary":
            binaries[full_url] = _decode(resource.get("data"), f"{where}.resource.data")
            aliases[full_url] = full_url
            if isinstance(resource.get("id"), str):
                binaries.setdefault(f"Binary/{resource['id']}", binaries[full_url])
                aliases.setdefault(f"Binary/{resource['id']}", full_url)
    submission_sets: list[SubmissionInfo] = []
    folders: list[FolderInfo] = []
    documents: list[DocumentInfo] = []
    order: list[tuple[str, int]] = []
    used: set[str] = set()
    for kind, full_url, resource, where in typed:
        if kind == "List":
            if _is_kind(resource, "folder"):
                from ..mhd_folders import folder_info

                order.append(("Folder", len(folders)))
                folders.append(folder_info(resource, f"{where}.resource", resolver, full_url,
                                           "PUT" if full_url in puts else "POST"))
                continue
            if not _is_kind(resource, "submissionset"):
                raise MhdError(_("Une List doit être un lot de soumission (code submissionset)."),
                               expression=f"{where}.resource.code", code="code-invalid")
            order.append(("List", len(submission_sets)))
            submission_sets.append(_submission_set(resource, f"{where}.resource", resolver, full_url))
        elif kind == "DocumentReference":
            order.append(("DocumentReference", len(documents)))
            info = document_info(resource, f"{where}.resource", resolver, binaries=binaries, full_url=full_url)
            info.binary_full_url = aliases[info.binary_full_url]
            if info.binary_full_url in used:
                raise MhdError(_("Deux documents désignent la même ressource Binary."), code="business-rule",
                               expression=f"{where}.resource.content[0].attachment.url")
            used.add(info.binary_full_url)
            documents.append(info)
        else:
            order.append(("Binary", -1))
    if len(submission_sets) != 1:
        raise MhdError(_("Le lot doit contenir exactement un lot de soumission (List submissionset)."),
                       expression="Bundle.entry", code="required")
    if not documents:
        raise MhdError(_("Le lot ne contient aucun document."), expression="Bundle.entry", code="required")
    if any(kind == "Binary" and url not in used for kind, url, _r, _w in typed):
        raise MhdError(_("Une ressource Binary n'est référencée par aucun document."), expression="Bundle.entry",
                       code="business-rule")
    ids = [d.unique_id for d in documents]
    if len(set(ids)) != len(ids):
        raise MhdError(_("Deux documents du lot ont le même identifiant unique."), code="duplicate",
                       expression="DocumentReference.masterIdentifier")
    patient = submission_sets[0].patient
    for document in documents:
        if not _same_patient(patient, document.patient):
            raise MhdError(_("Les documents et le lot de soumission doivent concerner le même patient."),
                           expression="DocumentReference.subject", code="business-rule", reason="patient_mismatch")
    if folders:
        from ..mhd_folders import link

        for folder in folders:
            if not _same_patient(patient, folder.patient):
                raise MhdError(_("Les classeurs et le lot de soumission doivent concerner le même patient."),
                               expression="List.subject", code="business-rule", reason="patient_mismatch")
        link(folders, documents, resources)
    submission = Submission(submission_sets[0], documents, order, patient, folders)
    owner = {d.binary_full_url: j for j, d in enumerate(documents)}
    binary_urls = iter([u for k, u, _r, _w in typed if k == "Binary"])
    for position, (kind, _index) in enumerate(order):
        if kind == "Binary":
            order[position] = ("Binary", owner[next(binary_urls)])
    return submission


def _same_patient(a: PatientRef, b: PatientRef) -> bool:
    """Named the same way and the same (an INS, or one of our Patient ids): the bundle must not mix patients."""
    return a.key() == b.key()


def parse_simplified(resource: Any) -> DocumentInfo:
    """Check an ITI-105 Simplified Publish DocumentReference (the document inline)."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "DocumentReference":
        raise MhdError(_("Une ressource DocumentReference est attendue."), expression="DocumentReference",
                       code="structure", status=400)
    return document_info(resource, "DocumentReference", Resolver({}), binaries=None)
