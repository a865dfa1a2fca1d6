"""`carnet dev_token --rpps N`: a professional's bearer token on stdout, in demo mode only."""

import pytest
from django.core.management import CommandError, call_command

from carnet.sharing.demo import demo_rpps, fill_demo_directory
from carnet.sharing.models import ProfessionalToken
from carnet.sharing.tokens import professional_for_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory():
    fill_demo_directory()


@pytest.mark.parametrize("mode", ["CARNET_DEMO", "DEBUG"])
def test_in_demo_mode_it_prints_the_token_alone(settings, capsys, directory, mode):
    settings.CARNET_DEMO, settings.DEBUG = False, False
    setattr(settings, mode, True)

    call_command("dev_token", "--rpps", demo_rpps(1))

    out, err = capsys.readouterr()
    token = out.strip()
    assert out == token + "\n" and err == ""
    assert professional_for_token(token).rpps == demo_rpps(1)
    assert ProfessionalToken.objects.get().token_hash != token


def test_outside_demo_mode_it_is_refused(settings, capsys, directory):
    settings.CARNET_DEMO, settings.DEBUG = False, False
    with pytest.raises(CommandError, match="mode démonstration"):
        call_command("dev_token", "--rpps", demo_rpps(1))
    assert capsys.readouterr().out == ""
    assert not ProfessionalToken.objects.exists()


def test_an_unknown_rpps_is_a_clear_error(settings, capsys, directory):
    settings.CARNET_DEMO = True
    with pytest.raises(CommandError, match="aucun professionnel de RPPS '10107350778'"):
        call_command("dev_token", "--rpps", "10107350778")
    assert capsys.readouterr().out == ""


def test_from_the_command_line_a_refusal_exits_1_with_the_message_on_stderr(settings, capsys, directory):
    from django.core.management import ManagementUtility

    settings.CARNET_DEMO, settings.DEBUG = False, False
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["carnet", "dev_token", "--rpps", demo_rpps(1)]).execute()
    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    assert out == "" and "mode démonstration" in err
