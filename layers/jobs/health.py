"""The task-queue worker (imports and harvests)'s heartbeat, and what /readyz concludes from it.

A thread of the worker writes a row every few seconds, also while a long import keeps the main thread busy,
so a fresh row means: the process is alive and reaches the database. A supervised worker (started by
deploy/gunicorn.conf.py) also stops itself when its supervisor is gone, rather than run on as an orphan.
"""
import logging
import os
import signal
import socket
import threading
from datetime import timedelta

import django.db
from django.conf import settings
from django.db import connection
from django.utils import timezone

from layers.models import WorkerHeartbeat

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = settings.SDI_WORKER_HEARTBEAT_SECONDS
STALE_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)  # a worker this silent is dead or cut off
FORGET_AFTER = timedelta(hours=1)  # rows of workers gone this long are removed


class Heartbeat:
    """Writes `WorkerHeartbeat` for this process from a daemon thread (it has its own Django connection)."""

    def __init__(self):
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.state = "starting"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._supervisor = int(os.environ.get("SDI_SUPERVISOR_PID", "0"))

    def start_or_resume(self, state: str) -> None:
        self.state = state
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sdi-worker-heartbeat", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop beating and remove the row, so readiness reflects a worker stopped on purpose at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            WorkerHeartbeat.objects.filter(name=self.name).delete()
        except django.db.Error:
            pass

    def _run(self) -> None:
        try:
            WorkerHeartbeat.objects.filter(beat__lt=timezone.now() - FORGET_AFTER).delete()
        except django.db.Error:
            connection.close()
        while True:
            if self._supervisor and os.getppid() != self._supervisor:
                log.warning("worker: its supervisor (pid %s) is gone; stopping", self._supervisor)
                os.kill(os.getpid(), signal.SIGTERM)
                return
            try:
                WorkerHeartbeat.objects.update_or_create(name=self.name,
                                                         defaults={"beat": timezone.now(), "state": self.state})
            except django.db.Error:
                connection.close()  # this thread's connection; the next beat reconnects
            if self._stop.wait(HEARTBEAT_SECONDS):
                connection.close()
                return


def worker_status() -> dict:
    """The freshest heartbeat: ok when one was written within STALE_AFTER."""
    latest = WorkerHeartbeat.objects.order_by("-beat").first()
    if latest is None:
        return {"ok": False, "detail": "no import worker has reported"}
    age = (timezone.now() - latest.beat).total_seconds()
    ok = age <= STALE_AFTER.total_seconds() and latest.state != "waiting for the database"
    return {"ok": ok, "worker": latest.name, "state": latest.state, "seconds_since_heartbeat": round(age, 1)}
