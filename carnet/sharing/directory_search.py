"""Search the directory to pick whom to authorise: professionals by name (and profession), care teams and
establishments by name or number.

The directory is reference data, nobody's health data: no policy question here, but only signed-in people
reach the faces that call it, and the words searched travel in POST bodies (what someone looks for may say
something about their health). Results are capped at `LIMIT`, only active professionals are listed.
"""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from . import professions
from .actions import SharingError
from .models import CareTeam, Establishment, Professional

LIMIT = 20
MIN_LENGTH = 2
MAX_LENGTH = 100


def _words(name: str) -> list[str]:
    name = " ".join((name or "").split())
    if len(name) > MAX_LENGTH:
        raise SharingError(_("Saisissez au plus %(count)s caractères.") % {"count": MAX_LENGTH}, field="name",
                           code="too_long")
    if len(name.replace(" ", "")) < MIN_LENGTH:
        raise SharingError(_("Saisissez au moins %(count)s lettres du nom.") % {"count": MIN_LENGTH},
                           field="name", code="too_short")
    return name.replace("-", " ").split()[:5] if not name.isdigit() else [name]


def search_directory(name: str, profession: str = "", *, limit: int = LIMIT) -> list[Professional]:
    """Active professionals whose names start with every word typed (family name or given names, any case), or
    whose RPPS is the number typed; optionally of one profession (TRE_G15 code). At most `limit`, by name."""
    words = _words(name)
    if profession and not professions.is_profession(profession):
        raise SharingError(_("Choisissez une profession de la liste."), field="profession", code="bad_profession")
    rows: QuerySet[Professional] = Professional.objects.filter(active=True)
    if len(words) == 1 and words[0].isdigit():
        rows = rows.filter(rpps=words[0])
    else:
        for word in words:
            rows = rows.filter(Q(family_name__istartswith=word) | Q(given_names__istartswith=word)
                               | Q(family_name__icontains=f" {word}") | Q(family_name__icontains=f"-{word}")
                               | Q(given_names__icontains=f" {word}") | Q(given_names__icontains=f"-{word}"))
    if profession:
        rows = rows.filter(profession_code=profession)
    return list(rows.order_by("family_name", "given_names", "rpps")[:max(1, min(limit, LIMIT))])


def search_care_teams(name: str, *, limit: int = LIMIT) -> list[CareTeam]:
    """Care teams (maisons de santé, équipes de soins) whose name contains every word typed."""
    rows: QuerySet[CareTeam] = CareTeam.objects.select_related("establishment")
    for word in _words(name):
        rows = rows.filter(name__icontains=word)
    return list(rows.order_by("name", "pk")[:max(1, min(limit, LIMIT))])


def search_establishments(name: str, *, limit: int = LIMIT) -> list[Establishment]:
    """Establishments whose name contains every word typed, or whose FINESS number is the one typed."""
    words = _words(name)
    rows: QuerySet[Establishment] = Establishment.objects.all()
    if len(words) == 1 and professions.finess_is_valid(words[0].upper()):
        rows = rows.filter(finess=words[0].upper())
    else:
        for word in words:
            rows = rows.filter(name__icontains=word)
    return list(rows.order_by("name", "finess")[:max(1, min(limit, LIMIT))])
