"""The FHIR R4 Bundle (type ``collection``) of one space, written incrementally: Patient, every exported
document as DocumentReference + Binary (base64 encoded on the fly from the vault stream), the submission sets and
folders as List (IHE MHD: SubmissionSet and Folder Lists, the holder's own folders as Folder Lists too), the medical
profile, the messages as Communication and the access history as AuditEvent.

Resources come from the modules that already speak FHIR (``fhir.mapping`` for Patient and DocumentReference,
``sharing.audit`` for AuditEvent, the medical app's stored resources as ``fhir.profile`` serves them); only the
streaming Binary is written here, since ``mapping.binary`` wants the whole content in memory.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from itertools import groupby
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.utils import timezone

from carnet.fhir import mapping
from carnet.fhir.lists import folder_resource, list_resource
from carnet.fhir.params import instant
from carnet.identity.models import Person
from carnet.interop.mhd import MHD_LIST_TYPES
from carnet.interop.mhd_folders import DESIGNATION_TYPE
from carnet.record.models import Folder, SubmissionSet, XdsFolder
from carnet.sharing.audit import audit_event_resource
from carnet.sharing.models import AccessEvent
from carnet.vault import services as vault

from .labels import action_label, role_label, who


def _full_url(resource_type: str, resource_id: str) -> str:
    return f"{settings.CARNET_PUBLIC_URL.rstrip('/')}/fhir/{resource_type}/{resource_id}"


def _entry(resource: dict[str, Any]) -> bytes:
    return json.dumps({"fullUrl": _full_url(resource["resourceType"], resource["id"]), "resource": resource},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _base64(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Base64 of a stream, piece by piece (only the last piece may carry padding)."""
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        cut = len(data) - len(data) % 3
        if cut:
            yield base64.b64encode(data[:cut])
        carry = data[cut:]
    if carry:
        yield base64.b64encode(carry)


def _binary(out: IO[bytes], document) -> None:
    """A Binary resource with the document's bytes, as ``mapping.binary`` shapes it, streamed."""
    head = {
        "fullUrl": _full_url("Binary", str(document.uuid)),
        "resource": {"resourceType": "Binary", "id": str(document.uuid),
                     "meta": mapping.meta(document.updated_at, document.version),
                     "contentType": document.mime_type,
                     "securityContext": {"reference": f"DocumentReference/{document.uuid}"}},
    }
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    out.write(text[:-2] + b',"data":"')  # reopen the resource object to add its data
    for piece in _base64(vault.iter_plaintext(document.blob)):
        out.write(piece)
    out.write(b'"}}')


HOLDER_FOLDER = {"system": "urn:carnet:folder", "code": "dossier", "display": "Dossier du titulaire"}


def holder_folder_resource(folder: Folder, space: Person, members: list) -> dict[str, Any]:
    """The holder's own folder ("dossier") as an MHD Folder List, told from clinical software's folders by its
    designation type (the code the XDM metadata gives it too)."""
    resource: dict[str, Any] = {
        "resourceType": "List", "id": str(folder.uuid), "meta": mapping.meta(folder.created_at, 1),
        "extension": [{"url": DESIGNATION_TYPE, "valueCodeableConcept": {"coding": [HOLDER_FOLDER]}}],
        "identifier": [{"use": "usual", "system": "urn:ietf:rfc:3986", "value": f"urn:oid:2.25.{folder.uuid.int}"}],
        "status": "current", "mode": "working", "title": folder.name,
        "code": {"coding": [mapping.coding(MHD_LIST_TYPES, "folder", "Folder")]},
        "subject": {"reference": f"Patient/{space.uuid}"}, "date": instant(folder.created_at),
        "entry": [{"item": {"reference": f"DocumentReference/{d.uuid}"}} for d in members],
    }
    return resource


def list_resources(space: Person, documents, *, every_folder: bool) -> Iterator[dict[str, Any]]:
    """Submission sets of the exported documents, then folders with their exported documents (every folder of the
    space when ``every_folder``, the holder's own export; otherwise only those holding an exported document, since
    a folder's title may say what a document hidden from the requester is about)."""
    uuids = documents.select_related(None).only("uuid")
    # Two streams in submission set order, merged: as many queries for 10 sets as for 10,000.
    groups = groupby(uuids.filter(submission_set__isnull=False).order_by("submission_set_id", "created_at", "pk")
                      .only("uuid", "submission_set_id").iterator(chunk_size=500), key=lambda d: d.submission_set_id)
    sets = SubmissionSet.objects.filter(person=space, pk__in=documents.values("submission_set_id")).order_by("pk")
    pending = next(groups, None)
    for submission in sets.iterator(chunk_size=500):
        while pending is not None and pending[0] < submission.pk:
            pending = next(groups, None)
        found = list(pending[1]) if pending is not None and pending[0] == submission.pk else []
        yield list_resource(submission, space, found)
    for folder in XdsFolder.objects.filter(person=space).order_by("created_at", "pk"):
        members = list(uuids.filter(xds_folders=folder))
        if members or every_folder:
            yield folder_resource(folder, space, members)
    for own in Folder.objects.filter(person=space).order_by("created_at", "pk"):
        members = list(uuids.filter(folder=own))
        if members or every_folder:
            yield holder_folder_resource(own, space, members)


def profile_resources(space: Person) -> Iterator[dict[str, Any]]:
    """The medical profile's resources, with id, meta and patient reference as the FHIR face serves them."""
    if not apps.is_installed("carnet.medical"):
        return
    from carnet.fhir.profile import entry_resource
    from carnet.medical.models import ProfileEntry

    rows = ProfileEntry.objects.filter(person=space).select_related("person").order_by("created_at", "pk")
    for entry in rows.iterator(chunk_size=200):
        yield entry_resource(entry)


def communication_resources(space: Person, documents) -> Iterator[dict[str, Any]]:
    """The space's messaging (decision 0013) as Communication: one per message, the conversation's subject as
    `topic`, each answer `inResponseTo` the message before it, a joined document as a reference when it is in this
    export. The professional is named by their national identifier; the person's side by the Patient, or by name
    for a representative or caregiver (whose message also carries its footer)."""
    if not apps.is_installed("carnet.messaging"):
        return
    from carnet.messaging.actions import for_export
    from carnet.sharing.policy import Role
    from carnet.sharing.professions import RPPS_SYSTEM

    exported = set(documents.filter(pk__in=_joined_documents(space)).values_list("pk", flat=True))
    patient: dict[str, Any] = {"reference": f"Patient/{space.uuid}", "display": space.full_name}
    for conversation, messages in for_export(space):
        professional = conversation.professional
        practitioner: dict[str, Any] = {"type": "Practitioner", "display": professional.full_name,
                        "identifier": {"system": RPPS_SYSTEM, "value": professional.national_id}}
        previous = None
        for message in messages:
            if message.from_professional:
                sender, recipient = practitioner, patient
            elif message.author_role == Role.HOLDER:
                sender, recipient = patient, practitioner
            else:
                sender, recipient = {"type": "RelatedPerson", "display": message.author_label}, practitioner
            payload: list[dict[str, Any]] = [{"contentString": message.text}]
            if message.footer:
                payload.append({"contentString": message.footer})
            if message.document is not None and message.document_id in exported:
                payload.append({"contentReference": {"reference": f"DocumentReference/{message.document.uuid}"}})
            resource: dict[str, Any] = {
                "resourceType": "Communication", "id": str(message.uuid),
                "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{message.uuid}"}],
                "status": "completed", "subject": {"reference": f"Patient/{space.uuid}"},
                "topic": {"text": conversation.subject_text}, "sent": instant(message.sent_at),
                "sender": sender, "recipient": [recipient], "payload": payload,
            }
            if message.read_at:
                resource["received"] = instant(message.read_at)
            if previous is not None:
                resource["inResponseTo"] = [{"reference": f"Communication/{previous.uuid}"}]
            previous = message
            yield resource


def _joined_documents(space: Person):
    from carnet.messaging.models import Message

    return Message.objects.filter(person=space, document__isnull=False).values("document_id")


def audit_events(space: Person) -> Iterator[dict[str, Any]]:
    """The space's whole access history, oldest first, as AuditEvent (sharing.audit's mapping)."""
    for event in AccessEvent.objects.filter(person=space).order_by("sequence").iterator(chunk_size=500):
        yield audit_event_resource(event, person_uuid=space.uuid, who=who(event),
                                   action_display=action_label(event), role_display=role_label(event.actor_role),
                                   reason_display="" if event.allowed else event.reason)


def write_bundle(out: IO[bytes], space: Person, documents, *, now=None, every_folder: bool = True) -> None:
    """Write the Bundle JSON into ``out``; ``documents`` is the queryset of exported documents."""
    now = now or timezone.now()
    head = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "meta": {"lastUpdated": instant(now)},
            "type": "collection", "timestamp": instant(now)}
    out.write(json.dumps(head, separators=(",", ":")).encode("utf-8")[:-1] + b',"entry":[')
    out.write(_entry(mapping.patient(space)))
    for document in documents.iterator(chunk_size=200):
        out.write(b",")
        out.write(_entry(mapping.document_reference(document)))
        out.write(b",")
        _binary(out, document)
    for resource in list_resources(space, documents, every_folder=every_folder):
        out.write(b",")
        out.write(_entry(resource))
    for resource in profile_resources(space):
        out.write(b",")
        out.write(_entry(resource))
    for resource in communication_resources(space, documents):
        out.write(b",")
        out.write(_entry(resource))
    for resource in audit_events(space):
        out.write(b",")
        out.write(_entry(resource))
    out.write(b"]}")
