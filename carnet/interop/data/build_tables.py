"""Regenerate the code tables in this folder from the official ANS files (see README.md).

    python carnet/interop/data/build_tables.py --svs /work/shared/samples/valuesets \
        [--conceptmaps DIR_WITH_ANS_JSON_FILES]

`--svs` rebuilds value_sets.json from the IHE SVS files (JDV_J07/J08/J02/J04). `--conceptmaps` re-derives the
maps in type_class.json and format_codes.json from the ANS FHIR files downloaded from
ansforge/ig-terminlogie-de-sante (ig/Bac-à-sable-dan/): the ConceptMaps ASS-X16, ASS-X04, ASS-A11, ASS-A12 and
the ValueSet JDV-J10. Metadata (sources, commits, notes) already in the JSON files is kept.
Kept as a plain script (not imported by Carnet) so the derivation stays reviewable.
"""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET  # noqa: S405 - trusted, local ANS files only
from pathlib import Path

HERE = Path(__file__).resolve().parent
SVS = "{urn:ihe:iti:svs:2008}"
SAMPLES_SOURCE = {"repo": "ansforge/TestContenuCDA-3-0", "folder": "jeuxDeValeurs/",
                  "commit": "7cd489b39368809df9bcf2cfef5e5d6354438a02"}
VALUE_SETS = {
    "J07": "JDV_J07_XdsTypeCode_CISIS.xml",
    "J08": "JDV_J08_XdsConfidentialityCode_CISIS.xml",
    "J02": "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS.xml",
    "J04": "JDV_J04_XdsPracticeSettingCode_CISIS.xml",
}
A10_SYSTEM = {"https://mos.esante.gouv.fr/NOS/TRE_A06-FormatCodeComplementaire/FHIR/TRE-A06-FormatCodeComplementaire":
              "1.2.250.1.213.1.1.4.2.282",
              "https://mos.esante.gouv.fr/NOS/TRE_A11-IheFormatCode/FHIR/TRE-A11-IheFormatCode":
              "1.3.6.1.4.1.19376.1.2.3",
              "https://mos.esante.gouv.fr/NOS/TRE_A09-DICOMuidRegistry/FHIR/TRE-A09-DICOMuidRegistry":
              "1.2.840.10008.2.6.1",
              "https://mos.esante.gouv.fr/NOS/TRE_A10-NomenclatureURN/FHIR/TRE-A10-NomenclatureURN": "URN"}


def read_svs(path: Path) -> dict:
    root = ET.parse(path).getroot()  # noqa: S314 - trusted, local ANS files only
    value_set = root.find(f"{SVS}ValueSet")
    assert value_set is not None, path
    concepts = [{"code": c.get("code"), "system": c.get("codeSystem"), "label": c.get("displayName")}
                for c in root.iter(f"{SVS}Concept")]
    return {"name": path.stem, "oid": value_set.get("id"), "version": value_set.get("dateMaj"),
            "source": dict(SAMPLES_SOURCE, file=path.name), "concepts": concepts}


def build_value_sets(svs_dir: Path) -> None:
    data = {key: read_svs(svs_dir / name) for key, name in VALUE_SETS.items()}
    write("value_sets.json", data)


def concept_map(path: Path) -> dict[str, str]:
    """Source code -> first target code, all groups (ASTM signature group included; callers drop it)."""
    resource = json.loads(path.read_text(encoding="utf-8"))
    return {element["code"]: element["target"][0]["code"]
            for group in resource.get("group", []) for element in group.get("element", []) if element.get("target")}


def build_from_conceptmaps(folder: Path) -> None:
    type_class = load("type_class.json")
    for key, name in (("dmp", "ConceptMap-ASS-X16-CorrespondanceType-Classe-DMP.json"),
                      ("cisis", "ConceptMap-ASS-X04-CorrespondanceType-Classe-CISIS.json")):
        mapping = concept_map(folder / name)
        mapping.pop("E1762", None)  # ASTM signature -> URN, not a class
        type_class[key]["map"] = mapping
    write("type_class.json", type_class)

    formats = load("format_codes.json")
    value_set = json.loads((folder / "ValueSet-JDV-J10-XdsFormatCode-CISIS.json").read_text(encoding="utf-8"))
    formats["j10"]["concepts"] = [
        {"code": c["code"], "system": A10_SYSTEM.get(include["system"], include["system"]), "label": c["display"]}
        for include in value_set["compose"]["include"] for c in include.get("concept", [])]
    by_template = concept_map(folder / "ConceptMap-ASS-A11-CorresModeleCDA-XdsFormatCode-CISIS.json")
    by_template.pop("1.3.6.1.4.1.19376.1.2.20", None)  # non-structured body: decided by media type (A12)
    formats["by_template"]["map"] = by_template
    formats["by_media_type"]["map"] = concept_map(
        folder / "ConceptMap-ASS-A12-CorresMediaTypeCDANonStructure-XdsFormatCode-CISIS.json")
    write("format_codes.json", formats)


def load(name: str) -> dict:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def write(name: str, data: dict) -> None:
    with open(HERE / name, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--svs", type=Path, help="folder with the JDV_*.xml IHE SVS files")
    parser.add_argument("--conceptmaps", type=Path, help="folder with the downloaded ANS FHIR JSON files")
    args = parser.parse_args()
    if args.svs:
        build_value_sets(args.svs)
    if args.conceptmaps:
        build_from_conceptmaps(args.conceptmaps)
