"""Professions (TRE_G15) and spécialités ordinales (TRE_R38) as data, and the identifier checks of the directory.

The tables are data/professions.json and data/specialties.json, derived from the ANS value set JDV_J01 by
data/build_professions.py (source file and commit recorded in each file; data/README.md says what is left out).
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from stdnum import luhn

DATA = Path(__file__).parent / "data"
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"  # national professional identifiers (IDNPS): "8" + RPPS
FINESS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"

_RPPS = re.compile(r"[0-9]{11}")
# FINESS numbers start with the département: two digits, or 2A/2B for Corsica.
_FINESS = re.compile(r"(?:[0-9]{2}|2A|2B)[0-9]{7}")


@dataclass(frozen=True)
class Code:
    code: str
    label: str
    profession: str = ""  # for a specialty: the TRE_G15 profession it belongs to


@cache
def _table(name: str) -> dict[str, Code]:
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    return {c["code"]: Code(c["code"], c["label"], c.get("profession", "")) for c in data["concepts"]}


def professions() -> dict[str, Code]:
    return _table("professions.json")


def specialties() -> dict[str, Code]:
    return _table("specialties.json")


def profession_label(code: str) -> str:
    """The TRE_G15 label ("Médecin", "Sage-Femme"...), or the code itself when unknown."""
    known = professions().get(code)
    return known.label if known else code


def specialty_label(code: str) -> str:
    """The TRE_R38 label ("Médecine générale (SM)"...), "" for no specialty, the code itself when unknown."""
    if not code:
        return ""
    known = specialties().get(code)
    return known.label if known else code


def is_profession(code: str) -> bool:
    return code in professions()


def specialty_problem(profession: str, specialty: str) -> str:
    """Why `specialty` cannot go with `profession` ("" when it can, or when there is none)."""
    if not specialty:
        return ""
    known = specialties().get(specialty)
    if known is None:
        return f"code de spécialité inconnu (TRE_R38) : {specialty[:20]!r}"
    if known.profession != profession:
        return (f"la spécialité {specialty} ({known.label}) relève de la profession {known.profession}, "
                f"pas de {profession}")
    return ""


def rpps_is_valid(value: str) -> bool:
    """11 digits whose last is a Luhn key over the first ten (ANS: "11 caractères numériques, le dernier étant
    la clé de Luhn")."""
    return bool(_RPPS.fullmatch(value)) and luhn.is_valid(value)


def with_luhn_key(first_ten: str) -> str:
    """An RPPS number from its first ten digits (fictitious numbers for demos and tests)."""
    return first_ten + luhn.calc_check_digit(first_ten)


def finess_is_valid(value: str) -> bool:
    """9 characters, département first (2A/2B allowed); no key is checked (see data/README.md)."""
    return bool(_FINESS.fullmatch(value))
