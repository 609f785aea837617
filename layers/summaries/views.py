"""GET /api/summaries/<dataset>: a summary as JSON or CSV, for the dataset pages and for spreadsheets.

Parameters: units, measure, attribute, category, unit_code_field, unit_name_field (as SummaryRequest), format
(json | csv) and lang (vi | en; else the Accept-Language header; Vietnamese by default). Errors are
{"detail": "<one sentence>"}: 400 naming the parameter, 401 for a bad token, 404 for a dataset the user may not
see. A cached answer costs one small query (the registry version).
"""
import json

from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from layers.summaries.compute import SummaryRequest, summarise
from layers.summaries.csv_table import summary_csv
from layers.summaries.errors import NotVisible, SummaryRefused
from sdi.ogcapi.auth import InvalidToken, request_user

REQUEST_PARAMETERS = ("units", "measure", "attribute", "category", "unit_code_field", "unit_name_field")
PARAMETERS = frozenset({*REQUEST_PARAMETERS, "format", "lang", "f"})
FORMATS = ("json", "csv")


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
        result = summarise(SummaryRequest(dataset=slug, **options), user)
    except SummaryRefused as refused:
        return detail(400, refused.message)
    except NotVisible as missing:
        return detail(404, str(missing))
    if output == "csv":
        lang = language(request)
        response = HttpResponse(summary_csv(result, lang).encode("utf-8"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{slug}-{result["units"]}-{result["measure"]}.csv"'
        response["Content-Language"] = lang
    else:
        response = HttpResponse(json.dumps(result, ensure_ascii=False, separators=(",", ":")),
                                content_type="application/json")
    patch_vary_headers(response, ("Authorization", "Cookie", "Accept-Language"))
    return response
