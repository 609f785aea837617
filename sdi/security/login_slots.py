"""At most SDI_LOGIN_CONCURRENCY password checks at a time over all workers and machines.

A password check is a PBKDF2 hash (~0.4 s of CPU). Without a cap, a flood of sign-ins from many addresses (which
the per-address limits do not stop) keeps every gunicorn worker hashing and the OGC API waits behind them. The
slots are PostgreSQL advisory locks, so all processes share them and a killed worker frees its slot. A sign-in
that finds no free slot waits at most SLOT_WAIT_SECONDS (two colleagues signing in at the same moment both get
in), then is answered 503 with Retry-After: a worker waiting longer would be as lost to the OGC API as a hashing
one.
"""
import time
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.http import HttpResponse, JsonResponse

LOCK_NAMESPACE = 0x5D1  # first key of pg_advisory_lock(int, int); the second is the slot number
SLOT_WAIT_SECONDS = 1.5  # about three password checks
SLOT_POLL_SECONDS = 0.05


class LoginBusy(Exception):
    """Every password-check slot is taken."""


@contextmanager
def password_check_slot():
    """Hold one free slot while the body runs, or raise LoginBusy after a short bounded wait."""
    slot = _take_slot(time.monotonic() + SLOT_WAIT_SECONDS)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, slot])


def _take_slot(deadline: float) -> int:
    with connection.cursor() as cursor:
        while True:
            for slot in range(settings.SDI_LOGIN_CONCURRENCY):
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, slot])
                if cursor.fetchone()[0]:
                    return slot
            if time.monotonic() >= deadline:
                raise LoginBusy("too many sign-ins are being checked right now")
            time.sleep(SLOT_POLL_SECONDS)


class BoundedModelBackend(ModelBackend):
    """Django's ModelBackend, checking passwords only inside a slot."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        with password_check_slot():
            return super().authenticate(request, username, password, **kwargs)


class LoginBusyMiddleware:
    """Turns LoginBusy into 503 + Retry-After ({"detail": …} on /api/), for the admin and /api/token alike."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, LoginBusy):
            return None
        message = "too many sign-ins are being checked right now: try again in a few seconds"
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": message}, status=503)
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "2"
        return response
