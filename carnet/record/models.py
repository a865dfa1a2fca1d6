"""Documents, folders and read marks. Metadata is a registry (searchable); content is in the vault."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .enums import AuthorKind, DocumentFormat, DocumentSource, DocumentStatus


class Folder(models.Model):
    """A folder of the holder's own ("dossier"); deleting it keeps its documents."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="folders")
    name = models.CharField(max_length=50)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["person", "name"], name="folder_person_name")]

    def __str__(self) -> str:
        return self.name


class DocumentQuerySet(models.QuerySet):
    def of(self, person):
        return self.filter(person_id=person.pk)

    def listed(self):
        """What a document list shows: current versions (superseded ones are reached from them)."""
        return self.filter(status=DocumentStatus.CURRENT)


class Document(models.Model):
    """One document of a person, with XDS / FHIR DocumentReference metadata.

    The confidentiality flags follow the DMP: masked to professionals (`MASQUE_PS`), invisible to
    the holder until an announcement consultation (`INVISIBLE_PATIENT`), hidden from legal
    representatives (`INVISIBLE_REPRESENTANTS_LEGAUX`). The sharing rules read them.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: the composite indexes below all start with person.
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="documents", db_index=False)
    blob = models.ForeignKey("vault.Blob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The optional links below are indexed only where set (see Meta): most documents have none of them, and an
    # index of NULLs was one more tree to write on every document filed, read by nothing.
    preview_blob = models.ForeignKey("vault.Blob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                     db_index=False)
    # what it is
    type_code = models.CharField(max_length=32)
    type_system = models.CharField(max_length=64)
    class_code = models.CharField(max_length=32, blank=True)
    category = models.CharField(max_length=16, db_index=False)
    title = models.CharField(max_length=255)
    act_date = models.DateTimeField(null=True, blank=True)
    # who and where from
    source = models.CharField(max_length=16, choices=DocumentSource.choices)
    author_kind = models.CharField(max_length=16, choices=AuthorKind.choices)
    author_label = models.CharField(max_length=200, blank=True)
    author_identifier = models.CharField(max_length=64, blank=True)
    author_person = models.ForeignKey(
        "identity.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # the bytes
    format = models.CharField(max_length=16, choices=DocumentFormat.choices)
    mime_type = models.CharField(max_length=64)
    format_code = models.CharField(max_length=128, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    details = models.JSONField(default=dict, blank=True)  # CDA header / DICOM study facts
    # lifecycle
    status = models.CharField(max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.CURRENT)
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="versions",
                                 db_index=False)
    unique_id = models.CharField(max_length=128, blank=True)  # XDS uniqueId: idempotent ingestion
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # confidentiality
    masked_to_professionals = models.BooleanField(default=False)
    # The mask is (also) the holder's: their choice on this document, their "new documents arrive masked" default,
    # or a mask they put on the version it replaces. Only the holder's side lifts it; an author's PDSm update may
    # lift only the MASQUE_PS they set themselves (fhir/patch.py).
    masked_by_holder = models.BooleanField(default=False)
    invisible_to_holder = models.BooleanField(default=False)
    invisible_to_holder_until = models.DateField(null=True, blank=True)
    hidden_from_representatives = models.BooleanField(default=False)
    # the holder's own organisation
    folder = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents",
                               db_index=False)
    # XDS / PDSm metadata sent by clinical software (IHE MHD): searchable by ITI-67
    practice_setting_code = models.CharField(max_length=64, blank=True)  # CI-SIS J04 (context.practiceSetting)
    facility_type_code = models.CharField(max_length=64, blank=True)  # CI-SIS J02 (context.facilityType)
    event_codes = models.JSONField(default=list, blank=True)  # [{"system", "code", "display"}] (context.event)
    archived = models.BooleanField(default=False)  # the PDSm is-archived extension
    submission_set = models.ForeignKey(
        "record.SubmissionSet", null=True, blank=True, on_delete=models.SET_NULL, related_name="documents",
        db_index=False,
    )

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["person", "status", "-created_at"], name="document_person_list"),
            models.Index(fields=["person", "category"], name="document_person_category"),
            models.Index(fields=["person", "type_code"], name="document_person_type"),
            # PDSm conditional update (PATCH DocumentReference?identifier=...) finds a document by uniqueId alone
            models.Index(fields=["unique_id"], name="document_unique_id", condition=~Q(unique_id="")),
            *(models.Index(fields=[name], name=f"document_{name}", condition=Q(**{f"{name}__isnull": False}))
              for name in ("preview_blob", "author_person", "replaces", "folder", "submission_set")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "unique_id"], condition=~Q(unique_id=""), name="document_person_unique_id"
            ),
        ]

    def __str__(self) -> str:
        return f"document {self.uuid}"

    @property
    def holder_owned(self) -> bool:
        """Deposited by the holder or a representative: theirs to edit and delete."""
        return self.source == DocumentSource.HOLDER


class SubmissionSet(models.Model):
    """An XDS SubmissionSet (a FHIR List, IHE MHD ITI-65): what one sender filed in one go. Its `unique_id`
    makes a re-sent submission idempotent; `metadata` keeps the List as received (author, source, content
    type) so ITI-66 can give it back."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="+",
                               db_index=False)  # the (person, unique_id) constraint starts with it
    unique_id = models.CharField(max_length=128)
    source_id = models.CharField(max_length=128, blank=True)
    title = models.CharField(max_length=255, blank=True)
    author_identifier = models.CharField(max_length=64, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "unique_id"], name="submission_set_person_unique_id"),
        ]

    def __str__(self) -> str:
        return f"submission set {self.uuid}"


class XdsFolder(models.Model):
    """An XDS Folder (a FHIR List with code `folder`, IHE MHD ITI-65/66): documents grouped under one theme
    by clinical software. Unlike a SubmissionSet it grows across submissions, so membership is many-to-many;
    `unique_id` names it for later submissions; `codes` are its XDS codeList (MHD designationType). Not the
    holder's own `Folder` ("dossier")."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="+")
    unique_id = models.CharField(max_length=128)
    title = models.CharField(max_length=255, blank=True)
    codes = models.JSONField(default=list, blank=True)  # [{"system", "code", "display"}]
    status = models.CharField(max_length=16, default="current")
    author_identifier = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)  # XDS lastUpdateTime: set when documents are added
    version = models.PositiveIntegerField(default=1)
    metadata = models.JSONField(default=dict, blank=True)
    documents = models.ManyToManyField(Document, related_name="xds_folders", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "unique_id"], name="xds_folder_person_unique_id"),
        ]

    def __str__(self) -> str:
        return f"xds folder {self.uuid}"


class DocumentMark(models.Model):
    """Per reader: opened (read/unread) and pinned."""

    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="marks")
    reader = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    pinned = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "document", "reader"], name="document_mark_unique"),
        ]


class RecordSettings(models.Model):
    """The holder's confidentiality defaults ("Paramètres de confidentialité"): whether new documents
    arrive masked to professionals, and whether the care history (mon histoire de santé) is masked."""

    person = models.OneToOneField("identity.Person", on_delete=models.CASCADE, related_name="record_settings")
    new_documents_masked = models.BooleanField(default=False)
    care_history_masked = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
