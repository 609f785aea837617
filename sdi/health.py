"""Liveness (/healthz) and readiness (/readyz) for load balancers, orchestrators and monitoring.

/healthz answers 200 as long as the process serves requests, without touching the database. /readyz answers
200 only when the database answers and the import worker has reported recently (layers.jobs.health);
otherwise 503 with the same JSON, saying which check failed.
"""
import django.db
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_safe

from layers.jobs.health import worker_status
from sdi.middleware import RETRY_AFTER_SECONDS


def _no_store(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def healthz(request):
    return _no_store(JsonResponse({"status": "ok"}))


def database_status() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except django.db.Error as exc:
        connection.close()  # the next request connects afresh
        return {"ok": False, "detail": "database unreachable: " + ((str(exc).strip() or type(exc).__name__)
                                                                   .splitlines()[0])}


@require_safe
def readyz(request):
    checks = {"database": database_status()}
    if checks["database"]["ok"]:
        try:
            checks["import_worker"] = worker_status()
        except django.db.Error:
            connection.close()
            checks["import_worker"] = {"ok": False, "detail": "unknown: the database stopped answering"}
    else:
        checks["import_worker"] = {"ok": False, "detail": "unknown: the database is unreachable"}
    ready = all(check["ok"] for check in checks.values())
    response = JsonResponse({"status": "ready" if ready else "not ready", "checks": checks},
                            status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return _no_store(response)
