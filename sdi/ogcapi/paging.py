"""The web layer's part of an /items page: the PageHint the provider gets (cursor, format, the client's exact
box) and the page's prev/next links, built from the request URL. The provider reads no URL or query string.

Links: keyset (`cursor=<last id>`) for machine formats in id order, so the last page of a million rows costs the
same as the first; by offset for HTML (pygeoapi's template has prev and next) and for sorted pages. A page that
ends the result has no next link: the provider reads one row past the page to know.
"""
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import HttpRequest
from pygeoapi.provider.base import ProviderInvalidQueryError

from layers.serving.crs_uris import crs_of
from layers.serving.hints import PageEnd, PageHint, RequestedBox
from sdi.ogcapi import bbox
from sdi.ogcapi.adapter import ProviderLinks

MEDIA_TYPES = {"html": "text/html", "jsonld": "application/ld+json", "json": "application/geo+json",
               "csv": "text/csv"}


class BadCursor(ValueError):
    pass


def page_hint(request: HttpRequest, url: str) -> PageHint:
    """`url`: the absolute URL of this request, as its links must show it."""
    try:
        cursor = int(request.GET["cursor"]) if "cursor" in request.GET else None
    except ValueError:
        raise BadCursor("cursor must be the integer id from a next link") from None
    fmt = response_format(request)
    if request.method == "POST":  # a link is a GET: the CQL2 JSON body goes into it as `filter`
        url = with_query(url, {"filter": request.body.decode("utf-8"), "filter-lang": "cql2-json"})
    return PageHint(cursor=cursor, keyset_links=fmt != "html", raw_json=fmt == "json",
                    box=requested_box(request.GET.get("bbox"), request.GET.get("bbox-crs")),
                    links=page_links(url, MEDIA_TYPES.get(fmt, MEDIA_TYPES["json"])))


def response_format(request: HttpRequest) -> str:
    """The `f` pygeoapi will answer in (json is GeoJSON), from `f` or else the Accept header."""
    fmt = request.GET.get("f")
    if fmt is not None:
        return fmt
    accept = request.headers.get("Accept", "")
    return "html" if "text/html" in accept else "jsonld" if "ld+json" in accept else "json"


def page_links(url: str, media_type: str) -> Callable[[PageEnd], list[dict]]:
    def links(end: PageEnd) -> list[dict]:
        result = []
        if end.more:
            position = {"cursor": end.last_id} if end.keyset else {"offset": end.offset + end.limit}
            result.append(link(url, "next", media_type, position))
        if not end.keyset and end.offset > 0:
            result.append(link(url, "prev", media_type, {"offset": max(0, end.offset - end.limit)}))
        return ProviderLinks(result)
    return links


def link(url: str, rel: str, media_type: str, position: dict) -> dict:
    """This request's URL with every parameter kept but the page position."""
    return {"rel": rel, "type": media_type, "title": f"Items ({rel})",
            "href": with_query(url, position, drop=("offset", "cursor"))}


def with_query(url: str, values: dict, drop: tuple = ()) -> str:
    """`url` with `values` set in its query string (replacing any of the same name) and `drop` removed."""
    parts = urlsplit(url)
    removed = {*drop, *values}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in removed]
    query += [(k, str(v)) for k, v in values.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def requested_box(bbox_value: str | None, bbox_crs: str | None) -> RequestedBox | None:
    """The client's box for the provider's exact-box test, from the `bbox` and `bbox-crs` values (EPSG:4326 and
    4756 come latitude first). None when absent or malformed (pygeoapi answers with its 400), or when the box
    reaches where its CRS is undefined (the provider then keeps to the transformed bounds pygeoapi hands it)."""
    try:
        numbers = [float(v) for v in (bbox_value or "").split(",")]
        crs = crs_of(bbox_crs)
    except (ValueError, ProviderInvalidQueryError):
        return None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        return None
    a, b, c, d = numbers
    box = RequestedBox(b, a, d, c, crs.srid) if crs.lat_first else RequestedBox(a, b, c, d, crs.srid)
    return box if bbox.within_area_of_use(box) else None
