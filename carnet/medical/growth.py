"""Children's growth curves: LMS reference tables, z-scores and percentiles (Cole & Green's LMS
method), and the chart of a child's values over the reference percentiles.

The French references (AFPA–CRESS/Inserm 2018, with IOTF thresholds for BMI) could not be obtained
as data while building this; the shipped tables are the WHO Child Growth Standards (0–5 years) and
WHO Growth Reference 2007 (5–19 years), which are public. data/growth/README.md says exactly which
files, from where, and what replacing them with the French tables requires (same file format).
"""

import datetime as dt
import json
import math
from functools import cache
from pathlib import Path
from statistics import NormalDist

from django.utils.translation import gettext as _

from . import charts

DATA = Path(__file__).parent / "data" / "growth"
PERCENTILES = (3, 10, 25, 50, 75, 90, 97)
DAYS_PER_MONTH = 30.4375  # as the WHO tables count
LABELS = {"weight": _("Poids"), "height": _("Taille"), "bmi": _("IMC"), "head": _("Périmètre crânien")}


class NoReference(Exception):
    """No reference table for this measure, sex or age."""


@cache
def table(kind: str, sex: str) -> dict:
    path = DATA / f"{kind}_{sex}.json"
    if not path.exists():
        raise NoReference(kind)
    return json.loads(path.read_text(encoding="utf-8"))


def age_in_months(birth: dt.date, on: dt.date) -> float:
    return (on - birth).days / DAYS_PER_MONTH


def lms_at(kind: str, sex: str, months: float) -> tuple[float, float, float]:
    rows = table(kind, sex)["rows"]
    if not rows[0][0] <= months <= rows[-1][0]:
        raise NoReference(kind)
    for (a0, l0, m0, s0), (a1, l1, m1, s1) in zip(rows, rows[1:], strict=False):
        if a0 <= months <= a1:
            t = 0.0 if a1 == a0 else (months - a0) / (a1 - a0)
            return l0 + t * (l1 - l0), m0 + t * (m1 - m0), s0 + t * (s1 - s0)
    last = rows[-1]
    return last[1], last[2], last[3]


def z_score(value: float, lms: tuple[float, float, float]) -> float:
    lam, mu, sigma = lms
    if abs(lam) < 1e-9:
        return math.log(value / mu) / sigma
    return ((value / mu) ** lam - 1) / (lam * sigma)


def value_at(z: float, lms: tuple[float, float, float]) -> float:
    lam, mu, sigma = lms
    if abs(lam) < 1e-9:
        return mu * math.exp(sigma * z)
    return mu * (1 + lam * sigma * z) ** (1 / lam)


def percentile(value: float, kind: str, sex: str, months: float) -> float:
    """The percentile (0–100) of `value` for a child of `sex` aged `months`."""
    return NormalDist().cdf(z_score(value, lms_at(kind, sex, months))) * 100


def growth_chart(kind: str, sex: str, birth: dt.date, values: list[tuple[dt.date, float]]) -> dict | None:
    """SVG of the reference percentiles over the child's age span, with the child's values."""
    ref = table(kind, sex)
    first_age, last_age = ref["rows"][0][0], ref["rows"][-1][0]
    ages = [age_in_months(birth, day) for day, _v in values]
    today_age = age_in_months(birth, dt.date.today())
    end = min(last_age, max([today_age, *ages, 12.0]) * 1.1)
    start = first_age
    if end <= start:
        return None
    steps = 40
    grid = [start + (end - start) * i / steps for i in range(steps + 1)]
    series = []
    for p in PERCENTILES:
        z = NormalDist().inv_cdf(p / 100)
        series.append(charts.Series(f"P{p}", [(a, value_at(z, lms_at(kind, sex, a))) for a in grid],
                                    colour=charts.GREY, dashed=p != 50, markers=False))
    rows = []
    child = []
    for (day, value), age in zip(values, ages, strict=True):
        if start <= age <= last_age:
            pct = percentile(value, kind, sex, age)
            rows.append({"date": day, "age_months": round(age, 1), "value": value, "percentile": round(pct, 1)})
            child.append((age, value))
    series.append(charts.Series(_("Mesures de l'enfant"), child, colour=charts.BLUE,
                                labels=[f"{r['date']:%d/%m/%Y} : {r['value']:g} (P{r['percentile']:g})"
                                        for r in rows]))
    tick_step = 3 if end <= 36 else 12 if end <= 120 else 24
    ticks = [(float(m), _("%(n)s mois") % {"n": m} if m < 24 else _("%(n)s ans") % {"n": m // 12})
             for m in range(0, int(end) + 1, tick_step)]
    label = LABELS.get(kind, kind)
    desc = _("Courbes de référence (percentiles 3 à 97) de %(from)s à %(to)s mois, et %(count)s mesures de "
             "l'enfant.") % {"from": round(start), "to": round(end), "count": len(rows)}
    svg = charts.chart(chart_id=f"growth-{kind}", title=_("Courbe de croissance : %(m)s") % {"m": label}, desc=desc,
                       y_label=ref["unit"], series=series, x_ticks=ticks, x_range=(start, end))
    return {"svg": svg, "rows": rows, "source": ref["source"], "percentiles": PERCENTILES}
