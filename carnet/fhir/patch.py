"""PDSm metadata update: a JSON Patch (RFC 6902) on a DocumentReference, by its id or conditionally by its
masterIdentifier (`PATCH /fhir/DocumentReference?identifier=...`).

The profile lets the author change three things only: `status` (current, superseded), `securityLabel` (the
DMP visibility codes MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX, or back to N) and the
PDSm is-archived extension. A patch touching anything else is a 405. The author lifts only the MASQUE_PS they set: a
mask the holder chose (`Document.masked_by_holder`) stays, and the answer shows it. `test` operations may look anywhere.
Each accepted patch is a new version (`meta.versionId` + 1) and one access event; `If-Match: W/"<version>"`
is honoured (412 when the document changed meanwhile).
"""

import copy
import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carnet.interop.mhd import IS_ARCHIVED, MhdError, security_codes
from carnet.record.actions import trace
from carnet.record.enums import DocumentStatus
from carnet.record.models import Document
from carnet.sharing.events import require
from carnet.sharing.models import Professional
from carnet.sharing.policy import Action

from . import mapping
from .http import FhirError, not_found
from .params import parse_uuid
from .publish import require_author

PATCHABLE = ("status", "securityLabel", "extension")
STATUSES = {"current": DocumentStatus.CURRENT, "superseded": DocumentStatus.SUPERSEDED}


def not_allowed(path: str) -> FhirError:
    return FhirError(405, "not-supported", _("Seuls status, securityLabel et l'extension isArchived peuvent être "
                                             "modifiés (mise à jour des métadonnées PDSm)."), expression=path[:100],
                     headers={"Allow": "GET, HEAD, PATCH"})


def as_resource(document: Document) -> dict[str, Any]:
    """The DocumentReference with the is-archived extension (what a patch applies to and what it answers)."""
    resource = mapping.document_reference(document)
    extensions = [e for e in resource.get("extension", []) if e.get("url") != IS_ARCHIVED]
    resource["extension"] = [*extensions, {"url": IS_ARCHIVED, "valueBoolean": document.archived}]
    return resource


# --- JSON Patch (RFC 6902), the operations a metadata update needs --------------------------------------

def _tokens(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise FhirError(400, "invalid", _("Chemin JSON Patch mal formé."), expression=path[:100])
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _parent(document: Any, tokens: list[str], path: str) -> tuple[Any, str]:
    current = document
    for token in tokens[:-1]:
        current = _child(current, token, path)
    return current, tokens[-1]


def _child(node: Any, token: str, path: str) -> Any:
    try:
        if isinstance(node, list):
            return node[int(token)]
        return node[token]
    except (KeyError, IndexError, ValueError, TypeError):
        raise FhirError(422, "processing", _("Chemin JSON Patch introuvable dans la ressource."),
                        expression=path[:100]) from None


def apply(document: Any, operations: Any) -> Any:
    """Apply add, remove, replace and test; the document is copied, never changed in place."""
    if not isinstance(operations, list) or not operations:
        raise FhirError(400, "invalid", _("Un JSON Patch (liste d'opérations) est attendu."))
    result = copy.deepcopy(document)
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
            raise FhirError(400, "invalid", _("Opération JSON Patch mal formée."))
        op, path = operation.get("op"), operation["path"]
        tokens = _tokens(path)
        if op == "test":
            node = result
            for token in tokens:
                node = _child(node, token, path)
            if node != operation.get("value"):
                raise FhirError(422, "processing", _("Échec d'une opération test du JSON Patch."),
                                expression=path[:100])
            continue
        if op not in ("add", "remove", "replace"):
            raise FhirError(400, "not-supported", _("Opération JSON Patch non prise en charge (add, remove, "
                                                    "replace, test)."), expression=path[:100])
        if not tokens or tokens[0] not in PATCHABLE:
            raise not_allowed(path)
        if op != "remove" and "value" not in operation:
            raise FhirError(400, "invalid", _("Opération JSON Patch sans valeur."), expression=path[:100])
        parent, last = _parent(result, tokens, path)
        if isinstance(parent, list):
            if last == "-" and op == "add":
                parent.append(operation["value"])
                continue
            index = int(last) if last.isdigit() else -1
            if not 0 <= index < len(parent) + (op == "add"):
                raise FhirError(422, "processing", _("Chemin JSON Patch introuvable dans la ressource."),
                                expression=path[:100])
            if op == "add":
                parent.insert(index, operation["value"])
            elif op == "remove":
                del parent[index]
            else:
                parent[index] = operation["value"]
        elif isinstance(parent, dict):
            if op != "add" and last not in parent:
                raise FhirError(422, "processing", _("Chemin JSON Patch introuvable dans la ressource."),
                                expression=path[:100])
            if op == "remove":
                del parent[last]
            else:
                parent[last] = operation["value"]
        else:
            raise FhirError(422, "processing", _("Chemin JSON Patch introuvable dans la ressource."),
                            expression=path[:100])
    return result


# --- the update ---------------------------------------------------------------------------------------

def find(resource_id: str | None, identifier: str | None) -> Document:
    """The document by id, or by masterIdentifier (`[system|]value`). A conditional update matching several
    documents is a 412, as FHIR says."""
    if resource_id is not None:
        wanted = parse_uuid(resource_id)
        found = Document.objects.filter(uuid=wanted).select_related("person").first() if wanted else None
        if found is None or found.status == DocumentStatus.DELETED:
            raise not_found()
        return found
    if not identifier:
        raise FhirError(400, "required", _("Mise à jour conditionnelle : le paramètre identifier est obligatoire."),
                        expression="identifier")
    value = identifier.rpartition("|")[2].strip().removeprefix("urn:oid:")
    # No person here: a conditional update names the document only (its uniqueId is meant to be global).
    matches = list(Document.objects.filter(unique_id=value).exclude(status=DocumentStatus.DELETED)
                   .select_related("person")[:2]) if value else []
    if not matches:
        raise not_found()
    if len(matches) > 1:
        raise FhirError(412, "multiple-matches", _("Plusieurs documents portent cet identifiant."),
                        expression="identifier")
    return matches[0]


def update(actor: Any, document: Document, operations: Any, if_match: str = "") -> Document:
    """Check who asks (the author, by the policy), apply the patch, keep only what PDSm allows, save a new
    version and trace it."""
    if not isinstance(actor, Professional):
        raise FhirError(403, "forbidden", _("La mise à jour des métadonnées est réservée aux logiciels des "
                                            "professionnels de santé."), reason="professionals_only")
    decision = require(actor, Action.WRITE_RECORD, document.person)  # open space, not blocked (recorded if not)
    require_author(actor, document, "document.update_metadata")
    before = as_resource(document)
    after = apply(before, operations)
    for key in set(before) | set(after):
        if key not in PATCHABLE and before.get(key) != after.get(key):
            raise not_allowed(f"/{key}")
    others = [e for e in after.get("extension") or [] if not (isinstance(e, dict) and e.get("url") == IS_ARCHIVED)]
    if others != [e for e in before["extension"] if e.get("url") != IS_ARCHIVED]:
        raise not_allowed("/extension")
    status = STATUSES.get(after.get("status"))  # type: ignore[arg-type]
    if status is None:
        raise FhirError(422, "code-invalid", _("Statut non pris en charge (current ou superseded)."),
                        expression="status")
    labels = after.get("securityLabel") or []
    try:
        codes = security_codes(labels if isinstance(labels, list) else [labels], "securityLabel")
    except MhdError as error:
        raise FhirError(422, error.code, error.diagnostics, expression=error.expression) from None
    archived_ext = next((e for e in after.get("extension") or [] if isinstance(e, dict)
                         and e.get("url") == IS_ARCHIVED), None)
    archived = bool(archived_ext and archived_ext.get("valueBoolean") is True)
    with transaction.atomic():
        locked = Document.objects.select_for_update().select_related("person").get(pk=document.pk)
        if if_match and if_match.strip() not in (f'W/"{locked.version}"', f'"{locked.version}"'):
            raise FhirError(412, "conflict", _("Le document a changé depuis la version indiquée (If-Match)."))
        if status == DocumentStatus.CURRENT and locked.status != DocumentStatus.CURRENT and locked.versions.exclude(
                status=DocumentStatus.DELETED).exists():
            raise FhirError(422, "business-rule", _("Ce document a été remplacé : sa nouvelle version est le document "
                                                    "courant."), expression="status")
        locked.status = status
        if locked.masked_by_holder and "MASQUE_PS" not in codes:
            codes = ["MASQUE_PS", *codes]  # the holder's mask stays: only their side lifts it (the holder manages)
        locked.masked_to_professionals = "MASQUE_PS" in codes
        locked.hidden_from_representatives = "INVISIBLE_REPRESENTANTS_LEGAUX" in codes
        invisible = "INVISIBLE_PATIENT" in codes
        if invisible and not locked.invisible_to_holder:
            locked.invisible_to_holder_until = timezone.localdate() + dt.timedelta(
                days=settings.CARNET_ANNOUNCEMENT_RELEASE_DAYS)
        elif not invisible:
            locked.invisible_to_holder_until = None
        locked.invisible_to_holder = invisible
        locked.archived = archived
        xds = dict(locked.details.get("xds") or {})
        xds["security_labels"] = codes
        locked.details = {**locked.details, "xds": xds}
        locked.version += 1
        locked.save()
        trace(locked.person, actor, decision, "document.update_metadata", locked)
    return locked
