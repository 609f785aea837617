"""A database outage answers 503 with Retry-After, in the form the client reads, not Django's HTML 500.

OGC API clients get an OGC exception document, REST clients {"detail": …}, browsers a short page. 503s made
elsewhere (pygeoapi's, for a provider that lost the database) get the Retry-After header too.
"""
import logging

import django.db
import psycopg
from django.http import HttpResponse, JsonResponse

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 10
DATABASE_ERRORS = (django.db.OperationalError, django.db.InterfaceError, psycopg.OperationalError,
                   psycopg.InterfaceError)
MESSAGE = "The database is unavailable for a moment; try again shortly."
PAGE = ("<!doctype html><html lang=\"vi\"><meta charset=\"utf-8\"><title>503 – tạm thời không phục vụ</title>"
        "<h1>Tạm thời không phục vụ / Temporarily unavailable</h1>"
        "<p>Cơ sở dữ liệu đang tạm ngừng; vui lòng thử lại sau ít phút.</p><p>" + MESSAGE + "</p></html>")


def database_unavailable(request) -> HttpResponse:
    if request.path.startswith("/ogcapi"):
        response = JsonResponse({"code": "ServiceUnavailable", "type": "ServiceUnavailable",
                                 "description": MESSAGE}, status=503)
    elif request.path.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE}, status=503)
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 503 and not response.has_header("Retry-After"):
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        log.error("database unavailable: %s %s: %s", request.method, request.path,
                  (str(exception).strip() or type(exception).__name__).splitlines()[0])
        return database_unavailable(request)
