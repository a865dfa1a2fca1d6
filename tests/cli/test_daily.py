import pytest
from django.core.management import CommandError, call_command

from carnet.cli.daily import DAILY_JOBS

pytestmark = pytest.mark.django_db


def test_daily_runs_every_job_as_of_the_given_date(capsys):
    call_command("daily", "--date", "2027-03-01")
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(DAILY_JOBS)
    assert all(line.startswith("2027-03-01 ") for line in out)


def test_daily_rejects_a_bad_date():
    with pytest.raises(CommandError, match="AAAA-MM-JJ"):
        call_command("daily", "--date", "01/03/2027")
