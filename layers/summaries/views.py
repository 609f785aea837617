"""GET /api/summaries/<dataset>: a summary as JSON or CSV, for the dataset pages and for spreadsheets.

Parameters: units, measure, attribute, category, unit_code_field, unit_name_field (as SummaryRequest), format
(json | csv) and lang (vi | en; else the Accept-Language header; Vietnamese by default). Errors are
{"detail": "<one sentence>"}: 400 naming the parameter, 401 for a bad token, 404 for a dataset the user may not
see. A cached answer costs one small query (the registry version, which is also Django's connection check:
sdi.ogcapi.api_cache.registry_version) and no serialising: the bytes of each cached answer are kept per
(computation, format, language).
"""
import json
import threading
from collections import OrderedDict

from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from layers.summaries.compute import SummaryRequest, summarise
from layers.summaries.csv_table import summary_csv
from layers.summaries.errors import NotVisible, SummaryRefused
from sdi.ogcapi.api_cache import registry_version
from sdi.ogcapi.auth import InvalidToken, request_user

REQUEST_PARAMETERS = ("units", "measure", "attribute", "category", "unit_code_field", "unit_name_field")
PARAMETERS = frozenset({*REQUEST_PARAMETERS, "format", "lang", "f"})
FORMATS = ("json", "csv")
RENDERED_SIZE = 128
_rendered: OrderedDict[tuple, bytes] = OrderedDict()
_rendered_lock = threading.Lock()


def detail(status: int, message: str) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status, json_dumps_params={"ensure_ascii": False})


def language(request) -> str:
    asked = request.GET.get("lang") or request.headers.get("Accept-Language", "")
    return "en" if asked.strip().lower().startswith("en") else "vi"


@require_GET
def summary(request, slug: str):
    if unknown := sorted(set(request.GET) - PARAMETERS):
        return detail(400, f"{unknown[0]}: unknown parameter (use {', '.join(sorted(PARAMETERS))})")
    output = request.GET.get("format") or request.GET.get("f") or "json"
    if output not in FORMATS:
        return detail(400, f"format: {output[:20]!r} is not one of {', '.join(FORMATS)}")
    try:
        user = request_user(request)
    except InvalidToken as exc:
        response = detail(401, str(exc))
        response["WWW-Authenticate"] = 'Token realm="Cần Thơ SDI"'
        return response
    options = {name: request.GET[name] for name in REQUEST_PARAMETERS if request.GET.get(name)}
    try:
        result = summarise(SummaryRequest(dataset=slug, **options), user, registry_version=registry_version())
    except SummaryRefused as refused:
        return detail(400, refused.message)
    except NotVisible as missing:
        return detail(404, str(missing))
    lang = language(request) if output == "csv" else None
    body = rendered(result, output, lang)
    if output == "csv":
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{slug}-{result["units"]}-{result["measure"]}.csv"'
        response["Content-Language"] = lang
    else:
        response = HttpResponse(body, content_type="application/json")
    patch_vary_headers(response, ("Authorization", "Cookie", "Accept-Language"))
    return response


def rendered(result: dict, output: str, lang: str | None) -> bytes:
    """The answer's bytes; a cached result's are kept, keyed by what identifies its computation."""
    key = (result["dataset"], result["units"], result["dataset_version"], result["units_version"],
           result["computed_at"], result["unit_code_field"], result["unit_name_field"], result["measure"], result["attribute"], result["category"], output, lang)
    if result["cached"]:
        with _rendered_lock:
            if (body := _rendered.get(key)) is not None:
                _rendered.move_to_end(key)
                return body
    if output == "csv":
        body = summary_csv(result, lang).encode("utf-8")
    else:
        body = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if result["cached"]:
        with _rendered_lock:
            _rendered[key] = body
            while len(_rendered) > RENDERED_SIZE:
                _rendered.popitem(last=False)
    return body
