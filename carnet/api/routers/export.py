"""The holder's export (extraire ses données) for apps: request one (password again), follow it, download it.

The file is built in the background; the app polls `GET /api/exports/{id}` or waits for the notification.
"""

import datetime as dt
from uuid import UUID

from django.http import FileResponse, HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from carnet.export import actions
from carnet.export.actions import ExportError
from carnet.export.models import Export
from carnet.sharing.policy import Action

from ..access import ApiRequest, me, not_found, profile
from ..schemas import Error

router = Router()
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 429: Error}


class ExportIn(Schema):
    password: str
    include_represented: bool = False
    profile_id: UUID | None = None  # a represented person's space; empty: one's own


class ExportOut(Schema):
    id: UUID
    status: str
    requested_at: dt.datetime
    ready_at: dt.datetime | None
    expires_at: dt.datetime | None
    downloadable: bool
    size: int
    document_count: int
    spaces: list[UUID]


def export_out(export: Export) -> dict:
    return {"id": export.uuid, "status": export.status, "requested_at": export.requested_at,
            "ready_at": export.ready_at, "expires_at": export.expires_at, "downloadable": export.downloadable,
            "size": export.size, "document_count": export.document_count, "spaces": export.spaces}


@router.post("/exports", response={202: ExportOut, **ERRORS}, summary="Demander un export de mes données")
def request_export(request: ApiRequest, payload: ExportIn):
    target = profile(request, payload.profile_id, Action.EXPORT_SPACE)  # asks the policy (a caregiver: 403)
    export = actions.request_export(request.auth, target, password=payload.password,
                                    include_represented=payload.include_represented)
    export.refresh_from_db()
    return Status(202, export_out(export))


@router.get("/exports", response={200: list[ExportOut], 401: Error}, summary="Mes exports")
def list_exports(request: HttpRequest):
    person = profile(request, None, Action.EXPORT_SPACE)
    return [export_out(e) for e in actions.exports_of(person)[:50]]


@router.get("/exports/{export_id}", response={200: ExportOut, **ERRORS}, summary="Un export")
def read_export(request: HttpRequest, export_id: UUID):
    person = profile(request, None, Action.EXPORT_SPACE)
    export = actions.exports_of(person).filter(uuid=export_id).first()
    if export is None:
        raise not_found()
    return export_out(export)


@router.get("/exports/{export_id}/file", response={200: None, 410: Error, **ERRORS},
            summary="Télécharger un export (ZIP)")
def download_export(request: HttpRequest, export_id: UUID):
    try:
        found, handle = actions.open_download(me(request), export_id)
    except ExportError as exc:
        if exc.code == "expired":
            raise HttpError(410, exc.message) from None
        raise
    response = FileResponse(handle, content_type="application/zip", as_attachment=True,
                            filename=f"carnet-export-{found.ready_at.date().isoformat()}.zip")  # type: ignore[union-attr]  # downloadable: ready
    response["Cache-Control"] = "private, no-store"
    return response
