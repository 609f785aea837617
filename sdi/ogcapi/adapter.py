"""Every place we adapt or override pygeoapi 0.24: the one module to review on a pygeoapi upgrade.

Each seam names the pygeoapi behaviour it relies on; `install()` refuses to start when an internal it patches
is gone, and tests/test_pygeoapi_adapter.py (with tests/test_api_robustness.py) has a contract test per seam,
so an upgrade that changes one fails loudly instead of quietly bringing the old fault back.

1. Translated configuration per API object (pygeoapi.l10n._cfg_cache, l10n.translate_struct).
   pygeoapi caches the configuration it hands to the HTML templates per *locale* only, in a module global,
   on the first HTML page a worker renders. We build a new `API` whenever a dataset is published and one per
   base URL and visible set (sdi/ogcapi/api_cache.py), so every later HTML page saw the first one's
   resources and host name: a new dataset's HTML page answered 500 until restart. The global is made to keep
   nothing and the translation is cached here per (configuration object, locale) instead.
2. One log line per client error (API.get_exception, API.get_format_exception): see request_log.py.
   The logger levels that quiet pygeoapi's noise are in settings.LOGGING (they must be set before any request).
3. Our bbox transform (pygeoapi.api.itemtypes.transform_bbox): see bbox.py.
4. The prev/next links of an /items page are the provider's alone (ProviderLinks): pygeoapi appends its own
   offset links whenever the provider gave no next link, also on the last page.
5. The GeoJSON splice: pygeoapi writes `"features":[]` once; the provider's JSON text goes there.
6. A CQL2-JSON `filter=` on GET is moved into the body: pygeoapi reads a GET filter as CQL2 text only.
7. Our /conformance document (conformance.py) replaces pygeoapi's, which declares what we do not implement.
8. The OpenAPI document: `limit` in components.parameters (QGIS reads its page size there) and the /items
   parameters we accept, instead of pygeoapi's free-form ones.
9. JSON Schema documents (queryables, schema) name the JSON Schema dialect by its `https` URI, as OGC API –
   Features Part 3 asks; pygeoapi writes `http://json-schema.org/draft/2019-09/schema`.
10. filter-crs kept for the translator (pygeoapi.api.itemtypes.modify_pygeofilter): see layers/serving/cql2/filter_crs.py.
   pygeoapi converts CQL2 literal geometries in Python with PROJ's default operation (0.8 m off on VN-2000),
   ignores filter-crs for BBOX numbers and never passes it to the provider; ours hands the filter on untouched,
   wrapped with its filter-crs, and the translator transforms it in PostGIS through the pinned EPSG:6960.
11. The items/{id} fast path (sdi/ogcapi/item_fast_path.py) answers anonymous GeoJSON single features without
   pygeoapi's per-request work, rebuilding pygeoapi's exact bytes and headers from pygeoapi's own helpers;
   tests/test_item_fast_path.py compares its answer with get_collection_item's byte for byte.
12. Processes run by our `SynchronousManager` (server.manager in the generated configuration), pygeoapi's
   DummyManager without its two faults for us: it turned every processor error into a 400 "Error executing
   process: …" with a logged traceback, so a dataset the user may not see could not be a 404 and a refused
   input was logged as a crash; and it POSTed to any `subscriber` URL a client named (a request from the
   server to wherever the client likes). Here a `ProcessorExecuteError` reaches pygeoapi's execute_process,
   which answers its status and OGC code, and subscribers are refused.
13. The cached-summary fast path (sdi/ogcapi/process_fast_path.py) answers an anonymous, raw, synchronous
   execution of `summary` whose public answer the summary memo already holds without pygeoapi's per-request
   work, with the headers and bytes execute_process made for it (pygeoapi's own helpers, kept per registry
   version); tests/test_pygeoapi_adapter.py and tests/test_process_fast_path.py compare its answer with
   execute_process's byte for byte; the latter also checks that restricted summaries, tokens, Prefer, document
   responses and errors go the ordinary way.
"""
import functools
import inspect
import json
import threading
from collections import OrderedDict
from http import HTTPStatus

import pygeoapi.api.itemtypes as itemtypes_api
from django.http import HttpRequest, HttpResponse
from pygeoapi import l10n
from pygeoapi.api import API, APIRequest
from pygeoapi.formats import F_HTML
from pygeoapi.process.base import ProcessorExecuteError
from pygeoapi.process.manager.dummy import DummyManager
from pygeoapi.util import JobStatus, RequestedProcessExecutionMode, RequestedResponse, render_j2_template, to_json

from layers.serving.cql2 import keep_filter_crs
from sdi.ogcapi import bbox, request_log
from sdi.ogcapi.conformance import CONFORMANCE_CLASSES

MAX_TRANSLATED_CONFIGS = 64  # (API configuration, locale) pairs: api_cache's 32 APIs in vi and en


class NothingCached(dict):
    """Stands in for pygeoapi's `l10n._cfg_cache`: every lookup misses and nothing is stored."""

    def get(self, key, default=None):
        return default

    def __setitem__(self, key, value):
        pass


_stock_translate_struct = l10n.translate_struct
_translated: OrderedDict[tuple[int, str], tuple[dict, dict]] = OrderedDict()
_translated_lock = threading.Lock()


def translate_struct(struct, locale_, is_config: bool = False):
    """pygeoapi's translate_struct, with the translated configuration cached per configuration object."""
    if not is_config or not struct or not locale_:
        return _stock_translate_struct(struct, locale_, is_config)
    key = (id(struct), str(locale_))
    with _translated_lock:
        cached = _translated.get(key)
        if cached is not None and cached[0] is struct:  # the entry holds `struct`, so its id is not reused
            _translated.move_to_end(key)
            return cached[1]
    result = _stock_translate_struct(struct, locale_, True)
    with _translated_lock:
        _translated[key] = (struct, result)
        while len(_translated) > MAX_TRANSLATED_CONFIGS:
            _translated.popitem(last=False)
    return result


def forget_translations(config: dict) -> None:
    """Drop the translations of a configuration no longer served (sdi/ogcapi/api_cache.py replaced its API)."""
    with _translated_lock:
        for key in [key for key, (struct, _) in _translated.items() if struct is config]:
            del _translated[key]


def _client_errors_logged_once(handler):
    """Wrap API.get_exception / get_format_exception: while they answer a 4xx, pygeoapi's own log records
    (ERROR, with a traceback) are dropped; Django's request log line carries the description instead."""
    signature = inspect.signature(handler)

    @functools.wraps(handler)
    def wrapper(self, *args, **kwargs):
        call = signature.bind(self, *args, **kwargs).arguments
        status = call.get("status", 400)  # get_format_exception always answers 400
        note = f"{call['code']}: {call['description']}" if "description" in call else None
        with request_log.answering(status, note):
            return handler(self, *args, **kwargs)

    wrapper.sdi_patched = True
    return wrapper


def install() -> None:
    """Apply every seam (idempotent). Raises if pygeoapi no longer has what a seam relies on."""
    if not isinstance(getattr(l10n, "_cfg_cache", None), dict):
        raise RuntimeError("pygeoapi.l10n._cfg_cache is gone: review sdi/ogcapi/adapter.py seam 1")
    if "is_config" not in inspect.signature(_stock_translate_struct).parameters:
        raise RuntimeError("pygeoapi.l10n.translate_struct changed: review sdi/ogcapi/adapter.py seam 1")
    for name in ("get_exception", "get_format_exception"):
        if not callable(getattr(API, name, None)):
            raise RuntimeError(f"pygeoapi API.{name} is gone: review sdi/ogcapi/adapter.py seam 2")
    if not hasattr(itemtypes_api, "transform_bbox"):
        raise RuntimeError("pygeoapi.api.itemtypes.transform_bbox is gone: review sdi/ogcapi/bbox.py")
    if not hasattr(itemtypes_api, "modify_pygeofilter"):
        raise RuntimeError("pygeoapi.api.itemtypes.modify_pygeofilter is gone: review sdi/ogcapi/adapter.py seam 10")

    if not {"execution_mode", "requested_outputs", "subscriber", "requested_response"} <= set(
            inspect.signature(DummyManager.execute_process).parameters):
        raise RuntimeError("pygeoapi's process manager API changed: review sdi/ogcapi/adapter.py seam 12")

    l10n._cfg_cache = NothingCached()
    l10n.translate_struct = translate_struct  # render_j2_template calls it as l10n.translate_struct(...)
    if not getattr(API.get_exception, "sdi_patched", False):
        API.get_exception = _client_errors_logged_once(API.get_exception)
    if not getattr(API.get_format_exception, "sdi_patched", False):
        API.get_format_exception = _client_errors_logged_once(API.get_format_exception)
    itemtypes_api.transform_bbox = bbox.transform_bbox
    itemtypes_api.modify_pygeofilter = keep_filter_crs


# -- 4. prev/next links ------------------------------------------------------------------------------------------

class ProviderLinks(list):
    """The links an /items page gets from the provider (built by the web layer, sdi/ogcapi/paging.py).

    pygeoapi 0.24 appends its own offset-based prev/next links (`content['links'].append`) whenever the provider
    gave no next link, guessing from numberMatched and the page length: after a keyset page it believes it is at
    offset 0 and links on past the end, and a last page that is full links to an empty one. This list drops
    those two rels; pygeoapi's format and collection links are kept."""

    OWN_RELS = ("next", "prev")

    def append(self, link):
        if isinstance(link, dict) and link.get("rel") in self.OWN_RELS:
            return
        super().append(link)


# -- 5. the GeoJSON splice -------------------------------------------------------------------------------------

EMPTY_FEATURES = '"features":[]'


def splice_features(response: HttpResponse, features_json: bytes) -> None:
    """Put PostGIS's features JSON (UTF-8 bytes) into pygeoapi's FeatureCollection, whose `features` it left
    empty: bytes joined to bytes, with no decoding of the page."""
    body = response.content
    marker = EMPTY_FEATURES.encode()
    if body.count(marker) != 1:  # never guess: pygeoapi's output changed shape
        raise RuntimeError("cannot find the empty features array in pygeoapi's items response")
    head, _, tail = body.partition(marker)
    response.content = b"".join((head, b'"features":', features_json, tail))


# -- 6. CQL2 JSON on GET -----------------------------------------------------------------------------------------

CQL2_JSON = ("cql2-json", "cql-json")  # the second: pygeoapi's older name


def move_cql2_json_filter_into_body(request: HttpRequest) -> None:
    """pygeoapi 0.24 reads a GET `filter` as CQL2 text only, and CQL2 JSON from the body: move it there."""
    if request.GET.get("filter-lang") in CQL2_JSON and "filter" in request.GET:
        params = request.GET.copy()
        request._body = params.pop("filter")[0].encode("utf-8")
        request.GET = params


# -- 7. /conformance ---------------------------------------------------------------------------------------------

def conformance(api: API, request: APIRequest):
    """In place of pygeoapi.api.conformance (same signature): our list of classes, in JSON or HTML."""
    document = {"conformsTo": CONFORMANCE_CLASSES}
    headers = request.get_response_headers(**api.api_headers)
    if request.format == F_HTML:
        content = render_j2_template(api.tpl_config, api.config["server"]["templates"], "conformance.html",
                                     document, request.locale)
        return headers, HTTPStatus.OK, content
    return headers, HTTPStatus.OK, to_json(document, api.pretty_print)


# -- 8. OpenAPI --------------------------------------------------------------------------------------------------

# Declared in OpenAPI components.parameters and referenced from every /items GET (pygeoapi declares the rest).
DECLARED_ITEMS_PARAMETERS = {
    "datetime": {"description": "Features whose time property is this instant or falls in this interval "
                                "(RFC 3339, `start/end`, `..` for open ends).", "schema": {"type": "string"}},
    "resulttype": {"description": "`hits` answers only numberMatched.",
                   "schema": {"type": "string", "enum": ["results", "hits"], "default": "results"}},
    "cursor": {"description": "Where the next page starts (copy it from a `next` link).",
               "schema": {"type": "integer"}},
    "sortby": {"description": "Comma-separated property names, each optionally prefixed with + or -.",
               "schema": {"type": "string"}},
    "filter": {"description": "A CQL2 filter on the queryables.", "schema": {"type": "string"}},
    "filter-lang": {"schema": {"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"}},
    "filter-crs": {"schema": {"type": "string", "format": "uri"}},
}
UNDECLARED = ("#/components/parameters/vendorSpecificParameters", "/parameters/sortby.yaml")


def adapt_openapi(openapi: dict, limits: dict) -> None:
    """pygeoapi's OpenAPI document, edited in place to say what we serve."""
    advertise_limit_parameter(openapi, limits)
    declare_items_parameters(openapi)


def advertise_limit_parameter(openapi: dict, limits: dict) -> None:
    """QGIS reads its page size from components.parameters.limit (else it pages by 100)."""
    openapi.setdefault("components", {}).setdefault("parameters", {})["limit"] = {
        "name": "limit",
        "in": "query",
        "description": "The optional limit parameter limits the number of items that are presented in the response document.",
        "required": False,
        "style": "form",
        "explode": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": limits["max_items"], "default": limits["default_items"]},
    }


def declare_items_parameters(openapi: dict) -> None:
    """Make /items in pygeoapi's OpenAPI match what we accept (sdi/ogcapi/query_checks.py): no free-form
    parameters (we refuse unknown ones), and the parameters pygeoapi leaves out or references from a remote
    file (sortby)."""
    components = openapi.setdefault("components", {}).setdefault("parameters", {})
    components.pop("vendorSpecificParameters", None)
    for name, definition in DECLARED_ITEMS_PARAMETERS.items():
        components[name] = {"name": name, "in": "query", "required": False, "style": "form", "explode": False,
                            **definition}
    for path, operations in openapi.get("paths", {}).items():
        get = operations.get("get") if path.endswith("/items") else None
        if get is None:
            continue
        kept = [p for p in get.get("parameters", []) if not str(p.get("$ref", "")).endswith(UNDECLARED)]
        get["parameters"] = kept + [{"$ref": f"#/components/parameters/{name}"} for name in DECLARED_ITEMS_PARAMETERS]


# -- 9. JSON Schema dialect --------------------------------------------------------------------------------------

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2019-09/schema"


def name_json_schema_dialect(response: HttpResponse) -> None:
    """Rewrite `$schema` of a queryables/schema JSON answer (a few hundred bytes) to the URI Part 3 requires."""
    if response.status_code != 200 or "json" not in response.get("Content-Type", "") or not response.content:
        return
    document = json.loads(response.content)
    if "$schema" in document:
        document["$schema"] = JSON_SCHEMA_DIALECT
        response.content = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- 12. Processes -----------------------------------------------------------------------------------------------

PROCESS_MANAGER = "sdi.ogcapi.adapter.SynchronousManager"


class SubscriberRefused(ProcessorExecuteError):
    http_status_code = HTTPStatus.BAD_REQUEST
    ogc_exception_code = "InvalidParameterValue"


class SynchronousManager(DummyManager):
    """Runs a process at once, in the request (no jobs are kept). A processor's `ProcessorExecuteError` is
    raised on to pygeoapi, which answers its own status and code (404 for a dataset the user may not see, 400
    for a refused input); any other exception is a server error (500), not a client's."""

    def execute_process(self, process_id, data_dict, execution_mode=None, requested_outputs=None,
                        subscriber=None, requested_response=RequestedResponse.raw.value):
        if subscriber is not None:
            raise SubscriberRefused(user_msg="subscriber: callbacks are not offered; processes run synchronously")
        processor = self.get_processor(process_id)
        mime_type, outputs = processor.execute(data_dict, outputs=requested_outputs)
        if requested_response == RequestedResponse.document.value:
            outputs = {"outputs": [outputs]}
        headers = None
        if execution_mode is not None:  # respond-async is not offered: say it ran synchronously
            headers = {"Preference-Applied": RequestedProcessExecutionMode.wait.value}
        return None, mime_type, outputs, JobStatus.successful, headers

    def __repr__(self):
        return f"<SynchronousManager> {self.name}"
