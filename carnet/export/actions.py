"""The holder's export, one function per use case: request (re-authenticated, policy-checked, traced), build
(in the background, then notified), download (only the requester, policy-checked, each one an access event) and
the daily purge of expired files. Decisions in docs/decisions/0012-export.md."""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from functools import partial
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carnet.identity import throttle
from carnet.identity.actions.family import represented_profiles
from carnet.identity.errors import LOCKED, ActionRefused
from carnet.identity.models import Account, Person
from carnet.notifications import actions as notifications
from carnet.notifications.enums import Kind
from carnet.sharing.events import authorise, record
from carnet.sharing.policy import Action, PolicyDenied, Role, decide
from carnet.vault import services as vault
from carnet.vault.models import Blob

from .enums import ExportStatus
from .models import Export

logger = logging.getLogger(__name__)

REQUEST = "export:request"
DOWNLOAD = "export:download"
NOT_REQUESTER = "not_requester"
PENDING_REUSE = dt.timedelta(hours=1)  # a second request while one is being prepared gives that one


class ExportError(ActionRefused):
    pass


def _reauthenticate(account: Account, password: str) -> None:
    """Exporting a whole space is a sensitive act: the password again (5 tries, like the other re-checks)."""
    try:
        throttle.check("export", account.username)
    except throttle.Locked:
        raise ExportError(LOCKED, code="locked") from None
    if not password or not account.check_password(password):
        throttle.fail("export", account.username)
        raise ExportError(_("Mot de passe incorrect."), field="password", code="password")
    throttle.succeed("export", account.username)


def request_export(account: Account, target: Person | None = None, *, password: str,
                   include_represented: bool = False) -> Export:
    """Ask for an export of `target` (the account's own space by default) and, for one's own space, of the
    spaces one represents if `include_represented`. The policy first (a caregiver is refused, and that is
    recorded), then the password; the file is built by a task after commit."""
    actor = account.person
    if actor is None:  # an operator's account: no space to export
        raise ExportError(_("Cet export n'existe pas."), code="not_found")
    target = target or actor
    authorise(actor, Action.EXPORT_SPACE, target, subject=REQUEST)  # raises PolicyDenied (recorded)
    _reauthenticate(account, password)
    spaces = [target]
    if include_represented and target.pk == actor.pk:
        for profile in represented_profiles(actor):
            try:
                authorise(actor, Action.EXPORT_SPACE, profile, subject=REQUEST)  # a representative's act: traced
            except PolicyDenied:
                continue  # recorded; that space stays out
            spaces.append(profile)
    recent = (Export.objects.filter(person=actor, target=target, status=ExportStatus.PENDING,
                                    include_represented=include_represented,
                                    requested_at__gte=timezone.now() - PENDING_REUSE).first())
    if recent is not None:
        return recent
    with transaction.atomic():
        export = Export.objects.create(person=actor, target=target, include_represented=include_represented,
                                       spaces=[str(s.uuid) for s in spaces])
        if target.pk == actor.pk:  # the holder's own acts are not traced by authorise; an export is
            record(actor, actor=actor, role=Role.HOLDER, action=str(Action.EXPORT_SPACE), subject=REQUEST)
        transaction.on_commit(lambda: _enqueue(export.pk))
    return export


def _enqueue(export_id: int) -> None:
    from .tasks import build_export

    build_export.enqueue(export_id)


def _spaces(export: Export) -> list[Person]:
    found = {str(p.uuid): p for p in Person.objects.filter(uuid__in=export.spaces)}
    return [found[u] for u in export.spaces if u in found]


def build(export_id: int) -> str:
    """Write the file (archive.write_export) into a temporary file, store it encrypted in the vault under the
    requester's key, mark it ready for CARNET_EXPORT_DAYS and tell the requester (that it is ready, nothing
    more). A failure marks the export failed with a code; nothing of its content is logged."""
    from .archive import write_export

    export = Export.objects.select_related("person").filter(pk=export_id, status=ExportStatus.PENDING).first()
    if export is None:
        return "nothing to do"
    try:
        with tempfile.TemporaryFile(prefix="carnet-export-") as handle:
            count, included = write_export(handle, export.person, _spaces(export))
            handle.seek(0)
            with vault.atomic():
                blob = vault.store(export.person, handle)
                now = timezone.now()
                Export.objects.filter(pk=export.pk).update(
                    status=ExportStatus.READY, blob=blob, size=blob.size, document_count=count,
                    spaces=[str(s.uuid) for s in included], ready_at=now,
                    expires_at=now + dt.timedelta(days=settings.CARNET_EXPORT_DAYS))
                notifications.notify(export.person, kind=Kind.ACCOUNT, code="export_ready",
                                     title=_("Votre export de données est prêt à être téléchargé"),
                                     url=reverse("portal:export"))
    except Exception as exc:
        logger.error("export %s failed: %s", export.uuid, type(exc).__name__)
        Export.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, failure=type(exc).__name__[:64])
        raise
    return "ready"


def exports_of(person: Person):
    """The requester's exports, newest first (the page and the API list them)."""
    return Export.objects.filter(person=person).order_by("-requested_at", "-id")


def open_download(actor: Person, export_uuid) -> tuple[Export, BinaryIO]:
    """The decrypted, verified file of an export, for its requester only. Anyone else gets "not found", and the
    attempt is an access event (a denial) in the requester's history. Each download is an access event."""
    export = Export.objects.select_related("person", "blob", "blob__person").filter(uuid=export_uuid).first()
    if export is None:
        raise ExportError(_("Cet export n'existe pas."), code="not_found")
    if export.person_id != actor.pk:
        decision = decide(actor, Action.EXPORT_SPACE, export.person)
        record(export.person, actor=actor, role=decision.role, action=str(Action.EXPORT_SPACE), allowed=False,
               reason=decision.reason if not decision.allowed else NOT_REQUESTER, subject=DOWNLOAD)
        raise ExportError(_("Cet export n'existe pas."), code="not_found")
    if not export.downloadable or export.blob is None:
        raise ExportError(_("Cet export n'est plus disponible : demandez-en un nouveau."), code="expired")
    spaces = _spaces(export)
    for space in spaces:  # outside any transaction: a denial is recorded even though it raises
        authorise(actor, Action.EXPORT_SPACE, space, subject=DOWNLOAD)  # a representative's download: traced
    if any(space.pk == actor.pk for space in spaces):
        record(actor, actor=actor, role=Role.HOLDER, action=str(Action.EXPORT_SPACE), subject=DOWNLOAD)
    return export, vault.verified_copy(export.blob)


def _delete_file(name: str) -> None:
    vault.storage().delete(name)


def purge_expired(day: dt.date) -> str:
    """Daily: exports past their date lose their file (row kept as "expired", for the page to say so)."""
    now = timezone.now()
    purged = 0
    for export in Export.objects.filter(status=ExportStatus.READY, expires_at__lte=now).iterator():
        with transaction.atomic():
            name = export.blob.storage_name if export.blob_id and export.blob else ""
            blob_id = export.blob_id
            Export.objects.filter(pk=export.pk).update(status=ExportStatus.EXPIRED, blob=None)
            if blob_id:
                Blob.objects.filter(pk=blob_id).delete()
            if name:
                transaction.on_commit(partial(_delete_file, name))
        purged += 1
    stale = Export.objects.filter(status=ExportStatus.PENDING, requested_at__lt=now - dt.timedelta(days=1)).update(
        status=ExportStatus.FAILED, failure="stale")
    return f"{purged} export(s) expiré(s) supprimé(s), {stale} resté(s) en préparation marqué(s) en échec"
