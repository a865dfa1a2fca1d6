"""Medicine lookup by CIP13 / CIP7 / CIS code or by the start of the name.

The table (data/medicines.tsv) is a small extract derived from the public BDPM (base de données
publique des médicaments, https://base-donnees-publique.medicaments.gouv.fr, files CIS_bdpm.txt and
CIS_CIP_bdpm.txt); data/README.md says which rows and how. The full base is loaded by an operator
job in production; the lookup function does not change.
"""

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

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


def find_medicine(query: str, limit: int = 20) -> list[Medicine]:
    """Presentations whose CIP13, CIP7 or CIS code is `query`, or whose name starts with it."""
    query = (query or "").strip()
    if not query:
        return []
    digits = query.replace(" ", "")
    if digits.isdigit():
        return [m for m in _table() if digits in (m.cip13, m.cip7, m.cis)][:limit]
    prefix = fold(query)
    if len(prefix) < 2:
        return []
    return [m for m in _table() if fold(m.name).startswith(prefix)][:limit]


def by_cip13(code: str) -> Medicine | None:
    return next((m for m in _table() if m.cip13 == code), None)


def parse_datamatrix(text: str) -> str:
    """The CIP13 inside a GS1 DataMatrix read from a box: AI (01) + GTIN-14 '0' + CIP13."""
    text = (text or "").strip()
    if text.startswith("01") and len(text) >= 16 and text[2:16].isdigit():
        return text[3:16]
    return text
