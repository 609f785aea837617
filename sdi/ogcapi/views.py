"""Thin Django views over pygeoapi's framework-neutral API functions, with a cached API object."""
from pathlib import Path

import pygeoapi
import pygeoapi.api as core_api
import pygeoapi.api.itemtypes as itemtypes_api
import pygeoapi.api.processes as processes_api
import pygeoapi.api.tiles as tiles_api
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.static import serve
from pygeoapi.api import APIRequest, apply_gzip
from pygeoapi.models.provider.base import TileMatrixSetEnum
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

from layers.ogc_provider import PageRequest, RequestedBox, current_page_request, current_requested_box
from sdi.ogcapi import bbox
from sdi.ogcapi import conformance as sdi_conformance
from sdi.ogcapi import item_fast_path, pygeoapi_patches, query_checks, request_log
from sdi.ogcapi.api_cache import get_api
from sdi.ogcapi.auth import InvalidToken, request_user

PYGEOAPI_STATIC = Path(pygeoapi.__file__).parent / "static"
pygeoapi_patches.install()  # every change to pygeoapi's own behaviour is there
OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
FILTER_LANGUAGES = ("cql2-text", "cql2-json", "cql-text", "cql-json")  # the last two: pygeoapi's older names


def read_only(view):
    """GET/HEAD only (405 otherwise). No CSRF: nothing here changes state or reads the session."""
    return csrf_exempt(require_http_methods(["GET", "HEAD"])(view))


def base_url(request: HttpRequest) -> str:
    """Absolute links must use the address the client used, unless a public URL is configured."""
    root = settings.SDI_BASE_URL or f"{request.scheme}://{request.get_host()}"
    return f"{root}/ogcapi"


def execute(api_function, request: HttpRequest, *args, check_format=True, geojson=False,
            query_problem=None) -> HttpResponse:
    """`query_problem(api)` may refuse the query string (400) before pygeoapi reads it."""
    try:
        user = request_user(request)
    except InvalidToken as exc:
        return ogc_exception(401, "InvalidCredentials", str(exc), {"WWW-Authenticate": 'Token realm="Cần Thơ SDI"'},
                             request=request)
    api = get_api(base_url(request), user)
    if query_problem and (problem := query_problem(api)):
        return ogc_exception(400, "InvalidParameterValue", problem, request=request)
    api_request = APIRequest.from_django(request, api.locales)
    with request_log.noting_exception(request):
        if check_format and not api_request.is_valid():
            headers, status, content = api.get_format_exception(api_request)
        else:
            headers, status, content = api_function(api, api_request, *args)
            content = apply_gzip(headers, content)
    content_type = headers.get("Content-Type", "")
    if geojson and status == 200 and content_type == "application/json":
        headers["Content-Type"] = "application/geo+json"
    elif content_type == "text/html":  # without a charset, HTTP clients read Vietnamese as Latin-1
        headers["Content-Type"] = "text/html; charset=utf-8"
    response = HttpResponse(b"" if request.method == "HEAD" else content, status=status)
    for key, value in headers.items():
        response[key] = value
    patch_vary_headers(response, ("Authorization", "Cookie", "Accept", "Accept-Language"))
    return response


def ogc_exception(status: int, code: str, description: str, headers: dict | None = None, request=None) -> HttpResponse:
    if request is not None:  # for the request log's one line (sdi/ogcapi/request_log.py)
        request.ogc_exception = f"{code}: {description}"
    response = JsonResponse({"code": code, "type": code, "description": description}, status=status)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


@read_only
def landing_page(request):
    return execute(core_api.landing_page, request)


@read_only
def conformance(request):
    return execute(sdi_conformance.conformance, request)


@read_only
def openapi(request):
    response = execute(core_api.openapi_, request)
    if response.status_code == 200 and response["Content-Type"].startswith("application/json"):
        response["Content-Type"] = OPENAPI_MEDIA_TYPE
    return response


@read_only
def collections(request):
    return execute(core_api.describe_collections, request, None)


@read_only
def collection(request, collection_id):
    return execute(core_api.describe_collections, request, collection_id)


@read_only
def processes(request):
    """The landing page always links here; the SDI publishes no processes yet, so the list is empty."""
    return execute(processes_api.describe_processes, request, None)


@read_only
def tile_matrix_sets(request):
    return execute(tiles_api.tilematrixsets, request)


@read_only
def tile_matrix_set(request, tile_matrix_set_id):
    if tile_matrix_set_id not in {tms.value.tileMatrixSet for tms in TileMatrixSetEnum}:
        return ogc_exception(404, "NotFound", f"no tile matrix set {tile_matrix_set_id!r}", request=request)
    return execute(tiles_api.tilematrixset, request, tile_matrix_set_id)


@read_only
def queryables(request, collection_id):
    return execute(itemtypes_api.get_collection_queryables, request, collection_id)


@read_only
def schema(request, collection_id):
    return execute(core_api.get_collection_schema, request, collection_id)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def items(request, collection_id):
    """GET/HEAD: the items; POST: the same query with a CQL2 JSON filter as the body (Part 3)."""
    try:
        cursor = int(request.GET["cursor"]) if "cursor" in request.GET else None
    except ValueError:
        return ogc_exception(400, "InvalidParameterValue", "cursor must be the integer id from a next link",
                             request=request)
    if problem := filter_problem(request):
        return ogc_exception(400, "InvalidParameterValue", problem, request=request)
    page = page_request(request, cursor)
    if request.GET.get("filter-lang") in ("cql2-json", "cql-json") and "filter" in request.GET:
        # pygeoapi reads a GET filter as CQL2 text only; it reads CQL2 JSON from the body, so move it there.
        params = request.GET.copy()
        request._body = params.pop("filter")[0].encode("utf-8")
        request.GET = params
    token = current_page_request.set(page)
    box_token = current_requested_box.set(requested_box(request.GET.get("bbox"), request.GET.get("bbox-crs")))
    try:
        response = execute(itemtypes_api.get_collection_items, request, collection_id, check_format=False,
                           geojson=True,
                           query_problem=lambda api: query_checks.items_problem(request.GET, api, collection_id))
    finally:
        current_page_request.reset(token)
        current_requested_box.reset(box_token)
    if page and page.features_json is not None and response.status_code == 200 and request.method != "HEAD":
        splice_features(response, page.features_json)
    return response


def requested_box(bbox_value: str | None, bbox_crs: str | None) -> RequestedBox | None:
    """The client's box for the provider's exact-box test, unless it reaches where its CRS is undefined (there
    the provider keeps to the transformed bounds pygeoapi hands it)."""
    box = RequestedBox.from_query(bbox_value, bbox_crs)
    return box if box and bbox.within_area_of_use(box) else None


def filter_problem(request) -> str | None:
    """The parser's own words for a malformed filter (pygeoapi would only say 'Bad CQL text')."""
    language = request.GET.get("filter-lang", "cql2-text")
    if language not in FILTER_LANGUAGES:
        return f"filter-lang: {language[:40]!r} is not one of {', '.join(FILTER_LANGUAGES)}"
    try:
        if "filter" in request.GET:
            if language in ("cql2-text", "cql-text"):
                parse_cql2_text(request.GET["filter"])
            elif language in ("cql2-json", "cql-json"):
                parse_cql2_json(request.GET["filter"])
        elif request.method == "POST":
            if request.content_type not in ("application/json", "application/query-cql-json"):
                return "POST /items takes a CQL2 JSON filter (Content-Type: application/json)"
            parse_cql2_json(request.body.decode("utf-8"))
    except Exception as exc:  # pygeofilter raises lark, JSON and its own errors
        return f"malformed {language if request.method != 'POST' else 'cql2-json'} filter: {str(exc).strip()[:300]}"
    return None


def page_request(request, cursor: int | None) -> PageRequest | None:
    """Keyset links for machine formats (pygeoapi's HTML template pages by offset); raw features for GeoJSON."""
    fmt = request.GET.get("f")
    accept = request.headers.get("Accept", "")
    if fmt == "html" or (fmt is None and "text/html" in accept):
        return None
    geojson = fmt == "json" or (fmt is None and "ld+json" not in accept)
    url = base_url(request) + request.get_full_path().removeprefix("/ogcapi")
    return PageRequest(url=url, cursor=cursor, raw_json=geojson)


def splice_features(response: HttpResponse, features_json: str) -> None:
    """Put PostGIS's features JSON into pygeoapi's FeatureCollection, whose `features` it left empty."""
    body = response.content.decode("utf-8")
    marker = '"features":[]'
    if body.count(marker) != 1:  # never guess: pygeoapi's output changed shape
        raise RuntimeError("cannot find the empty features array in pygeoapi's items response")
    response.content = body.replace(marker, f'"features":{features_json}').encode("utf-8")


@read_only
def item(request, collection_id, item_id):
    if (fast := item_fast_path.answer(request, base_url(request), collection_id, item_id)) is not None:
        return fast
    return execute(itemtypes_api.get_collection_item, request, collection_id, item_id, check_format=False, geojson=True,
                   query_problem=lambda api: query_checks.item_problem(request.GET))


@read_only
def pygeoapi_static(request, path):
    """pygeoapi's HTML pages load their CSS/JS/images from {base}/static/."""
    return serve(request, path, document_root=PYGEOAPI_STATIC)
