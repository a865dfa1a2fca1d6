"""Filing what clinical software sends (IHE MHD as the ANS profiles it, PDSm): ITI-65 Provide Document Bundle and
ITI-105 Simplified Publish.

`interop.mhd` has already checked the resources against the profile; here the patient is found by INS, the
policy decides (outside any write transaction, so that a denial stays recorded), and the whole submission is
stored in one transaction with its vault files (`vault.atomic`): every document of a bundle or none. Re-sending
a submission (same SubmissionSet uniqueId, same document masterIdentifiers) stores nothing and gets the same
answer. The holder gets one content-free notice per submission, not one per document.

Unknown INS and a space that is not open (opposition window, opposed, closed) get the same answer (422,
`space_not_open`): a different one would tell the sender whether this person has, or refused, a space.
"""

import datetime as dt
import functools
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connections, router
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from carnet.common.rows import Rider, insert
from carnet.identity.models import Person
from carnet.interop.formats import SNIFF_BYTES, sniff
from carnet.interop.ins import BAD_KEY, MALFORMED, accepts_test_ins, check_ins
from carnet.interop.mhd import DocumentInfo, MhdError, PatientRef, Submission
from carnet.record import actions
from carnet.record.cda_identity import names_another_patient
from carnet.record.dmp_import import MIME_KINDS
from carnet.record.enums import AuthorKind, DocumentSource, DocumentStatus
from carnet.record.errors import RecordError
from carnet.record.models import Document, RecordSettings, SubmissionSet
from carnet.sharing import policy
from carnet.sharing.events import record, require
from carnet.sharing.models import Professional
from carnet.sharing.policy import Action, Decision, PolicyDenied, Role, decide
from carnet.vault import services as vault

from . import folders
from .params import instant, parse_uuid

SPACE_NOT_OPEN = "space_not_open"


class Refused(PolicyDenied):
    """A denial decided here from the policy's answers (unknown author, not the author), with its own message."""

    def __init__(self, decision: Decision, message: str):
        super().__init__(decision)
        self._message = message

    @property
    def message(self) -> str:
        return self._message


def space_not_open() -> MhdError:
    return MhdError(_("Aucun espace ouvert aux dépôts pour cet INS (inconnu, en délai d'opposition, ayant fait "
                      "opposition ou clôturé)."), expression="subject", code="business-rule", reason=SPACE_NOT_OPEN)


def find_person(patient: PatientRef, sender: Professional | None = None) -> Person:
    """The person an INS (or one of our Patient ids) names. Identity vigilance: an INS with a broken control key,
    a NIA, or a test INS where test identities are not accepted matches nobody. With the `sender`, inside the
    policy's `remembering()`, whether the person blocked them is read in the same statement, for the policy."""
    if patient.local_id:
        wanted = parse_uuid(patient.local_id)
        found = _with_masking_default(Person.objects.filter(uuid=wanted)).first() if wanted else None
        if found is None:
            raise space_not_open()
        return found
    check = check_ins(patient.ins_oid, patient.ins_value)
    if check.problem in (BAD_KEY, MALFORMED):
        raise MhdError(_("INS invalide (format ou clé de contrôle)."), expression="subject.identifier",
                       code="value", reason="ins_invalid")
    if check.problem or check.nia:
        raise MhdError(_("Le patient doit être identifié par son matricule INS (NIR)."),
                       expression="subject.identifier", code="value", reason="ins_missing")
    if check.test and not accepts_test_ins():
        raise MhdError(_("INS de test refusé par ce serveur."), expression="subject.identifier", code="value",
                       reason="test_ins")
    nir = check.nir  # compacted once (cached on the check)
    found = _person_by_nir(nir, sender) if nir else None
    if found is None:
        raise space_not_open()
    return found


@functools.cache
def _person_by_nir_sql(with_block: bool) -> tuple[str, list[str]]:
    """The person with the holder's "new documents arrive masked" choice, in one round trip (add_document would
    ask for the choice in another), and `with_block` the policy's block answer for a professional (`block_sql`);
    plain SQL, as the ORM took longer to build this query than the database to answer, and a plain cursor, as
    `raw()` took longer to map the row than the database to find it."""
    names = [f.attname for f in Person._meta.concrete_fields]
    columns = ", ".join(f'p."{f.column}"' for f in Person._meta.concrete_fields)
    block = ", " + policy.block_sql('p."id"') if with_block else ""
    return (f'SELECT {columns}, EXISTS (SELECT 1 FROM "record_recordsettings" s WHERE s."person_id" = p."id" '  # noqa: S608
            f'AND s."new_documents_masked"){block} FROM "identity_person" p WHERE p."nir" = %s '
            f'ORDER BY p."id" LIMIT 1', names)


def _person_by_nir(nir: str, sender: Professional | None = None) -> Person | None:
    sql, names = _person_by_nir_sql(sender is not None)
    alias = router.db_for_read(Person)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [sender.pk, nir] if sender is not None else [nir])
        row = cursor.fetchone()
    if row is None:
        return None
    person = Person.from_db(alias, names, row[:len(names)])
    person.new_documents_masked = row[len(names)]  # type: ignore[attr-defined]
    if sender is not None:
        policy.remember_block(person, sender, row[-1])
    return person


def _with_masking_default(people):
    """As `_PERSON_BY_NIR`, for the rarer look-up by our own Patient id."""
    return people.annotate(new_documents_masked=Exists(RecordSettings.objects.filter(
        person=OuterRef("pk"), new_documents_masked=True)))


def _deny(person: Person, actor: Professional, reason: str, message: str) -> Refused:
    """A refusal decided here from the policy's answers (an unknown author): recorded like any denial."""
    record(person, actor=actor, role=Role.PROFESSIONAL, action=str(Action.WRITE_RECORD), allowed=False,
           reason=reason)
    return Refused(Decision(False, reason, Role.PROFESSIONAL), message)


def authorise_submission(actor: Professional | Person, person: Person, documents: list[DocumentInfo]) -> Decision:
    """The policy on the sender and on every declared author (a blocked author is refused even when someone
    else sends). An author with no RPPS, or one missing from the directory, is refused as unknown."""
    if not isinstance(actor, Professional):
        raise MhdError(_("Le dépôt de documents est réservé aux logiciels des professionnels de santé."),
                       code="forbidden", status=403, reason="professionals_only")
    try:
        decision = require(actor, Action.WRITE_RECORD, person)
    except PolicyDenied as denied:
        if denied.decision.reason == "not_active":
            raise space_not_open() from None
        raise
    checked = {actor.rpps}
    for document in documents:
        for author in document.authors:
            if author.kind != "practitioner" or author.rpps in checked:
                continue
            known = Professional.objects.filter(rpps=author.rpps).first() if author.rpps else None
            if known is None:
                raise _deny(person, actor, "unknown_author", _("Auteur inconnu de l'annuaire (RPPS absent ou non "
                                                                "reconnu)."))
            require(known, Action.WRITE_RECORD, person)  # blocked, inactive: recorded and raised
            checked.add(author.rpps)
    return decision


def require_author(actor: Professional, document: Document, action: str) -> None:
    """Only the author may replace or update a document: the policy's `author` rule (its answer on releasing a
    document, which is exactly "this professional wrote it, and may act on it"). A refusal is recorded."""
    decision = decide(actor, Action.RELEASE_TO_HOLDER, document)
    if not decision.allowed:
        reason = decision.reason
        record(document.person, actor=actor, role=Role.PROFESSIONAL, action=action, allowed=False, reason=reason,
               subject=f"document:{document.uuid}")
        raise Refused(Decision(False, reason, Role.PROFESSIONAL),
                      _("Seul l'auteur du document peut le remplacer ou en modifier les métadonnées."))


def _replaced(actor: Professional, person: Person, info: DocumentInfo) -> Document | None:
    if not info.replaces:
        return None
    kind, _slash, ident = info.replaces.rstrip("/").rpartition("/")
    if kind == "DocumentReference" or kind.endswith("/DocumentReference"):
        wanted = parse_uuid(ident)
        old = Document.objects.of(person).filter(uuid=wanted).first() if wanted else None
    else:
        old = Document.objects.of(person).filter(unique_id=info.replaces).first()
    if old is None or old.status == DocumentStatus.DELETED:
        raise MhdError(_("Le document à remplacer est introuvable dans l'espace de ce patient."),
                       expression="DocumentReference.relatesTo", code="not-found", reason="replaced_not_found")
    if old.status != DocumentStatus.CURRENT:
        raise MhdError(_("Le document à remplacer a déjà été remplacé."), expression="DocumentReference.relatesTo",
                       code="business-rule", reason="already_replaced")
    require_author(actor, old, "document.replace")
    return old


def _check_media_type(info: DocumentInfo) -> str:
    kind = sniff(info.content[:SNIFF_BYTES])
    if kind not in MIME_KINDS.get(info.content_type.split(";")[0].strip().lower(), set()):
        raise MhdError(_("Le contenu ne correspond pas au type MIME déclaré (attachment.contentType)."),
                       expression="DocumentReference.content[0].attachment.contentType", code="value",
                       reason="mime_mismatch")
    return kind


def _check_cda_patient(document: Document, patient: PatientRef, person: Person) -> None:
    """Identity vigilance: a CDA's own INS (its header) must be the patient's the metadata names (the portals'
    rule, `record.cda_identity`)."""
    if names_another_patient(document, person):
        raise MhdError(_("L'INS du document CDA n'est pas celui du patient désigné."), code="business-rule",
                       expression="Binary", reason="patient_mismatch")


def _file(actor: Professional, person: Person, decision: Decision, info: DocumentInfo, replaces: Document | None,
          submission_set: SubmissionSet | None, notice: Rider | None = None) -> Document:
    author = next((a for a in info.authors if a.kind == "practitioner"), info.authors[0])
    if author.kind == "practitioner":
        written_by = actions.Author(AuthorKind.PROFESSIONAL, author.label or actor.full_name, author.rpps)
    else:
        written_by = actions.Author(AuthorKind.ORGANISATION, author.label)
    try:
        document = actions.add_document(
            actor, person, content=info.content, title=info.title, type_code=info.type_code,
            act_date=info.act_start, source=DocumentSource.PROFESSIONAL, author=written_by,
            masked=True if info.masked else _masking_default(person),
            hidden_from_representatives=info.hidden_from_representatives,
            invisible_to_holder=info.invisible_to_holder, replaces=replaces, unique_id=info.unique_id,
            notify=False, decision=decision, class_code=info.class_code, format_code=info.format_code,
            practice_setting_code=info.practice_setting, facility_type_code=info.facility_type,
            event_codes=info.event_codes, submission_set=submission_set, xds=info.xds_details(),
            archived=info.archived, within=True, notice=notice,
        )
    except RecordError as error:
        raise MhdError(error.message if hasattr(error, "message") else str(error), code="invalid",
                       expression="Binary", reason=f"record:{getattr(error, 'code', '') or 'invalid'}") from None
    _check_cda_patient(document, info.patient, person)
    return document


def _masking_default(person: Person) -> bool | None:
    """The default read with the person (`_with_masking_default`); None (add_document asks) otherwise."""
    return getattr(person, "new_documents_masked", None)


def _duplicate(expression: str) -> MhdError:
    return MhdError(_("Identifiant unique déjà utilisé pour un autre lot ou un autre document."), code="duplicate",
                    status=409, expression=expression, reason="duplicate_unique_id")


@dataclass
class Filed:
    """What a submission left in the space: its SubmissionSet and documents (in the bundle's order)."""

    submission_set: SubmissionSet
    documents: list[Document]
    created: bool


def _already_filed(person: Person, submission: Submission) -> Filed | None:
    """A re-sent submission: the same SubmissionSet with the same documents gives the first answer again; the same
    uniqueIds with anything else is a conflict (XDS: a uniqueId names one thing forever). Asked once the unique
    constraints refused the submission (or first, for a replacement), not on every bundle."""
    ids = [d.unique_id for d in submission.documents]
    stored = SubmissionSet.objects.filter(person=person, unique_id=submission.submission_set.unique_id).first()
    if stored is None:
        if Document.objects.of(person).filter(unique_id__in=ids).exists():  # a document uniqueId reused
            raise _duplicate("masterIdentifier")
        return None
    documents = {d.unique_id: d for d in Document.objects.of(person).filter(unique_id__in=ids)}
    if len(documents) == len(ids) and all(
            d.submission_set_id == stored.pk and d.sha256 == hashlib.sha256(info.content).hexdigest()
            for info, d in ((i, documents[i.unique_id]) for i in submission.documents)):
        return Filed(stored, [documents[i] for i in ids], created=False)
    raise _duplicate("masterIdentifier" if documents else "List.identifier")


def provide(actor: Professional | Person, submission: Submission) -> Filed:
    """ITI-65: file a whole submission, atomically, or refuse it (MhdError / PolicyDenied) with nothing stored."""
    with policy.remembering():  # the sender's block read with the patient, for the policy's decision below
        person = find_person(submission.patient, actor if isinstance(actor, Professional) else None)
        decision = authorise_submission(actor, person, submission.documents)
    assert isinstance(actor, Professional)  # authorise_submission refused anyone else
    if any(info.replaces for info in submission.documents):  # re-sent, its old documents are superseded now
        filed = _already_filed(person, submission)
        if filed is not None:
            return filed
    for info in submission.documents:
        _check_media_type(info)
    replaced = [_replaced(actor, person, info) for info in submission.documents]
    listed = submission.submission_set
    folder_entries = folders.prepare(actor, person, submission) if submission.folders else {}
    # A result held for an announcement consultation is not announced (as the pro portal).
    announced = sum(1 for info in submission.documents if not info.invisible_to_holder)
    try:
        with vault.atomic():
            # Inserted with the first document, in its statement (add_document): one round trip less a bundle;
            # the holder's notice is bumped by that statement too (once more).
            submission_set = SubmissionSet(
                person=person, unique_id=listed.unique_id, source_id=listed.source_id, title=listed.title,
                author_identifier=listed.author_rpps or actor.rpps,
                submitted_at=_submitted_at(listed.date), metadata=listed.metadata)
            notice = actions.documents_notice(person, announced) if announced else None
            documents = [_file(actor, person, decision, info, old, submission_set, notice if i == 0 else None)
                         for i, (info, old) in enumerate(zip(submission.documents, replaced, strict=True))]
            if submission_set.pk is None:  # no document filed it (a bundle always has one: parse_transaction)
                insert(submission_set)
            if submission.folders or any(d.replaces_id for d in documents):  # XDS Folders, same transaction
                folders.store(actor, person, submission, documents, folder_entries)
            if announced:
                actions.notify_documents_added(person, announced, ran=notice)
    except IntegrityError:  # re-sent (or filed meanwhile by a concurrent request), or a uniqueId reused
        filed = _already_filed(person, submission)
        if filed is None:
            raise
        return filed
    return Filed(submission_set, documents, created=True)


def publish(actor: Professional | Person, info: DocumentInfo) -> tuple[Document, bool]:
    """ITI-105: one document with its content inline; True when it was filed now, False when re-sent."""
    with policy.remembering():  # as `provide`
        person = find_person(info.patient, actor if isinstance(actor, Professional) else None)
        decision = authorise_submission(actor, person, [info])
    assert isinstance(actor, Professional)
    existing = Document.objects.of(person).filter(unique_id=info.unique_id).select_related("person").first()
    if existing is not None:
        if existing.sha256 != hashlib.sha256(info.content).hexdigest():
            raise MhdError(_("Identifiant unique déjà utilisé pour un autre document."), code="duplicate",
                           status=409, expression="DocumentReference.masterIdentifier", reason="duplicate_unique_id")
        return existing, False
    _check_media_type(info)
    old = _replaced(actor, person, info)
    try:
        with vault.atomic():
            document = _file(actor, person, decision, info, old, None)
            if old is not None:  # the new version joins the XDS Folders of the old one
                folders.follow_replacements([document], timezone.now())
            if not document.invisible_to_holder:
                actions.notify_documents_added(person, 1)
    except IntegrityError:
        existing = Document.objects.of(person).filter(unique_id=info.unique_id).select_related("person").first()
        if existing is None:
            raise
        return existing, False
    return document, True


def _submitted_at(value: str) -> dt.datetime:
    from carnet.interop.mhd import parse_instant

    return parse_instant(value) or timezone.now()


def transaction_response(filed: Filed, submission: Submission, base: str) -> dict[str, Any]:
    """The transaction-response Bundle: one entry per request entry, in order (List, DocumentReference, Binary
    locations; a Binary is its DocumentReference's id). The same submission always gets the same answer."""
    def entry(location: str, version: int, updated) -> dict[str, Any]:
        return {"response": {"status": "201 Created", "location": location, "etag": f'W/"{version}"',
                             "lastModified": instant(updated)}}

    entries = []
    for kind, index in submission.order:
        if kind == "List":
            stored = filed.submission_set
            entries.append(entry(f"List/{stored.uuid}", 1, stored.submitted_at))
        elif kind == "Folder":
            folder = folders.response_of(filed.submission_set.person_id, submission.folders[index].unique_id)
            entries.append(entry(f"List/{folder.uuid}", folder.version, folder.updated_at))
        else:
            document = filed.documents[index]
            entries.append(entry(f"{kind}/{document.uuid}", document.version, document.created_at))
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"carnet:submission:{filed.submission_set.uuid}")),
        "type": "transaction-response",
        "link": [{"relation": "self", "url": base}],
        "entry": entries,
    }
