"""Growth percentiles from the LMS tables (WHO 2006 standards shipped; see data/growth/README.md)."""

import datetime as dt

import pytest

from carnet.medical import growth


def test_the_median_of_a_known_lms_point_is_the_50th_percentile():
    # WHO weight-for-age, boys, 12 months: L=0.0644, M=9.6479, S=0.10925.
    assert growth.lms_at("weight", "M", 12) == pytest.approx((0.0644, 9.6479, 0.10925))
    assert growth.percentile(9.6479, "weight", "M", 12) == pytest.approx(50, abs=0.01)


def test_a_value_two_sd_above_is_near_the_98th_percentile():
    lms = growth.lms_at("weight", "F", 6)
    value = growth.value_at(2, lms)
    assert value == pytest.approx(9.3, abs=0.05)  # WHO table SD2 for girls at 6 months
    assert growth.percentile(value, "weight", "F", 6) == pytest.approx(97.72, abs=0.01)


def test_head_circumference_interpolates_between_months():
    low, high = growth.lms_at("head", "F", 3)[1], growth.lms_at("head", "F", 4)[1]
    assert growth.lms_at("head", "F", 3.5)[1] == pytest.approx((low + high) / 2)


def test_the_chart_places_the_child_values():
    birth = dt.date(2024, 1, 1)
    chart = growth.growth_chart("weight", "M", birth, [(dt.date(2025, 1, 1), 9.6)])
    assert 'role="img"' in chart["svg"] and "Courbe de croissance" in chart["svg"]
    assert chart["rows"][0]["percentile"] == pytest.approx(48, abs=3)


def test_no_reference_outside_the_tables():
    with pytest.raises(growth.NoReference):
        growth.lms_at("weight", "M", 130)  # WHO weight-for-age stops at 10 years
    with pytest.raises(growth.NoReference):
        growth.lms_at("head", "M", 61)  # head circumference: 0–5 years only
    with pytest.raises(growth.NoReference):
        growth.table("waist", "M")
