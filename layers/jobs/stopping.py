"""Stopping a process that runs jobs at once, cleaning up the job in hand (SIGTERM from systemd or the supervisor,
Ctrl-C).

Two shapes: `import_dataset` runs its job in the main thread, so a signal handler can raise `StopRequested`
there (`stop_signals`); the worker runs its jobs in procrastinate's threads, which a signal cannot reach, so the
worker's handler calls `WORKER_STOP.request()` instead: it kills the loaders of the jobs in hand, cancels their
current query, and each job's thread then sees the request and cleans up (layers.jobs.queue.run_job).
"""
import logging
import signal
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


class StopRequested(KeyboardInterrupt):
    """SIGTERM or SIGINT: stop after cleaning up the job in hand (a KeyboardInterrupt, so commands end as on
    Ctrl-C)."""


@contextmanager
def stop_signals(before_stopping: Callable[[], None] = lambda: None):
    """Turn SIGTERM and SIGINT into StopRequested, once, after `before_stopping` (which kills the loader:
    ogr2ogr runs in a session of its own, so Ctrl-C no longer reaches it, and while it runs its staging table
    cannot be dropped). Only the main thread can handle signals; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = []

    def handler(signum, frame):
        if fired:
            return
        fired.append(signum)
        before_stopping()
        raise StopRequested(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@dataclass
class JobInHand:
    """What a stop must interrupt in one running job: its loader (by staging table) and its database session."""
    staging: str | None = None
    connection: object | None = None  # the job thread's Django connection wrapper


@dataclass
class WorkerStop:
    reason: str | None = None
    _in_hand: dict[int, JobInHand] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requested(self) -> bool:
        return self.reason is not None

    def request(self, reason: str) -> None:
        """Ask every job in hand to stop now: kill its loader and cancel its query (both safe from a signal
        handler: psutil and libpq's cancel request), so that its thread ends soon and cleans up."""
        from layers.jobs.cleanup import kill_loader_processes

        if self.reason is None:
            self.reason = reason
        with self._lock:
            hands = list(self._in_hand.values())
        for hand in hands:
            kill_loader_processes(hand.staging)
            raw = getattr(hand.connection, "connection", None)
            if raw is not None and not raw.closed:
                try:
                    raw.cancel()
                except Exception as exc:  # the database may be the reason for stopping
                    log.warning("could not cancel a running query (%s)", exc)

    @contextmanager
    def job(self):
        """Register the calling thread's job for the length of the block."""
        from django.db import connections

        hand = JobInHand(connection=connections["default"])  # this thread's wrapper (connections are per thread)
        key = threading.get_ident()
        with self._lock:
            self._in_hand[key] = hand
        try:
            yield hand
        finally:
            with self._lock:
                self._in_hand.pop(key, None)


WORKER_STOP = WorkerStop()  # the worker process's one stop request (set by layers.jobs.worker's signal handler)
