"""The French vaccine list (data/vaccines.json): vaccines, the diseases they protect against and
whether the French calendar makes them mandatory or recommended."""

import json
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "vaccines.json"
VACCINE_SYSTEM = "https://carnet.sante.fr/fhir/CodeSystem/vaccine"
DISEASE_SYSTEM = "https://carnet.sante.fr/fhir/CodeSystem/vaccine-target-disease"


@cache
def reference() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def vaccines() -> list[dict]:
    return reference()["vaccines"]


def vaccine(vaccine_id: str) -> dict | None:
    return next((v for v in vaccines() if v["id"] == vaccine_id), None)


def disease_label(code: str) -> str:
    return reference()["diseases"].get(code, {}).get("label", code)


def choices() -> list[tuple[str, str]]:
    return [(v["id"], v["label"]) for v in vaccines()]
