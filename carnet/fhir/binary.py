"""Serving a document's bytes (IHE MHD ITI-68 Retrieve Document): as a FHIR Binary (base64) when the client asked
for FHIR JSON, else raw — the bytes exactly as filed, with the media type they were filed with — as FHIR allows
for Binary.

The bytes are decrypted and checked against their SHA-256 before the first one is sent
(`vault.verified_copy`): a tampered blob raises `TamperedBlob` and the view answers a 500
OperationOutcome, never partial or altered content.
"""

from typing import Any

from django.http import FileResponse, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from carnet.record.models import Document
from carnet.vault import services as vault

from . import mapping
from .http import JSON_TYPES, XML_TYPES, FhirError, media_types, not_found


def _representation(request: HttpRequest, document: Document) -> str:
    """'json' (a Binary resource), 'raw' (the bytes) or 'refused' (FHIR XML, which we do not produce). A client
    that names the document's own media type gets the bytes even when it is an XML one (a CDA is text/xml:
    ITI-68 software asks for it so), which is not a request for FHIR XML."""
    own = (document.mime_type or "").lower()
    requested = request.GET.get("_format", "").strip().lower()
    if requested:
        return "json" if requested in JSON_TYPES else "raw" if requested == own else "refused"
    types = media_types(request.headers.get("Accept", ""))
    if any(t in JSON_TYPES for t in types):
        return "json"
    if own in types:
        return "raw"
    if types and all(t in XML_TYPES for t in types):
        return "refused"
    return "raw"


def serve(request: HttpRequest, document: Document) -> HttpResponseBase | dict[str, Any]:
    how = _representation(request, document)
    if how == "refused":
        raise FhirError(406, "not-supported", _("Seul le format JSON (application/fhir+json) est proposé."))
    if document.blob is None:  # deleted content (never visible anyway)
        raise not_found()
    copy = vault.verified_copy(document.blob)  # raises TamperedBlob before any byte is sent
    if how == "json":
        with copy:
            return mapping.binary(document, copy.read())
    response = FileResponse(copy, content_type=document.mime_type, as_attachment=True)
    response["Content-Length"] = str(document.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
