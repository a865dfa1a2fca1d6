"""Dates as the law counts them: birthdays, ages, Europe/Paris calendar days."""

import datetime as dt

from django.utils import timezone


def today() -> dt.date:
    """Today's date in Europe/Paris (TIME_ZONE), which is what the rules count in."""
    return timezone.localdate()


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later; 29 February becomes 1 March in non-leap years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, month=3, day=1)


def age_on(birth_date: dt.date, on: dt.date) -> int:
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight of a Paris calendar day, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
