"""items/{id} as GeoJSON in one database statement: pygeoapi's own answer, without its per-request work.

Why (docs/benchmarks.md, issue 9): profiled under load, a single-feature answer spent a third of its time
reading the registry version (Django's connection health check and an ORM query: two round trips) and a
tenth in pygeoapi's get_collection_item (the provider loaded anew, a pyproj CRS built for the default CRS);
the provider's statement then took a pooled connection, checked with one more round trip. Here the
provider's statement for the feature also reads the registry version, in one round trip on Django's
connection (the registry's own: an outage gives the same 503 as every other page), and the API, provider and
CRS spec are taken once per (base URL, collection, registry version).

This is a pygeoapi seam: the answer is the one pygeoapi 0.24's get_collection_item gives for a JSON request,
byte for byte, headers included (the same APIRequest negotiation, header helpers, links and serialiser);
tests/test_item_fast_path.py compares the two. It is taken only where nothing else can change the answer:
GET; anonymous (no Authorization header, no session cookie); JSON by pygeoapi's own format negotiation; no
query parameter but `f`; a digits-only id; a collection that the anonymous API of this base URL publishes
with our PostGIS provider; the feature found; and the registry version unchanged since that API was taken.
Everything else (HTML, JSON-LD, `crs`, `lang`, tokens, sessions, missing features) goes the ordinary way
(views.execute), so access control, errors and their logging keep their one home.
"""
import threading
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
import psycopg
from psycopg.types.numeric import Int8
from pygeoapi import l10n
from pygeoapi.api import API, SYSTEM_LOCALE, APIRequest, apply_gzip
from pygeoapi.crs import create_crs_transform_spec, set_content_crs_header
from pygeoapi.formats import F_HTML, F_JSON, F_JSONLD, FORMAT_TYPES
from pygeoapi.plugin import load_plugin
from pygeoapi.provider import get_provider_by_type
from pygeoapi.provider.base import ProviderGenericError, ProviderTypeError
from pygeoapi.util import to_json
from pyproj.exceptions import CRSError

from layers.registry.services import current_registry_version
from sdi.ogcapi.api_cache import REGISTRY_VERSION_SQL, get_api  # the version: evaluated with the feature here
from sdi.ogcapi.config import database_definition

VARY = ("Authorization", "Cookie", "Accept", "Accept-Language")  # as views.execute
MAX_COLLECTIONS = 64  # (base URL, collection) pairs; least recently used are dropped
MAX_BIGINT = 2**63 - 1  # larger ids are no row of ours; the ordinary path answers 404
NEVER_BY_COUNT = 2**31 - 1  # psycopg prepares a statement after this many runs; ours ask for it explicitly


@dataclass(frozen=True)
class Collection:
    """What pygeoapi would work out on every request for one collection, taken once at one registry version."""

    version: int
    api: API
    title: dict | str
    provider_def: dict
    statement: str  # the provider's item_sql, reading the registry version too


_collections: OrderedDict[tuple[str, str], Collection] = OrderedDict()
_lock = threading.Lock()


def answer(request: HttpRequest, base_url: str, collection_id: str, item_id: str) -> HttpResponse | None:
    """The response to GET items/{id}, or None when the ordinary path must answer."""
    if not eligible(request, item_id) or len(item_id) > 19 or int(item_id) > MAX_BIGINT:
        return None
    key = (base_url, collection_id)
    with _lock:
        taken = _collections.get(key)
        if taken is not None:
            _collections.move_to_end(key)
    if taken is None and (taken := take_collection(base_url, collection_id)) is None:
        return None
    api_request = APIRequest.from_django(request, taken.api.locales)
    if api_request.format not in (None, F_JSON):
        return None
    try:
        feature, version = run_statement(taken.statement, int(item_id))
    except (psycopg.OperationalError, psycopg.InterfaceError):
        # A connection that died since the last request (a database restart): the ordinary path reconnects
        # and answers, or meets the outage and answers 503 (sdi.middleware).
        connection.close()
        return None
    except psycopg.Error:
        return None  # e.g. the table was dropped by a newer registry version: the ordinary path answers
    if version != taken.version:  # published data changed: the ordinary path rebuilds the API
        with _lock:
            if _collections.get(key) is taken:
                del _collections[key]
        return None
    if feature is None:
        return None
    headers, content = geojson_answer(taken, api_request, collection_id, item_id, feature)
    content = apply_gzip(headers, content)
    if headers.get("Content-Type") == FORMAT_TYPES[F_JSON]:
        headers["Content-Type"] = "application/geo+json"
    response = HttpResponse(content, status=200)
    for name, value in headers.items():
        response[name] = value
    patch_vary_headers(response, VARY)
    return response


def run_statement(statement: str, item_id: int) -> tuple:
    """(feature, registry version) in one round trip on Django's connection, as a prepared statement.

    Django's cursors bind values on the client, so PostgreSQL would parse and plan the statement on every
    request (230 µs of the database's CPU; 40 µs prepared), and Django first tests a connection kept from an
    earlier request with a round trip of its own. The statement is that test here: a dead connection fails it
    (the caller closes it). An outage is met by ensure_connection as on every other page: 503."""
    connection.ensure_connection()
    connection.health_check_done = True  # this request's statement is the check (see above)
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django leaves preparing off (None); its own cursors bind on the client and never prepare whatever
        # the threshold. With a threshold no statement reaches, only ours, asked with prepare=True, is.
        raw.prepare_threshold = NEVER_BY_COUNT
    with psycopg.Cursor(raw) as cursor:
        cursor.execute(statement, (Int8(item_id),), prepare=True)  # one type: one prepared statement
        return cursor.fetchone()


def eligible(request: HttpRequest, item_id: str) -> bool:
    return (request.method == "GET" and item_id.isascii() and item_id.isdigit()
            and "HTTP_AUTHORIZATION" not in request.META
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and all(name == "f" for name in request.GET))


def take_collection(base_url: str, collection_id: str) -> Collection | None:
    """The anonymous API of this base URL and the collection's provider, or None if the fast path does not
    apply to it. The version is read before the API is taken, so it is never newer than the API: a change in
    between only costs taking it again."""
    version = current_registry_version()
    api = get_api(base_url, None)
    resource = api.config["resources"].get(collection_id)
    if resource is None or resource.get("type") != "collection":
        return None
    try:
        provider_def = get_provider_by_type(resource["providers"], "feature")
        provider = load_plugin("provider", provider_def)
        spec = create_crs_transform_spec(provider_def, None)
    except (ProviderTypeError, ProviderGenericError, CRSError, ValueError):
        return None
    # the statement runs on the registry's connection, so the table must be in the registry's database
    if (not hasattr(provider, "item_sql") or provider.uri_field is not None
            or provider_def.get("data") != database_definition()):
        return None
    taken = Collection(version, api, resource["title"], provider_def, provider.item_sql(spec, REGISTRY_VERSION_SQL))
    with _lock:
        _collections[(base_url, collection_id)] = taken
        while len(_collections) > MAX_COLLECTIONS:
            _collections.popitem(last=False)
    return taken


def geojson_answer(taken: Collection, request: APIRequest, collection_id: str, item_id: str,
                   feature: dict) -> tuple[dict, str]:
    """Headers and body as pygeoapi 0.24's get_collection_item makes them after `p.get` (JSON format, no
    uri_field, no prev/next from the provider)."""
    api = taken.api
    headers = request.get_response_headers(SYSTEM_LOCALE, **api.api_headers)
    set_content_crs_header(headers, taken.provider_def, None)
    provider_locale = l10n.get_plugin_locale(taken.provider_def, request.raw_locale)
    uri = f"{api.get_collections_url()}/{collection_id}/items/{item_id}"
    locale = request.locale
    feature.setdefault("links", []).extend([{
        "type": FORMAT_TYPES[F_JSON], "rel": "root",
        "title": l10n.translate("The landing page of this server as JSON", locale),
        "href": f"{api.base_url}?f={F_JSON}",
    }, {
        "type": FORMAT_TYPES[F_HTML], "rel": "root",
        "title": l10n.translate("The landing page of this server as HTML", locale),
        "href": f"{api.base_url}?f={F_HTML}",
    }, {
        "rel": request.get_linkrel(F_JSON), "type": "application/geo+json",
        "title": l10n.translate("This document as JSON", locale), "href": f"{uri}?f={F_JSON}",
    }, {
        "rel": request.get_linkrel(F_JSONLD), "type": FORMAT_TYPES[F_JSONLD],
        "title": l10n.translate("This document as RDF (JSON-LD)", locale), "href": f"{uri}?f={F_JSONLD}",
    }, {
        "rel": request.get_linkrel(F_HTML), "type": FORMAT_TYPES[F_HTML],
        "title": l10n.translate("This document as HTML", locale), "href": f"{uri}?f={F_HTML}",
    }, {
        "rel": "collection", "type": FORMAT_TYPES[F_JSON],
        "title": l10n.translate(taken.title, locale),
        "href": f"{api.get_collections_url()}/{collection_id}",
    }])
    l10n.set_response_language(headers, provider_locale, locale)
    return headers, to_json(feature, api.pretty_print)
