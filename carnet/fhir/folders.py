"""Storing the XDS Folders of an ITI-65 submission (`record.XdsFolder`), called by `publish.provide`.

`prepare` runs before the write transaction, so that a refusal stays recorded: a folder entry naming a document
already on the server must name one of this space that the sender may read (`documents_for_professional`, the
policy's own rule), else the submission is refused as "entry not found" (the same answer for another patient's
document and for one that does not exist) and the refusal is an access event. `store` runs inside the
submission's transaction: a folder is created, or an existing one (same uniqueId in this space) gets the new
documents; adding is a set union, so a re-sent bundle changes nothing. A replacing document joins the folders of
the document it replaces (XDS rule). The folder's own metadata (title, codes) is kept as first filed.
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from carnet.identity.models import Person
from carnet.interop.mhd import MhdError, Submission
from carnet.record.models import Document, XdsFolder
from carnet.record.visibility import documents_for_professional
from carnet.sharing.events import record
from carnet.sharing.models import Professional
from carnet.sharing.policy import Role

from .params import parse_uuid

FOLDER_ADD = "folder.add"


def _entry_not_found() -> MhdError:
    return MhdError(_("Entrée de classeur introuvable dans l'espace de ce patient."), expression="List.entry",
                    code="not-found", reason="folder_entry_not_found")


def _folder_not_found() -> MhdError:
    return MhdError(_("Classeur à mettre à jour introuvable dans l'espace de ce patient."),
                    expression="List.identifier", code="not-found", reason="folder_not_found")


def prepare(actor: Professional, person: Person, submission: Submission) -> dict[str, list[Document]]:
    """Per folder uniqueId, the server documents its entries name, checked; refusals are recorded."""
    found: dict[str, list[Document]] = {}
    for folder in submission.folders:
        if folder.update and not XdsFolder.objects.filter(person=person, unique_id=folder.unique_id).exists():
            raise _folder_not_found()
        wanted = [parse_uuid(i) for i in folder.stored_ids]
        documents = list(documents_for_professional(actor, person).filter(
            uuid__in=[w for w in wanted if w])) if wanted else []
        if len(documents) != len(wanted):
            record(person, actor=actor, role=Role.PROFESSIONAL, action=FOLDER_ADD, allowed=False,
                   reason="folder_entry_not_found")
            raise _entry_not_found()
        found[folder.unique_id] = documents
    return found


def store(actor: Professional, person: Person, submission: Submission, documents: list[Document],
          prepared: dict[str, list[Document]]) -> list[XdsFolder]:
    """Create or grow the submission's folders; inside the caller's transaction (any refusal undoes it all)."""
    now = timezone.now()
    stored = []
    for folder in submission.folders:
        members = [documents[j] for j in folder.documents] + prepared.get(folder.unique_id, [])
        existing = XdsFolder.objects.select_for_update().filter(person=person, unique_id=folder.unique_id).first()
        created = False
        if existing is None:
            if folder.update:
                raise _folder_not_found()
            try:
                with transaction.atomic():  # a savepoint: a concurrent creation is then read, not an error
                    existing = XdsFolder.objects.create(
                        person=person, unique_id=folder.unique_id, title=folder.title, codes=folder.codes,
                        author_identifier=actor.rpps, created_at=now, updated_at=now, metadata=folder.metadata)
                created = True
            except IntegrityError:
                existing = XdsFolder.objects.select_for_update().get(person=person, unique_id=folder.unique_id)
        present = set(existing.documents.values_list("pk", flat=True)) if not created else set()
        new = {d.pk: d for d in members if d.pk not in present}
        if new:
            existing.documents.add(*new.values())
            if not created:
                existing.updated_at, existing.version = now, existing.version + 1
                existing.save(update_fields=["updated_at", "version"])
        stored.append(existing)
    follow_replacements(documents, now)
    return stored


def follow_replacements(documents: list[Document], now: dt.datetime) -> None:
    """A new version joins every folder of the version it replaces."""
    replacing = {d.replaces_id: d for d in documents if d.replaces_id}
    if not replacing:
        return
    through = XdsFolder.documents.through
    for link in through.objects.filter(document_id__in=list(replacing)).select_related("xdsfolder"):
        folder, document = link.xdsfolder, replacing[link.document_id]
        _row, added = through.objects.get_or_create(xdsfolder_id=folder.pk, document_id=document.pk)
        if added:
            XdsFolder.objects.filter(pk=folder.pk).update(updated_at=now, version=F("version") + 1)


def response_of(person_id: int, unique_id: str) -> XdsFolder:
    """The stored folder a transaction-response entry points at."""
    return XdsFolder.objects.get(person_id=person_id, unique_id=unique_id)
