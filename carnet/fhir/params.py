"""Search parameters: parsing (dates with prefixes, tokens, paging, strict or lenient handling) and
the searchset Bundle with its paging links.

Strict handling is the default (FHIR R4 §3.1.1.5.2 lets the server choose): a parameter the resource
does not support is a 400 naming it, because silently ignoring a filter would return more of a
person's record than the client asked for. `Prefer: handling=lenient` ignores it instead, and the
Bundle then carries an OperationOutcome entry saying which parameters were ignored.
"""

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from .http import FhirError, outcome

DEFAULT_COUNT = 50
MAX_COUNT = 200
# Parameters about the answer rather than the match (FHIR "result parameters" and `_format`).
CONTROL = {"_count", "_page", "_format", "_pretty"}
DATE = re.compile(
    r"^(?P<prefix>[a-z]{2})?(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?P<fraction>\.\d{1,6})?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
PREFIXES = {"eq", "ne", "gt", "lt", "ge", "le"}


def bad_value(name: str, why: str = "") -> FhirError:
    message = _("Valeur non valide pour le paramètre « %(name)s ».") % {"name": name}
    return FhirError(400, "invalid", f"{message} {why}".strip(), expression=name)


@dataclass(frozen=True)
class DateRange:
    """A searched date: its prefix and the range its precision implies, `low` included, `high` excluded
    (`2024` is all of 2024 in the server's time zone, Europe/Paris, when no offset is given)."""

    prefix: str
    low: dt.datetime
    high: dt.datetime

    def q(self, column: str) -> Q:
        """The match on a column holding instants (a point in time: a zero-width target range)."""
        low, high = {f"{column}__gte": self.low}, {f"{column}__lt": self.high}
        inside = Q(**low) & Q(**high)
        return {
            "eq": inside,
            "ne": Q(**{f"{column}__isnull": False}) & ~inside,
            "gt": Q(**{f"{column}__gte": self.high}),
            "lt": Q(**{f"{column}__lt": self.low}),
            "ge": Q(**low),
            "le": Q(**high),
        }[self.prefix]

    def matches(self, low: dt.datetime, high: dt.datetime) -> bool:
        """The FHIR rules for a target that is itself a range (a partial date, a Period): `eq` when the
        search range contains it, `gt` when some of it lies after the search range, and so on."""
        contained = self.low <= low and high <= self.high
        return {
            "eq": contained,
            "ne": not contained,
            "gt": high > self.high,
            "lt": low < self.low,
            "ge": high > self.high or contained,
            "le": low < self.low or contained,
        }[self.prefix]


def parse_date(name: str, raw: str) -> DateRange:
    match = DATE.match(raw.strip().replace(" ", "+"))  # an unencoded '+' of an offset arrives as a space
    if not match:
        raise bad_value(name, _("Format attendu : [ge|le|gt|lt|eq|ne]AAAA[-MM[-JJ[Thh:mm[:ss][Z|±hh:mm]]]]."))
    parts = match.groupdict()
    prefix = parts["prefix"] or "eq"
    if prefix not in PREFIXES:
        raise bad_value(name, _("Préfixe non pris en charge : %(prefix)s.") % {"prefix": prefix})
    year, month, day = int(parts["year"]), int(parts["month"] or 1), int(parts["day"] or 1)
    hour, minute = int(parts["hour"] or 0), int(parts["minute"] or 0)
    second = int(parts["second"] or 0)
    micro = int((parts["fraction"] or ".0")[1:].ljust(6, "0"))
    try:
        start = dt.datetime(year, month, day, hour, minute, second, micro)  # the zone is set below
    except ValueError:
        raise bad_value(name, _("Cette date n'existe pas.")) from None
    if parts["tz"]:
        offset = dt.timedelta(0) if parts["tz"] == "Z" else _offset(parts["tz"])
        start = start.replace(tzinfo=dt.timezone(offset))
    else:
        start = timezone.make_aware(start)
    if parts["fraction"]:
        end = start + dt.timedelta(microseconds=1)
    elif parts["second"]:
        end = start + dt.timedelta(seconds=1)
    elif parts["minute"]:
        end = start + dt.timedelta(minutes=1)
    elif parts["day"]:
        end = start + dt.timedelta(days=1)  # wall-clock arithmetic: next midnight even across DST
    elif parts["month"]:
        end = start.replace(year=year + month // 12, month=month % 12 + 1)
    else:
        end = start.replace(year=year + 1)
    return DateRange(prefix, start, end)


def _offset(value: str) -> dt.timedelta:
    sign = -1 if value[0] == "-" else 1
    return sign * dt.timedelta(hours=int(value[1:3]), minutes=int(value[4:6]))



@dataclass(frozen=True)
class Token:
    """`code`, `system|code`, `|code` (no system) or `system|` (any code of the system)."""

    system: str | None
    code: str

    @classmethod
    def parse(cls, raw: str) -> "Token":
        if "|" in raw:
            system, code = raw.split("|", 1)
            return cls(system, code)
        return cls(None, raw)

    def matches(self, system: str | None, code: str | None) -> bool:
        if self.system is not None and (system or "") != self.system:
            return False
        return not self.code or self.code == code


def split_or(raw: str) -> list[str]:
    """A comma means OR; `\\,` is a literal comma inside a value."""
    return [part.replace("\\,", ",") for part in re.split(r"(?<!\\),", raw) if part]


def parse_uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


@dataclass
class Search:
    """A parsed search: the filters the resource supports (name -> each occurrence, AND between them;
    commas inside one occurrence mean OR), the page asked for, what was ignored."""

    resource_type: str
    params: dict[str, list[str]] = field(default_factory=dict)
    count: int = DEFAULT_COUNT
    page: int = 1
    ignored: list[str] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)  # OperationOutcomes a handler adds (mode outcome)
    format: str = ""
    pretty: bool = False

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.count

    def dates(self, name: str) -> list[DateRange]:
        return [parse_date(name, value) for value in self.params.get(name, [])]

    def tokens(self, name: str) -> list[list[Token]]:
        """For each occurrence (AND), the alternatives (OR)."""
        return [[Token.parse(part) for part in split_or(value)] for value in self.params.get(name, [])]


def lenient(request: HttpRequest) -> bool:
    prefer = request.headers.get("Prefer", "")
    return any(part.strip().lower() == "handling=lenient" for part in prefer.split(","))


def _positive(name: str, raw: str, minimum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise bad_value(name, _("Un nombre entier est attendu.")) from None
    if value < minimum:
        raise bad_value(name, _("Le minimum est %(min)s.") % {"min": minimum})
    return value


def parse_search(request: HttpRequest, resource_type: str, supported: set[str], params: QueryDict | None = None
                 ) -> Search:
    """The search asked in the query string, or in `params` (a POST `_search`: query string and form body)."""
    search = Search(resource_type)
    is_lenient = lenient(request)
    params = request.GET if params is None else params
    for name in params:
        values = [v for v in params.getlist(name) if v.strip()]
        if name in CONTROL:
            value = values[-1] if values else ""
            if name == "_count" and value:
                search.count = min(_positive(name, value, 0), MAX_COUNT)
            elif name == "_page" and value:
                search.page = _positive(name, value, 1)
            elif name == "_format":
                search.format = value
            elif name == "_pretty":
                search.pretty = value == "true"
        elif name in supported:
            if values:  # an empty parameter is ignored (FHIR R4 §3.1.1.5)
                search.params[name] = values
        elif is_lenient:
            search.ignored.append(name)
        else:
            raise FhirError(400, "not-supported", _("Paramètre de recherche non pris en charge : %(name)s.")
                            % {"name": name}, expression=name)
    return search


def searchset(search: Search, base: str, total: int, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The searchset Bundle: `total`, one entry per resource (`fullUrl` absolute), self/first/previous/next/last
    links carrying only the parameters that were applied."""
    def link(relation: str, page: int) -> dict[str, str]:
        query: list[tuple[str, str]] = [(n, v) for n, values in search.params.items() for v in values]
        query += [("_count", str(search.count)), ("_page", str(page))]
        if search.format:
            query.append(("_format", search.format))
        return {"relation": relation, "url": f"{base}{search.resource_type}?{urlencode(query)}"}

    last = max(1, -(-total // search.count)) if search.count else 1
    links = [link("self", search.page), link("first", 1)]
    if search.page > 1:
        links.append(link("previous", min(search.page - 1, last)))
    if search.count and search.page < last:
        links.append(link("next", search.page + 1))
    links.append(link("last", last))
    entries: list[dict[str, Any]] = [
        {"fullUrl": f"{base}{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
        for r in resources
    ]
    entries += [{"resource": note, "search": {"mode": "outcome"}} for note in search.notes]
    if search.ignored:
        warning = outcome("not-supported", _("Paramètres ignorés : %(names)s.") % {"names": ", ".join(search.ignored)},
                          severity="warning")
        entries.append({"resource": warning, "search": {"mode": "outcome"}})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle", "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant(timezone.now())},
        "type": "searchset", "total": total, "link": links,
    }
    if entries:
        bundle["entry"] = entries
    return bundle


def instant(value: dt.datetime) -> str:
    """A FHIR instant: always with seconds and a zone (UTC, as stored)."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
