"""Medicine lookup by CIP13 / CIP7 / CIS code or by the start of the name.

Two sources, the first that has rows wins:
- the reference table `MedicinePresentation`, the whole public BDPM (base de données publique des médicaments,
  https://base-donnees-publique.medicaments.gouv.fr/telechargement, files CIS_bdpm.txt and CIS_CIP_bdpm.txt),
  loaded by the operator with `carnet import_medicines CIS_bdpm.txt CIS_CIP_bdpm.txt` (`import_bdpm` below);
- while that table is empty (a fresh demo, a test), the small extract shipped in data/medicines.tsv;
  data/README.md says which rows and how.
"""

import csv
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from stdnum import ean

DATA = Path(__file__).parent / "data" / "medicines.tsv"
CIS_SYSTEM = "urn:oid:1.2.250.1.213.2.3.1"  # CIS: code identifiant de spécialité
CIP_SYSTEM = "urn:oid:1.2.250.1.213.2.3.2"  # CIP: code identifiant de présentation
ATC_SYSTEM = "http://www.whocc.no/atc"


@dataclass(frozen=True)
class Medicine:
    cis: str
    cip7: str
    cip13: str
    name: str  # the speciality (dénomination)
    presentation: str


def fold(value: str) -> str:
    """Upper case without accents, for prefix search."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper().strip()


@cache
def _table() -> tuple[Medicine, ...]:
    if not DATA.exists():
        return ()
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return tuple(Medicine(r["cis"], r["cip7"], r["cip13"], r["name"], r["presentation"]) for r in rows)


def _imported() -> bool:
    """Whether the BDPM has been loaded into the reference table."""
    from .models import MedicinePresentation

    return MedicinePresentation.objects.exists()


def _medicine(row) -> Medicine:
    return Medicine(row.cis, row.cip7, row.cip13, row.name, row.presentation)


def find_medicine(query: str, limit: int = 20) -> list[Medicine]:
    """Presentations whose CIP13, CIP7 or CIS code is `query`, or whose name starts with it.

    From the imported BDPM: a code finds withdrawn presentations too (after the current ones), so that an old box
    or a past delivery still resolves; a name finds only the current ones.
    """
    query = (query or "").strip()
    if not query:
        return []
    digits = query.replace(" ", "")
    prefix = fold(query)
    if not digits.isdigit() and len(prefix) < 2:
        return []
    if _imported():
        from django.db.models import F, Q

        from .models import MedicinePresentation

        rows = MedicinePresentation.objects.all()
        if digits.isdigit():
            rows = rows.filter(Q(cip13=digits) | Q(cip7=digits) | Q(cis=digits)).order_by(
                F("withdrawn_at").asc(nulls_first=True), "name_folded", "cip13")
        else:
            rows = rows.filter(name_folded__startswith=prefix[:NAME_FOLDED_MAX], withdrawn_at__isnull=True).order_by(
                "name_folded", "cip13")
        return [_medicine(row) for row in rows[:limit]]
    if digits.isdigit():
        return [m for m in _table() if digits in (m.cip13, m.cip7, m.cis)][:limit]
    return [m for m in _table() if fold(m.name).startswith(prefix)][:limit]


def by_cip13(code: str) -> Medicine | None:
    if _imported():
        from .models import MedicinePresentation

        row = MedicinePresentation.objects.filter(cip13=code).first()
        return _medicine(row) if row else None
    return next((m for m in _table() if m.cip13 == code), None)


def parse_datamatrix(text: str) -> str:
    """The CIP13 inside a GS1 DataMatrix read from a box: AI (01) + GTIN-14 '0' + CIP13."""
    text = (text or "").strip()
    if text.startswith("01") and len(text) >= 16 and text[2:16].isdigit():
        return text[3:16]
    return text


# --- Loading the BDPM (carnet import_medicines) ---------------------------------------------------------------

NAME_FOLDED_MAX = 200  # MedicinePresentation.name_folded
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # the official files were Windows-1252 for years, UTF-8 lately
CIS_MIN_COLUMNS = 2  # CIS_bdpm.txt: 1 CIS, 2 dénomination, 3 forme, 4 voies, 5 statut de l'AMM, ... (12 columns)
CIP_MIN_COLUMNS = 7  # CIS_CIP_bdpm.txt: 1 CIS, 2 CIP7, 3 libellé, 4 statut, 5 commercialisation, 6 date, 7 CIP13, ...

class BdpmFileError(Exception):
    """A file that cannot be imported at all: nothing was changed."""


@dataclass
class BdpmReport:
    specialities: int = 0
    presentations: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: int = 0
    encodings: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        encodings = ", ".join(f"{name} en {encoding}" for name, encoding in self.encodings.items())
        return (f"spécialités : {self.specialities}, présentations : {self.presentations} "
                f"(créées : {self.created}, mises à jour : {self.updated}, inchangées : {self.unchanged}, "
                f"retirées : {self.withdrawn}), lignes rejetées : {self.rejected} ({encodings})")


def cip13_is_valid(code: str) -> bool:
    """13 digits whose last one is the EAN-13 check digit of the first twelve."""
    return len(code) == 13 and code.isdigit() and ean.is_valid(code)


def read_bdpm_file(path: str | Path) -> tuple[list[str], str]:
    """The lines of a BDPM file (UTF-8, or Windows-1252 as the older downloads) and the encoding used."""
    raw = Path(path).read_bytes()
    if b"\0" in raw:
        raise BdpmFileError(f"{Path(path).name} : fichier binaire, pas un fichier texte de la BDPM")
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        lines = text.split("\n")
        return [line.rstrip("\r") for line in lines], encoding.removesuffix("-sig")
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _cells(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, [cell.strip() for cell in line.split("\t")]


def _is_cis(value: str) -> bool:
    return len(value) == 8 and value.isdigit()


def parse_specialities(lines: list[str], reject: Callable[[int, str], None]) -> dict[str, dict[str, str]]:
    """CIS_bdpm.txt: the specialities by CIS code."""
    specialities: dict[str, dict[str, str]] = {}
    for number, cells in _cells(lines):
        cells += [""] * (5 - len(cells))
        cis, name, form, routes, authorisation = cells[:5]
        if not _is_cis(cis):
            reject(number, f"code CIS invalide en colonne 1 (8 chiffres attendus) : {cis[:20]!r}")
        elif not name or name.isdigit():
            reject(number, "dénomination absente en colonne 2 (est-ce bien CIS_bdpm.txt ?)")
        elif cis in specialities:
            reject(number, f"CIS {cis} déjà vu plus haut dans le fichier")
        else:
            specialities[cis] = {"name": name, "name_folded": fold(name)[:NAME_FOLDED_MAX], "form": form,
                                 "routes": routes, "authorisation_status": authorisation[:100]}
    return specialities


def parse_presentations(lines: list[str], specialities: dict[str, dict[str, str]],
                        reject: Callable[[int, str], None]) -> tuple[dict[str, dict[str, str]], set[str]]:
    """CIS_CIP_bdpm.txt: the presentations by CIP13, and the well-formed CIP13 and CIP7 codes of the rejected
    lines (their rows are left as they were: a typo in a check digit does not withdraw the presentation)."""
    presentations: dict[str, dict[str, str]] = {}
    untouched: set[str] = set()
    for number, cells in _cells(lines):
        if len(cells) < CIP_MIN_COLUMNS:
            reject(number, f"{len(cells)} colonne(s), {CIP_MIN_COLUMNS} au moins attendues (CIS ... CIP13)")
            continue
        cis, cip7, label, status, marketing, _date, cip13 = cells[:7]
        error = ""
        if not _is_cis(cis):
            error = f"code CIS invalide en colonne 1 (8 chiffres attendus) : {cis[:20]!r}"
        elif cip7 and not (len(cip7) == 7 and cip7.isdigit()):
            error = f"code CIP7 invalide en colonne 2 (7 chiffres attendus) : {cip7[:20]!r}"
        elif not (len(cip13) == 13 and cip13.isdigit()):
            error = f"code CIP13 invalide en colonne 7 (13 chiffres attendus) : {cip13[:20]!r}"
        elif not cip13_is_valid(cip13):
            error = f"CIP13 {cip13} : clé de contrôle fausse"
        elif not label:
            error = "libellé de la présentation absent en colonne 3"
        elif cis not in specialities:
            error = f"CIS {cis} absent de CIS_bdpm.txt (ou refusé)"
        elif cip13 in presentations:
            error = f"CIP13 {cip13} déjà vu plus haut dans le fichier"
        if error:
            reject(number, error)
            untouched.update(code for code in (cip13, cip7) if code.isdigit() and len(code) in (7, 13))
            continue
        presentations[cip13] = {"cip7": cip7, "cis": cis, **specialities[cis], "presentation": label,
                                "presentation_status": status[:100], "marketing_status": marketing[:200]}
    return presentations, untouched


def import_bdpm(cis_path: str | Path, cip_path: str | Path,
                on_error: Callable[[str, int, str], None] | None = None, batch_size: int = 2000) -> BdpmReport:
    """Load CIS_bdpm.txt + CIS_CIP_bdpm.txt into MedicinePresentation, in one transaction; idempotent.

    One row per CIP13: new ones are created, changed ones updated, those no longer in the files get
    `withdrawn_at` (and lose it if they come back). A rejected line is reported (file, line, reason) and the
    rows of its CIP13 or CIP7, if any, are left as they were. Files with no valid presentation are refused
    (BdpmFileError).
    """
    from .models import MedicinePresentation

    report = BdpmReport()

    def rejecter(name: str) -> Callable[[int, str], None]:
        def reject(line: int, reason: str) -> None:
            report.rejected += 1
            if on_error:
                on_error(name, line, reason)
        return reject

    cis_lines, report.encodings[Path(cis_path).name] = read_bdpm_file(cis_path)
    cip_lines, report.encodings[Path(cip_path).name] = read_bdpm_file(cip_path)
    specialities = parse_specialities(cis_lines, rejecter(Path(cis_path).name))
    presentations, untouched = parse_presentations(cip_lines, specialities, rejecter(Path(cip_path).name))
    if not presentations:
        raise BdpmFileError("aucune présentation valable : vérifiez l'ordre des fichiers (CIS_bdpm.txt puis "
                            "CIS_CIP_bdpm.txt) ; rien n'a été modifié")
    report.specialities, report.presentations = len(specialities), len(presentations)
    now = timezone.now()
    with transaction.atomic():
        existing = {row.cip13: row for row in MedicinePresentation.objects.select_for_update()}
        created, updated = [], []
        for cip13, values in presentations.items():
            row = existing.get(cip13)
            if row is None:
                created.append(MedicinePresentation(cip13=cip13, updated_at=now, **values))
            elif row.withdrawn_at is not None or any(getattr(row, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                row.withdrawn_at, row.updated_at = None, now
                updated.append(row)
        gone = [row.pk for cip13, row in existing.items() if cip13 not in presentations and row.withdrawn_at is None
                and cip13 not in untouched and row.cip7 not in untouched]
        # A changed row is deleted and inserted again under the same id (nothing points at this table): Django's
        # bulk_update takes minutes on a monthly file where every label changed, this takes seconds.
        for start in range(0, len(updated), batch_size):
            MedicinePresentation.objects.filter(pk__in=[row.pk for row in updated[start:start + batch_size]]).delete()
        MedicinePresentation.objects.bulk_create(created + updated, batch_size=batch_size)
        for start in range(0, len(gone), batch_size):
            MedicinePresentation.objects.filter(pk__in=gone[start:start + batch_size]).update(
                withdrawn_at=now, updated_at=now)
    report.created, report.updated, report.withdrawn = len(created), len(updated), len(gone)
    report.unchanged = len(presentations) - len(created) - len(updated)
    return report
