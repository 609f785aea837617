"""A remote OGC API – Features collection, read page by page into one GeoJSON file.

The URL is the collection's (…/collections/{id}). Its items are asked as GeoJSON with a large `limit`, and the
`next` links are followed while they stay on the same server, never twice the same (a loop) and at most
`max_pages` times. Coordinates come in CRS84 unless a `srid` is asked that the collection offers and whose
axes are east/north: then `crs=` asks for it (a latitude-first CRS such as EPSG:4326 would put latitude in
GeoJSON's x, which GDAL would read as longitude). A `numberMatched` that disagrees with the features read
fails the run: the server lost or added features between pages.
"""
import logging
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from layers.crs.identifiers import WGS84_SRID, UnknownCRS, epsg_uri, latitude_first, parse
from layers.sources.remote.collection import FeatureCollectionWriter, page_features
from layers.sources.remote.contract import Downloaded
from layers.sources.remote.http import Fetcher, origin, public_url, with_params

log = logging.getLogger("layers.sources.remote")

ACCEPT_COLLECTION = "application/json"
ACCEPT_ITEMS = "application/geo+json, application/json;q=0.9"
NEXT_TYPES = ("application/geo+json", "application/json", "")  # in order of preference


def download_collection(fetcher: Fetcher, workdir: Path, srid: int | None) -> Downloaded:
    collection_url = _collection_url(fetcher)
    body, media, _ = fetcher.read(with_params(collection_url, {"f": "json"}), ACCEPT_COLLECTION, "collection")
    collection = fetcher.parse_json(body, media, "an OGC API collection (JSON)", "collection")
    if not isinstance(collection, dict) or not isinstance(collection.get("links", []), list) or "id" not in collection:
        raise fetcher.failure("answered JSON that is not an OGC API collection (no id)", "collection")
    crs_params, out_srid = _choose_crs(collection, srid, fetcher.source.label)

    path = workdir / f"{_file_stem(collection['id'])}.geojson"
    items = _items_url(collection_url)
    url = with_params(items, {"f": "json", "limit": fetcher.limits.page_size, **crs_params})
    seen, matched, number = set(), None, 0
    with FeatureCollectionWriter(path) as writer:
        while url:
            number += 1
            where = f"page {number}"
            if number > fetcher.limits.max_pages:
                raise fetcher.failure(f"has more than {fetcher.limits.max_pages} pages (the page limit): its next "
                                      "links may never end", where)
            seen.add(url)
            body, media, headers = fetcher.read(url, ACCEPT_ITEMS, where)
            page = fetcher.parse_json(body, media, "GeoJSON", where)
            features = page_features(page, fetcher.failure, where)
            _check_content_crs(fetcher, headers, crs_params, out_srid, where)
            for feature in features:
                writer.write(feature)
            if number == 1 and isinstance(page.get("numberMatched"), int):
                matched = page["numberMatched"]
            fetcher.progress(writer.count, matched, "features")
            url = _next_url(fetcher, page, url, where)
            if url in seen:
                raise fetcher.failure("its next link points back to a page it already sent (a loop)", where)
    if matched is not None and matched != writer.count:
        raise fetcher.failure(f"said numberMatched {matched} but its pages held {writer.count} features")
    log.info("%s: %d features in %d pages", fetcher.source.label, writer.count, number)
    return Downloaded(path, out_srid, fetcher.source.label, writer.count)


def _collection_url(fetcher: Fetcher) -> str:
    """The source URL as a collection's (an …/items URL is taken back to its collection)."""
    parts = urlsplit(fetcher.source.url)
    path = parts.path.rstrip("/")
    if path.endswith("/items"):
        path = path[: -len("/items")]
    head, _, collection_id = path.rpartition("/")
    if not head.endswith("/collections") or not collection_id:
        raise fetcher.failure("is not the URL of an OGC API collection (…/collections/{id})")
    return urlunsplit(parts._replace(path=path))


def _items_url(collection_url: str) -> str:
    parts = urlsplit(collection_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "f"]
    return urlunsplit(parts._replace(path=parts.path + "/items", query=urlencode(query)))


def _choose_crs(collection: dict, srid: int | None, label: str) -> tuple[dict, int]:
    """The `crs=` parameter to send (none: CRS84) and the SRID of the coordinates that will come."""
    if srid is None or srid == WGS84_SRID:
        return {}, WGS84_SRID
    offered = set()
    for name in [*(collection.get("crs") or []), collection.get("storageCrs")]:
        try:
            crs = parse(name) if isinstance(name, str) else None
        except UnknownCRS:
            continue
        if crs and not crs.crs84:
            offered.add(crs.srid)
    try:
        usable = srid in offered and not latitude_first(srid)
    except UnknownCRS:
        usable = False
    if usable:
        return {"crs": epsg_uri(srid)}, srid
    log.info("%s: EPSG:%d is not offered with east/north axes; reading CRS84", label, srid)
    return {}, WGS84_SRID


def _check_content_crs(fetcher: Fetcher, headers, crs_params: dict, srid: int, where: str) -> None:
    """A `Content-Crs` header must name the CRS asked for (CRS84 when none was asked)."""
    said = (headers.get("Content-Crs") or "").strip().strip("<>")
    if not said:
        return
    try:
        crs = parse(said)
    except UnknownCRS:
        crs = None
    fits = crs is not None and (crs.crs84 if not crs_params else (crs.srid == srid and not crs.crs84))
    if not fits:
        asked = crs_params.get("crs", "CRS84")
        raise fetcher.failure(f"answered in the CRS {said[:100]}, not the {asked} it was asked for", where)


def _next_url(fetcher: Fetcher, page: dict, current: str, where: str) -> str | None:
    """The page's `next` link (GeoJSON first), checked to stay on the source's server, with its parameters."""
    links = [link for link in page.get("links") or [] if isinstance(link, dict) and link.get("rel") == "next"
             and isinstance(link.get("href"), str)]
    for wanted in NEXT_TYPES:
        chosen = next((link for link in links if (link.get("type") or "").lower() == wanted), None)
        if chosen:
            break
    else:
        return None
    target = urljoin(current, chosen["href"])
    if origin(target) != origin(fetcher.source.url):
        host = urlsplit(public_url(target)).netloc or "?"
        raise fetcher.failure(f"its next link leads to another server ({host}); only links on the same server "
                              "are followed", where)
    # Parameters of the source URL (an access key…) that the server's link left out are carried over.
    present = {key.lower() for key, _ in parse_qsl(urlsplit(target).query, keep_blank_values=True)}
    missing = {k: v for k, v in parse_qsl(urlsplit(fetcher.source.url).query, keep_blank_values=True)
               if k.lower() not in present}
    return with_params(target, missing, replace=False) if missing else target


def _file_stem(collection_id) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(collection_id)).strip("._")[:80] or "collection"
