"""The WHO height and BMI tables (data/growth/): literal LMS points read in the public source files.

Sources: github.com/ewheeler/pygrowup @7ce09543b7584cff3cc8c9959d2c1e5c2acf7986,
pygrowup/tables/by_month/src/{lhfa,bmi}_*_zscores.txt (WHO 2006, 0–5 years), and
pygrowup/tables/source/who/{hfa,bmi}_girls_z_WHO2007_exp.txt (WHO 2007, 5–19 years); see data/growth/README.md.
"""

import datetime as dt

import pytest

from carnet.medical import growth


@pytest.mark.parametrize(("kind", "sex", "month", "lms"), [
    ("height", "M", 12, (1, 75.7488, 0.03137)),     # lhfa_boys_0_2_zscores.txt (length)
    ("height", "M", 24, (1, 87.1161, 0.03507)),     # lhfa_boys_2_5_zscores.txt (standing height from 24 months)
    ("height", "F", 36, (1, 95.0515, 0.04006)),     # lhfa_girls_2_5_zscores.txt
    ("height", "F", 120, (1, 138.6363, 0.04614)),   # hfa_girls_z_WHO2007_exp.txt
    ("bmi", "F", 12, (-0.3667, 16.3568, 0.08797)),  # bmi_girls_0_2_zscores.txt
    ("bmi", "M", 36, (-0.3101, 15.5988, 0.07931)),  # bmi_boys_2_5_zscores.txt
    ("bmi", "F", 228, (-0.7496, 21.4269, 0.14441)),  # bmi_girls_z_WHO2007_exp.txt (19 years)
])
def test_a_known_lms_point(kind, sex, month, lms):
    assert growth.lms_at(kind, sex, month) == pytest.approx(lms)
    assert growth.percentile(lms[1], kind, sex, month) == pytest.approx(50, abs=0.01)


@pytest.mark.parametrize(("kind", "sex", "month", "z", "expected"), [
    ("height", "M", 36, 2, 103.5),   # lhfa_boys_2_5: SD2 column at 36 months
    ("height", "F", 60, -2, 99.9),   # lhfa_girls_2_5: SD2neg column at 60 months
    ("bmi", "F", 12, -2, 13.8),      # bmi_girls_0_2: SD2neg column at 12 months
    ("bmi", "M", 60, 3, 20.3),       # bmi_boys_2_5: SD3 column at 60 months
    ("height", "F", 61, 2, 119.148),  # hfa_girls_z_WHO2007_exp: SD2 column at 61 months
])
def test_the_sd_curves_of_the_who_tables(kind, sex, month, z, expected):
    assert growth.value_at(z, growth.lms_at(kind, sex, month)) == pytest.approx(expected, abs=0.05)


def test_the_tables_span_the_who_ages():
    for sex in ("M", "F"):
        assert growth.table("height", sex)["rows"][-1][0] == 228
        assert growth.table("bmi", sex)["rows"][-1][0] == 228
        assert growth.table("weight", sex)["rows"][-1][0] == 120
        months = [row[0] for row in growth.table("height", sex)["rows"]]
        assert months == list(range(229))
    assert "pas les courbes françaises" in growth.table("height", "M")["source"]


def test_height_and_bmi_charts_are_drawn_for_an_older_child():
    birth = dt.date(2014, 3, 1)
    heights = [(dt.date(2020, 3, 1), 116.0), (dt.date(2024, 3, 1), 138.5)]
    chart = growth.growth_chart("height", "F", birth, heights)
    assert "Courbe de croissance : Taille" in chart["svg"]
    assert [r["value"] for r in chart["rows"]] == [116.0, 138.5]
    assert chart["rows"][1]["percentile"] == pytest.approx(50, abs=5)
    bmi = growth.growth_chart("bmi", "M", birth, [(dt.date(2022, 3, 1), 16.0)])
    assert "IMC" in bmi["svg"] and bmi["rows"][0]["age_months"] == pytest.approx(96, abs=0.5)
