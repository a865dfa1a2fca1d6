"""Mon histoire de santé: care episodes built from the insurer's reimbursement data.

Feed format (what the insurer sends, one JSON object per reimbursed line; see data/README.md):

    {"id": "AMO-2025-0001234-01",      # the insurer's reference of the line: re-sending it is a no-op
     "date": "2025-03-14",             # date of care or delivery
     "category": "medicine",           # consultation | biology | medicine | dental | hospitalisation |
                                       # radiology | medical_device | vaccine
     "code_system": "CIP13",           # CIP13 (medicines, vaccines), CCAM (acts), NABM (biology), LPP (devices)
     "code": "3400930000000",
     "label": "DOLIPRANE 1000 mg ...", # what was done or delivered
     "quantity": 2,                    # boxes, acts...
     "prescriber": "Dr Marie Curie",   # optional
     "performer": "Pharmacie du Marché"}  # optional: who delivered or performed it

An import is all or nothing: one bad line refuses the whole batch, nothing is written.
"""

import datetime as dt
import uuid as uuid_module
from dataclasses import dataclass
from itertools import groupby

from django.db import transaction
from django.utils.translation import gettext as _

from carnet.identity.models import Person
from carnet.sharing.events import authorise, record
from carnet.sharing.policy import Action, Role

from .. import medicines
from ..enums import CareCategory, Section
from ..errors import MedicalError
from ..models import CareEpisode
from ..storage import seal_json, unseal_json
from .entries import EntryNotFound, add_entry

CODE_SYSTEMS = {"CIP13", "CIP7", "CIS", "CCAM", "NABM", "LPP", "NGAP", ""}


@dataclass
class ImportResult:
    created: int
    already_there: int


@dataclass
class Episode:
    uuid: uuid_module.UUID
    date: dt.date
    category: str
    code_system: str
    code: str
    quantity: int | None
    label: str
    prescriber: str
    performer: str

    @property
    def category_label(self) -> str:
        return str(CareCategory(self.category).label)


def _row(index: int, row: dict) -> tuple[CareEpisode, dict]:
    def refuse(message: str) -> MedicalError:
        return MedicalError(_("Ligne %(n)s : %(message)s") % {"n": index + 1, "message": message}, "rows")

    ref = str(row.get("id") or "").strip()
    if not ref or len(ref) > 100:
        raise refuse(_("référence manquante ou trop longue."))
    try:
        day = dt.date.fromisoformat(str(row.get("date")))
    except ValueError:
        raise refuse(_("date invalide.")) from None
    category = str(row.get("category") or "")
    if category not in CareCategory.values:
        raise refuse(_("catégorie inconnue."))
    system = str(row.get("code_system") or "").upper()
    if system not in CODE_SYSTEMS:
        raise refuse(_("système de code inconnu."))
    code = str(row.get("code") or "").strip()
    if len(code) > 32:
        raise refuse(_("code trop long."))
    quantity = row.get("quantity")
    if quantity is not None and (not isinstance(quantity, int) or not 0 <= quantity <= 10000):
        raise refuse(_("quantité invalide."))
    details = {k: str(row.get(k) or "")[:300] for k in ("label", "prescriber", "performer")}
    return CareEpisode(date=day, category=category, code_system=system, code=code, quantity=quantity,
                       source_ref=ref), details


def import_care_episodes(person: Person, rows: list[dict]) -> ImportResult:
    """The insurer's feed for one person: idempotent (unique per person and line reference)."""
    parsed = [_row(i, row) for i, row in enumerate(rows)]
    refs = [episode.source_ref for episode, _d in parsed]
    with transaction.atomic():
        known = set(CareEpisode.objects.filter(person=person, source_ref__in=refs).values_list("source_ref",
                                                                                                  flat=True))
        fresh, seen = [], set(known)
        for episode, details in parsed:
            if episode.source_ref in seen:
                continue
            seen.add(episode.source_ref)
            episode.person, episode.uuid = person, uuid_module.uuid4()
            episode.details = seal_json(person, details)
            fresh.append(episode)
        CareEpisode.objects.bulk_create(fresh, ignore_conflicts=True)
        if fresh:
            record(person, actor=None, role=Role.SYSTEM, action="care_history.import", reason="insurer")
    return ImportResult(created=len(fresh), already_there=len(parsed) - len(fresh))


def _episode(e: CareEpisode) -> Episode:
    details = unseal_json(e.person, e.details)
    return Episode(e.uuid, e.date, e.category, e.code_system, e.code, e.quantity, details.get("label", ""),
                   details.get("prescriber", ""), details.get("performer", ""))


def care_timeline(actor, person: Person, *, category: str = "", limit: int = 500) -> list[tuple[dt.date, list]]:
    """Episodes grouped by day, newest first, optionally of one category."""
    authorise(actor, Action.READ_RECORD, person)
    rows = CareEpisode.objects.filter(person=person).select_related("person")
    if category:
        if category not in CareCategory.values:
            raise MedicalError(_("Catégorie inconnue."), "category")
        rows = rows.filter(category=category)
    episodes = [_episode(e) for e in rows.order_by("-date", "category", "pk")[:limit]]
    return [(day, list(group)) for day, group in groupby(episodes, key=lambda e: e.date)]


def add_episode_to_treatments(actor, person: Person, episode_uuid):
    """"Ajouter à mes traitements": a delivered medicine becomes a treatment started that day."""
    authorise(actor, Action.WRITE_RECORD, person)
    row = CareEpisode.objects.filter(person=person, uuid=episode_uuid).select_related("person").first()
    if row is None or row.category != CareCategory.MEDICINE:
        raise EntryNotFound()
    episode = _episode(row)
    data = {"name": episode.label[:200] or _("Médicament"), "start": episode.date}
    if episode.code_system == "CIP13" and medicines.by_cip13(episode.code):
        data["code"] = episode.code
    return add_entry(actor, person, Section.TREATMENTS, data)
