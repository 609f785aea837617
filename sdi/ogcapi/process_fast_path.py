"""Cached executions of the `summary` process: pygeoapi's own answer, without its per-request work.

Why (docs/benchmarks.md, issue 11): a cached summary is one small query and stored bytes on
GET /api/summaries/<dataset> (over 1,100 req/s), but through POST /ogcapi/processes/summary/execution pygeoapi
built an APIRequest, negotiated locale and format, looked the process up, loaded the processor, read the registry
version twice (once for the API, once for the memo) and serialised the whole answer again on every call: under
540 req/s. Here a call whose answer the summary memo already holds (layers/summaries/cache.py, keyed by the
registry version) is one round trip (the registry version, which is also Django's connection check,
api_cache.registry_version) and stored bytes.

This is a pygeoapi seam (sdi/ogcapi/adapter.py, seam 13): the answer is the one pygeoapi 0.24's
execute_process gives for a raw synchronous execution through our SynchronousManager (seam 12), byte for byte,
headers included: the bytes and headers are made once by pygeoapi's own helpers (APIRequest's response
headers in pygeoapi's system locale, the processor's media type, to_json, apply_gzip) and kept per
(base URL, registry version, request, gzip). tests/test_process_fast_path.py compares the two. It is taken
only where nothing else can change the answer: POST to `summary`; anonymous (no Authorization header, no
session cookie: a memo entry says only whether both datasets are public); no query string; no `Prefer`
header; a body of `inputs` (and `"response": "raw"`) only, the inputs the process accepts; the answer in the
memo at the current registry version and public. Everything else (first calls, restricted datasets, tokens,
sessions, async or document responses, outputs, subscribers, unknown inputs, errors) goes the ordinary way
(views.execution), so access control, errors and their logging keep their one home.
"""
import json
import threading
from collections import OrderedDict

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from pygeoapi.api import SYSTEM_LOCALE, APIRequest, apply_gzip
from pygeoapi.formats import F_GZIP
from pygeoapi.util import get_from_headers, to_json

from layers.summaries import cache
from layers.summaries.errors import SummaryRefused
from layers.summaries.process import MEDIA_TYPE, PROCESS_ID, request_from_inputs
from sdi.ogcapi.api_cache import get_api, registry_version

VARY = ("Authorization", "Cookie", "Accept", "Accept-Language")  # as views.execute
BODY_KEYS = frozenset({"inputs", "response"})
RENDERED_SIZE = 128  # (base URL, registry version, request, gzip) answers; least recently used are dropped


class Rendered:
    """One answer as pygeoapi makes it, and the memo entry it was made from (a recomputation replaces it)."""

    __slots__ = ("entry", "headers", "content")

    def __init__(self, entry: dict, headers: dict, content: bytes):
        self.entry, self.headers, self.content = entry, headers, content


_rendered: OrderedDict[tuple, Rendered] = OrderedDict()
_lock = threading.Lock()


def answer(request: HttpRequest, base_url: str, process_id: str) -> HttpResponse | None:
    """The response to POST processes/{id}/execution, or None when the ordinary path must answer."""
    if (body := body_as_pygeoapi_reads_it(request)) is None or not eligible(request, process_id, body):
        return None
    try:
        summary_request = request_from_inputs(body.get("inputs", {}))
    except (SummaryRefused, TypeError):
        return None
    version = registry_version()
    entry = cache.memo_get((version, summary_request.key()))
    if entry is None or not entry["public"]:
        return None
    gzip = F_GZIP in get_from_headers(request.headers, "accept-encoding")
    key = (base_url, version, summary_request.key(), gzip)
    with _lock:
        rendered = _rendered.get(key)
        if rendered is not None:
            _rendered.move_to_end(key)
    if rendered is None or rendered.entry is not entry:
        if (rendered := render(request, base_url, version, entry)) is None:
            return None
        with _lock:
            _rendered[key] = rendered
            while len(_rendered) > RENDERED_SIZE:
                _rendered.popitem(last=False)
    response = HttpResponse(rendered.content, status=200)
    for name, value in rendered.headers.items():
        response[name] = value
    patch_vary_headers(response, VARY)
    response.sdi_fast_path = True  # not a header: for tests, which must know which path answered
    return response


def body_as_pygeoapi_reads_it(request: HttpRequest) -> dict | None:
    """execute_process decodes the body as UTF-8 before json.loads (so a byte-order mark is its 400), where
    views.execution lets json.loads detect UTF-16 and -32: only a body both read alike is taken."""
    try:
        body = json.loads(request.body.decode())
    except (UnicodeDecodeError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def eligible(request: HttpRequest, process_id: str, body: dict) -> bool:
    return (request.method == "POST" and process_id == PROCESS_ID and not request.GET
            and "HTTP_AUTHORIZATION" not in request.META and "HTTP_PREFER" not in request.META
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and set(body) <= BODY_KEYS and body.get("response", "raw") == "raw"
            and isinstance(body.get("inputs", {}), dict))


def render(request: HttpRequest, base_url: str, version: int, entry: dict) -> Rendered | None:
    """Headers and bytes as pygeoapi 0.24's execute_process makes them for a raw, synchronous execution
    (SynchronousManager: no job, no Preference-Applied without a Prefer header) that the processor answered
    with `entry` from the memo (layers/summaries/compute.summarise adds `cached`), then views.execute's gzip."""
    api = get_api(base_url, None, version=version)
    if PROCESS_ID not in api.manager.processes or api.manager.is_async or api.pubsub_client is not None:
        return None
    api_request = APIRequest.from_django(request, api.locales)
    headers = api_request.get_response_headers(SYSTEM_LOCALE, **api.api_headers)
    headers["Content-Type"] = MEDIA_TYPE
    content = apply_gzip(headers, to_json({**entry["result"], "cached": True}, False))
    return Rendered(entry, headers, content.encode("utf-8") if isinstance(content, str) else content)


def forget() -> None:
    """Drop every kept answer (with layers.summaries.cache.memo_clear: an operator's or a test's reset)."""
    with _lock:
        _rendered.clear()
