"""One log line per client error on /ogcapi; server errors keep their traceback.

pygeoapi logs every 4xx it answers at ERROR, with the traceback of whatever exception it had caught (a probe
of 5,509 bad requests wrote 19 MB). Django's request log already writes one line per 4xx
("Not Found: /ogcapi/…"), so while pygeoapi answers a client error its own record is dropped, and the
OGC exception's description is added to Django's line instead. The filters are wired in settings.LOGGING.
"""
import logging
from contextlib import contextmanager
from contextvars import ContextVar

_answering_client_error: ContextVar[bool] = ContextVar("sdi_answering_client_error", default=False)
_exception_note: ContextVar[list | None] = ContextVar("sdi_exception_note", default=None)


@contextmanager
def answering(status: int, note: str | None):
    """Around pygeoapi's exception handler: note the exception for the request log, and mark a 4xx."""
    notes = _exception_note.get()
    if notes is not None and note:
        notes.append(note)
    token = _answering_client_error.set(int(status) < 500)
    try:
        yield
    finally:
        _answering_client_error.reset(token)


@contextmanager
def noting_exception(request):
    """Around a call into pygeoapi: the description of the exception it answered, put on the Django request."""
    note: list[str] = []
    token = _exception_note.set(note)
    try:
        yield
    finally:
        _exception_note.reset(token)
        if note:
            request.ogc_exception = note[-1]


class DropPygeoapiClientErrors(logging.Filter):
    """On pygeoapi's loggers: no record (and no traceback) for a 4xx pygeoapi is answering."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _answering_client_error.get()


class DescribeClientErrors(logging.Filter):
    """On django.request: its one line for a 4xx also says why, on one line ("Bad Request: /path (code: why)")."""

    def filter(self, record: logging.LogRecord) -> bool:
        description = getattr(getattr(record, "request", None), "ogc_exception", None)
        if description and 400 <= getattr(record, "status_code", 0) < 500 and isinstance(record.args, tuple):
            record.msg = f"{record.msg} (%s)"
            record.args = (*record.args, one_line(description))
        return True


def one_line(text: str, limit: int = 300) -> str:
    """Client-supplied text (parameter names, values) must not start new log lines."""
    return text.replace("\r", "\\r").replace("\n", "\\n")[:limit]
