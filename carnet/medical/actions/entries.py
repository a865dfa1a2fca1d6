"""Reading and writing entries of the profil médical: one function per use case, each asking the
policy first (`authorise` records the access event of every non-holder and every denial), each
write validated against the FHIR R4B model before anything is stored, sealed with the person's key.
"""

import uuid as uuid_module
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError

from carnet.identity.models import Person
from carnet.sharing.events import authorise, require
from carnet.sharing.policy import Action, Role

from ..enums import UNCONCERNED_SECTIONS, AuthorKind, Section
from ..errors import MedicalError
from ..models import ProfileEntry
from ..sections import SECTION_OF, SPECS, Built, SectionSpec, Summary
from ..storage import seal_json, unseal_json

AUTHOR_KINDS = {Role.HOLDER: AuthorKind.HOLDER, Role.REPRESENTATIVE: AuthorKind.REPRESENTATIVE}


class EntryNotFound(MedicalError):
    def __init__(self):
        super().__init__(_("Cette entrée n'existe pas."), code="not_found")


@dataclass
class EntryView:
    """An entry with its unsealed resource, for faces to show."""

    entry: ProfileEntry
    resource: dict
    kind: str

    @property
    def uuid(self):
        return self.entry.uuid

    @property
    def summary(self) -> Summary:
        return SPECS[self.kind].summary(self.resource)

    @property
    def initial(self) -> dict:
        return SPECS[self.kind].initial(self.resource)


def kind_of(entry: ProfileEntry) -> str:
    if entry.category in ("unconcerned", "organ_donation"):
        return entry.category
    return entry.section


def view(entry: ProfileEntry) -> EntryView:
    return EntryView(entry, unseal_json(entry.person, entry.resource), kind_of(entry))


def validate(spec: SectionSpec, resource: dict) -> None:
    """The FHIR R4B model must accept the resource; otherwise nothing is written."""
    try:
        spec.fhir_model().model_validate(resource)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"]) if exc.errors() else ""
        raise MedicalError(_("Cette entrée n'est pas valide (élément FHIR « %(where)s »).") % {"where": where}) \
            from None


def fhir_resource(spec: SectionSpec, person: Person, entry_uuid, version: int, now, built: Built) -> dict:
    resource = {"resourceType": spec.resource_type, "id": str(entry_uuid),
                "meta": {"versionId": str(version), "lastUpdated": now.isoformat(timespec="seconds")}}
    resource.update(built.resource)
    resource[spec.subject_field] = {"reference": f"Patient/{person.uuid}"}
    return resource


def _store(entry: ProfileEntry, spec: SectionSpec, person: Person, built: Built, *, actor, role) -> ProfileEntry:
    """Validate, seal and save `entry` (new or existing, version already set)."""
    now = timezone.now()
    resource = fhir_resource(spec, person, entry.uuid, entry.version, now, built)
    validate(spec, resource)
    entry.resource_type = spec.resource_type
    entry.code_system, entry.code = built.code_system, built.code
    entry.effective, entry.status, entry.category = built.effective, built.status, built.category
    entry.last_updated = now
    entry.author = actor if role != Role.SYSTEM else None
    entry.author_kind = AUTHOR_KINDS.get(role, AuthorKind.HOLDER)
    entry.resource = seal_json(person, resource)
    entry.save()
    return entry


def entries_of(person: Person, section: str):
    return ProfileEntry.objects.filter(person=person, section=section)


# --- reads ------------------------------------------------------------------------------------------------


def list_entries(actor, person: Person, section: str) -> list[EntryView]:
    """The entries of one section, newest first (the "je n'en ai pas" declaration excluded)."""
    authorise(actor, Action.READ_RECORD, person)
    rows = (entries_of(person, section).exclude(category__in=["unconcerned", "organ_donation"])
            .order_by("-effective", "-created_at", "-pk").select_related("person"))
    return [view(e) for e in rows]


def unconcerned_declaration(actor, person: Person, section: str) -> EntryView | None:
    authorise(actor, Action.READ_RECORD, person)
    entry = entries_of(person, section).filter(category="unconcerned").select_related("person").first()
    return view(entry) if entry else None


def single_entry(actor, person: Person, kind: str) -> EntryView | None:
    """The one entry of a kind that holds at most one (blood group, organ donation)."""
    authorise(actor, Action.READ_RECORD, person)
    rows = entries_of(person, SECTION_OF[kind])
    rows = rows.filter(category="organ_donation") if kind == "organ_donation" else rows
    entry = rows.select_related("person").first()
    return view(entry) if entry else None


def get_entry(actor, person: Person, entry_uuid) -> EntryView:
    authorise(actor, Action.READ_RECORD, person)
    entry = ProfileEntry.objects.filter(person=person, uuid=entry_uuid).select_related("person").first()
    if entry is None:
        raise EntryNotFound()
    return view(entry)


def locate_entry(actor, entry_uuid, action: Action = Action.READ_RECORD) -> ProfileEntry:
    """An entry known only by its public id (the API): the policy is asked about its owner, so an
    unrelated caller is refused (and the denial traced) exactly as for an unknown id."""
    entry = ProfileEntry.objects.filter(uuid=entry_uuid).select_related("person").first()
    if entry is None:
        raise EntryNotFound()
    authorise(actor, action, entry.person)
    return entry


# --- writes -----------------------------------------------------------------------------------------------


def add_entry(actor, person: Person, kind: str, data: dict) -> ProfileEntry:
    """Add an entry of `kind` (a section, or "organ_donation"); for a kind that holds one entry
    (blood group, organ donation), the existing one is replaced."""
    decision = authorise(actor, Action.WRITE_RECORD, person)
    _check_wishes(actor, person, SECTION_OF.get(kind))
    spec = _spec(kind)
    if kind == Section.MEASURES:
        from .measures import add_measure

        return add_measure(actor, person, data, _decision=decision)
    built = spec.build(person, data)
    section = SECTION_OF[kind]
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()  # serialise one person's writes
        _check_rules(person, kind, built, exclude=None)
        existing = _single(person, kind) if spec.single else None
        if existing is not None:
            existing.version += 1
            return _store(existing, spec, person, built, actor=actor, role=decision.role)
        entry = ProfileEntry(person=person, uuid=uuid_module.uuid4(), section=section, version=1)
        _store(entry, spec, person, built, actor=actor, role=decision.role)
        if section in UNCONCERNED_SECTIONS and kind != "unconcerned":
            entries_of(person, section).filter(category="unconcerned").delete()
    return entry


def update_entry(actor, person: Person, entry_uuid, data: dict) -> ProfileEntry:
    decision = authorise(actor, Action.WRITE_RECORD, person)
    _check_wishes(actor, person, _section_of(person, entry_uuid))
    with transaction.atomic():
        entry = ProfileEntry.objects.select_for_update().filter(person=person, uuid=entry_uuid).first()
        if entry is None or entry.category == "unconcerned" or entry.derived_from_id:
            raise EntryNotFound()
        kind = kind_of(entry)
        if kind == Section.MEASURES:
            from .measures import update_measure

            return update_measure(actor, person, entry, data, _decision=decision)
        spec = SPECS[kind]
        built = spec.build(person, data)
        _check_rules(person, kind, built, exclude=entry.pk)
        entry.version += 1
        return _store(entry, spec, person, built, actor=actor, role=decision.role)


def delete_entry(actor, person: Person, entry_uuid) -> None:
    """Remove an entry for good (its computed entries, such as the BMI of a weight, go with it)."""
    authorise(actor, Action.WRITE_RECORD, person)
    _check_wishes(actor, person, _section_of(person, entry_uuid))
    with transaction.atomic():
        entry = ProfileEntry.objects.select_for_update().filter(person=person, uuid=entry_uuid).first()
        if entry is None or entry.derived_from_id:
            raise EntryNotFound()
        refresh_bmi = entry.section == Section.MEASURES and entry.category == "taille"
        entry.delete()
        if refresh_bmi:
            from .measures import recompute_bmi

            recompute_bmi(actor, person)


def declare_unconcerned(actor, person: Person, section: str) -> ProfileEntry:
    """"Je n'en ai pas": only for a section that is empty; dated, replaced if declared again."""
    decision = authorise(actor, Action.WRITE_RECORD, person)
    if section not in UNCONCERNED_SECTIONS:
        raise MedicalError(_("Cette rubrique ne permet pas cette déclaration."), "section")
    spec = SPECS["unconcerned"]
    built = spec.build(person, {"section": section})
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()
        if entries_of(person, section).exclude(category="unconcerned").exists():
            raise MedicalError(_("Cette rubrique contient des informations : supprimez-les d'abord."), "section")
        entry = entries_of(person, section).filter(category="unconcerned").first()
        if entry is None:
            entry = ProfileEntry(person=person, uuid=uuid_module.uuid4(), section=section, version=1)
        else:
            entry.version += 1
        return _store(entry, spec, person, built, actor=actor, role=decision.role)


def withdraw_unconcerned(actor, person: Person, section: str) -> None:
    authorise(actor, Action.WRITE_RECORD, person)
    entries_of(person, section).filter(category="unconcerned").delete()


def _section_of(person: Person, entry_uuid) -> str | None:
    return ProfileEntry.objects.filter(person=person, uuid=entry_uuid).values_list("section", flat=True).first()


def _check_wishes(actor, person: Person, section: str | None) -> None:
    """Entourage et volontés (trusted person, organ donation; advance directives belong there too) is the holder's
    own: the policy refuses it to caregivers (WRITE_WISHES). Asked before any write transaction, so the denial's
    event stays; an allowed check records nothing more (the WRITE_RECORD decision was traced)."""
    if section == Section.ENTOURAGE:
        require(actor, Action.WRITE_WISHES, person)


def _spec(kind: str) -> SectionSpec:
    if kind not in SPECS or kind == "unconcerned":
        raise MedicalError(_("Rubrique inconnue."), "section")
    return SPECS[kind]


def _single(person: Person, kind: str) -> ProfileEntry | None:
    rows = entries_of(person, SECTION_OF[kind])
    if kind == "organ_donation":
        rows = rows.filter(category="organ_donation")
    return rows.select_for_update().first()


def _check_rules(person: Person, kind: str, built: Built, *, exclude) -> None:
    """Rules across entries: one trusted person."""
    if kind == Section.ENTOURAGE and "trusted" in built.category.split("+"):
        others = entries_of(person, Section.ENTOURAGE).filter(category__contains="trusted")
        if exclude:
            others = others.exclude(pk=exclude)
        if others.exists():
            raise MedicalError(_("Vous avez déjà désigné une personne de confiance : modifiez-la ou retirez-lui "
                                 "ce rôle d'abord."), "roles")
