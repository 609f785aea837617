"""The query parameters /items and /items/{id} take, checked before pygeoapi reads them (and declared in our
OpenAPI document by sdi/ogcapi/adapter.py).

OGC API – Features Part 1 requires a 400 for a parameter the API does not define (/req/core/query-param-unknown)
and for an invalid value (/req/core/query-param-invalid). pygeoapi 0.24 ignores unknown names (a mistyped
filter returned every feature), reads `limit=true` as a limit of True, `skipGeometry=maybe` as false and
`resulttype=bogus` as results, hands NaN or infinite bbox numbers to the database (500s), and checks
`datetime` only on collections with a time field (elsewhere `datetime=not-a-date` answered 200).
Queryable property names are parameters too ("queryables as query parameters", Part 3).
"""
import math
import re
from datetime import date, datetime

from django.http import QueryDict

# What the clients we support send (QGIS, GDAL's OAPIF driver, browsers on our HTML pages) is all in here.
ITEMS_PARAMETERS = frozenset({
    "f", "lang", "crs", "bbox", "bbox-crs", "datetime", "limit", "offset", "cursor", "resulttype",
    "properties", "skipGeometry", "sortby", "filter", "filter-lang", "filter-crs",
})
ITEM_PARAMETERS = frozenset({"f", "lang", "crs"})
INTEGER = re.compile(r"[+-]?[0-9]+")


def items_problem(params: QueryDict, api, collection_id: str) -> str | None:
    """Why an /items query string is refused, or None. An unknown collection is left to pygeoapi (404)."""
    resource = api.config["resources"].get(collection_id)
    if resource is None:
        return None
    allowed = ITEMS_PARAMETERS | set(queryables(resource))
    if problem := unknown_problem(params, allowed, "a queryable property of this collection"):
        return problem
    for name, check in VALUE_CHECKS.items():
        for value in params.getlist(name):
            if problem := check(value):
                return problem
    return None


def item_problem(params: QueryDict) -> str | None:
    return unknown_problem(params, ITEM_PARAMETERS, None)


def queryables(resource: dict) -> list[str]:
    """The property names of a collection's feature provider (what /queryables lists)."""
    provider = next((p for p in resource.get("providers", []) if p.get("type") == "feature"), {})
    return list(provider.get("fields") or {})


def unknown_problem(params: QueryDict, allowed: set, also: str | None) -> str | None:
    unknown = sorted(name for name in params if name not in allowed)
    if not unknown:
        return None
    names = ", ".join(repr(name[:80]) for name in unknown[:5])
    known = ", ".join(sorted(ITEMS_PARAMETERS if also else allowed))
    return (f"unknown query parameter{'s' if len(unknown) > 1 else ''} {names}; this operation takes {known}"
            + (f" or {also}" if also else ""))


def integer(value: str) -> str | None:
    """pygeoapi reads `limit=true` as True, which passes its own integer check; the range it checks itself."""
    if not INTEGER.fullmatch(value.strip()):
        return f"limit value should be an integer, not {value[:40]!r}"
    return None


def finite_numbers(value: str) -> str | None:
    """pygeoapi checks the count and order of the numbers, but lets NaN and infinity through to the database."""
    for part in value.split(","):
        try:
            if not math.isfinite(float(part)):
                return f"bbox values must be finite numbers, not {part[:40]!r}"
        except ValueError:
            return None  # pygeoapi's own 400 says so
    return None


def instant_or_interval(value: str) -> str | None:
    """RFC 3339 date-time or date, or an interval `start/end` whose open ends are `..` or empty. Malformed is
    malformed whatever the collection (pygeoapi checks the value only where a time field is configured)."""
    ends = value.split("/")
    if len(ends) <= 2 and all(_instant(end) or (len(ends) == 2 and end in ("", "..")) for end in ends):
        return None
    return (f"datetime should be an RFC 3339 date-time or date, or an interval start/end ('..' for an open end), "
            f"not {value[:60]!r}")


def _instant(text: str) -> bool:
    for parse in (datetime.fromisoformat, date.fromisoformat):
        try:
            parse(text)
            return True
        except ValueError:
            pass
    return False


def one_of(name: str, *choices: str, ignore_case: bool = False):
    def check(value: str) -> str | None:
        if (value.lower() if ignore_case else value) not in choices:
            return f"{name} should be one of {', '.join(choices)}, not {value[:40]!r}"
        return None
    return check


VALUE_CHECKS = {  # only what pygeoapi 0.24 gets wrong; it checks the rest
    "limit": integer,
    "bbox": finite_numbers,
    "skipGeometry": one_of("skipGeometry", "true", "false", ignore_case=True),
    "resulttype": one_of("resulttype", "results", "hits"),
    "datetime": instant_or_interval,
}

