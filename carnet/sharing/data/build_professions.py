"""Regenerate professions.json (TRE_G15) and specialties.json (TRE_R38) from the ANS value set (see README.md).

    python carnet/sharing/data/build_professions.py --svs /work/shared/samples/valuesets

Both come from JDV_J01_XdsAuthorSpecialty_CISIS.xml, the CI-SIS "author specialty" value set, whose codes in the
system 1.2.250.1.213.1.1.4.5 are `G15_<profession>` (a TRE_G15 profession) and `G15_<profession>/<code>` (that
profession with one of its qualifications). Only the qualifications labelled "(SM)", "(SCD)" or "(SI)" are
spécialités ordinales (TRE_R38); the others (compétences, capacités, DESC, sections of the pharmacists' order...)
belong to other nomenclatures and are left out. Kept as a plain script (not imported by Carnet).
"""

from __future__ import annotations

import argparse
import json
import re
import xml.etree.ElementTree as ET  # noqa: S405 - trusted, local ANS files only
from pathlib import Path

HERE = Path(__file__).resolve().parent
SVS = "{urn:ihe:iti:svs:2008}"
SOURCE = {"repo": "ansforge/TestContenuCDA-3-0", "folder": "jeuxDeValeurs/",
          "commit": "7cd489b39368809df9bcf2cfef5e5d6354438a02", "file": "JDV_J01_XdsAuthorSpecialty_CISIS.xml"}
AUTHOR_SPECIALTY_SYSTEM = "1.2.250.1.213.1.1.4.5"
_PROFESSION = re.compile(r"G15_(\d{2})")
_SPECIALTY = re.compile(r"G15_(\d{2})/([A-Z]+\d+)")
_ORDINAL = re.compile(r"^(?P<profession>.+?) - (?P<label>.+) \((?P<kind>SM|SCD|SI)\)$")


def derive(path: Path) -> tuple[dict, dict]:
    root = ET.parse(path).getroot()  # noqa: S314 - trusted, local ANS files only
    value_set = root.find(f"{SVS}ValueSet")
    assert value_set is not None, path
    meta = {"value_set": value_set.get("displayName"), "oid": value_set.get("id"),
            "revision": value_set.get("revisionDate"), "source": SOURCE}
    professions, specialties = [], []
    for concept in root.iter(f"{SVS}Concept"):
        if concept.get("codeSystem") != AUTHOR_SPECIALTY_SYSTEM:
            continue
        code, label = concept.get("code") or "", concept.get("displayName") or ""
        if match := _PROFESSION.fullmatch(code):
            professions.append({"code": match[1], "label": label, "source_code": code})
        elif (match := _SPECIALTY.fullmatch(code)) and (ordinal := _ORDINAL.match(label)):
            specialties.append({"code": match[2], "label": f"{ordinal['label']} ({ordinal['kind']})",
                                "profession": match[1], "source_code": code, "source_label": label})
    return ({**meta, "nomenclature": "TRE_G15-ProfessionSante", "concepts": professions},
            {**meta, "nomenclature": "TRE_R38-SpecialiteOrdinale", "concepts": specialties})


def write(name: str, data: dict) -> None:
    previous = json.loads((HERE / name).read_text(encoding="utf-8")) if (HERE / name).exists() else {}
    data = {**{k: v for k, v in previous.items() if k == "notes"}, **data}  # hand-written notes are kept
    with open(HERE / name, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--svs", type=Path, required=True, help="folder with the JDV_*.xml IHE SVS files")
    args = parser.parse_args()
    professions, specialties = derive(args.svs / SOURCE["file"])
    write("professions.json", professions)
    write("specialties.json", specialties)
