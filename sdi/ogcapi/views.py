"""Thin Django views over pygeoapi's framework-neutral API functions, with a cached API object."""
import json
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

from layers.serving.hints import current_page_hint
from layers.summaries.process import requesting_user
from sdi.ogcapi import adapter, item_fast_path, paging, process_fast_path, query_checks, request_log
from sdi.ogcapi.api_cache import get_api
from sdi.ogcapi.auth import InvalidToken, request_user

PYGEOAPI_STATIC = Path(pygeoapi.__file__).parent / "static"
adapter.install()  # every change to pygeoapi's own behaviour is there
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
    request.sdi_user = user  # for what pygeoapi does not pass on (the summary process's visibility)
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
    return execute(adapter.conformance, request)


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
    """The processes (layers/summaries/process.py); the landing page links here."""
    return execute(processes_api.describe_processes, request, None)


@read_only
def process(request, process_id):
    return execute(processes_api.describe_processes, request, process_id)


@csrf_exempt
@require_http_methods(["POST"])
def execution(request, process_id):
    """Runs a process synchronously (adapter seam 12). No CSRF: it changes nothing, and what it may read is
    decided by the request's session or token as on every GET. The body must be a JSON object (pygeoapi would
    answer a 500 for any other JSON)."""
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("inputs", {}), dict):
        return ogc_exception(400, "InvalidParameterValue",
                             'the body must be a JSON object such as {"inputs": {"dataset": "…"}}', request=request)
    if (fast := process_fast_path.answer(request, base_url(request), process_id)) is not None:
        return fast  # a cached summary, as pygeoapi would answer it (adapter seam 13)

    def run(api, api_request, process_id):
        token = requesting_user.set(request.sdi_user)
        try:
            return processes_api.execute_process(api, api_request, process_id)
        finally:
            requesting_user.reset(token)

    return execute(run, request, process_id, check_format=False)


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
    response = execute(itemtypes_api.get_collection_queryables, request, collection_id)
    adapter.name_json_schema_dialect(response)
    return response


@read_only
def schema(request, collection_id):
    response = execute(core_api.get_collection_schema, request, collection_id)
    adapter.name_json_schema_dialect(response)
    return response


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def items(request, collection_id):
    """GET/HEAD: the items; POST: the same query with a CQL2 JSON filter as the body (Part 3)."""
    if problem := filter_problem(request):  # first: a POST body is then valid UTF-8 JSON for the links
        return ogc_exception(400, "InvalidParameterValue", problem, request=request)
    try:
        hint = paging.page_hint(request, base_url(request) + request.get_full_path().removeprefix("/ogcapi"))
    except paging.BadCursor as exc:
        return ogc_exception(400, "InvalidParameterValue", str(exc), request=request)
    adapter.move_cql2_json_filter_into_body(request)
    token = current_page_hint.set(hint)
    try:
        response = execute(itemtypes_api.get_collection_items, request, collection_id, check_format=False,
                           geojson=True,
                           query_problem=lambda api: query_checks.items_problem(request.GET, api, collection_id))
    finally:
        current_page_hint.reset(token)
    features_json = hint.outcome.features_json
    if features_json is not None and response.status_code == 200 and request.method != "HEAD":
        adapter.splice_features(response, features_json)
    return response


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
