"""The task-queue worker: procrastinate's worker, wrapped in what it does not do for us.

procrastinate fetches jobs (FOR UPDATE SKIP LOCKED, LISTEN/NOTIFY), applies locks, queueing locks and retries,
defers the periodic tasks and keeps a heartbeat of its own. Around it, this module keeps:
- a reconnect loop: procrastinate's worker stops when its connection is lost; ours waits for the database with
  backoff and starts it again in the same process (so its supervisor sees no crash);
- our own stop: procrastinate stops gracefully by waiting for the jobs in hand, and a synchronous job only stops
  when it asks; an import must instead stop at once and clean up (layers.jobs.stopping.WORKER_STOP);
- the job-owner lease, so that the jobs of a killed worker are recognised at once (layers.jobs.owner), and the
  reaping of those jobs at every (re)start;
- the heartbeat that /readyz reads (layers.jobs.health), which also stops a worker whose supervisor is gone.
"""
import asyncio
import logging
import signal
import threading

import django.db
import psycopg
from django.db import connection
from procrastinate.contrib.django import app
from procrastinate.exceptions import ConnectorException

from layers.jobs.cleanup import reap_interrupted_jobs
from layers.jobs.health import Heartbeat
from layers.jobs.owner import lease
from layers.jobs.stopping import WORKER_STOP

log = logging.getLogger(__name__)
# What a lost or refused database connection raises, through Django, psycopg or procrastinate.
DATABASE_ERRORS = (django.db.OperationalError, django.db.InterfaceError, psycopg.OperationalError,
                   psycopg.InterfaceError, ConnectorException, OSError)
RECONNECT_FIRST_DELAY, RECONNECT_MAX_DELAY = 0.5, 15.0  # seconds; doubled after each failed attempt


class DatabaseLost(Exception):
    """procrastinate's worker ended by itself (a side task lost its connection)."""


def run_worker(*, concurrency: int = 1, queues: list[str] | None = None, once: bool = False) -> None:
    """Run jobs until SIGTERM/SIGINT (or, with once=True, until the queues are empty)."""
    owner = lease()
    connection.close()  # reconnect under the owner's application name (see layers.jobs.owner)
    heartbeat = Heartbeat()
    running: dict = {}
    wake = threading.Event()

    def on_signal(signum, frame):
        name = signal.Signals(signum).name
        if WORKER_STOP.requested:
            return
        log.info("worker stopping (%s): interrupting the jobs in hand", name)
        WORKER_STOP.request(name)
        wake.set()
        loop, task = running.get("loop"), running.get("task")
        if loop is not None and task is not None:
            loop.call_soon_threadsafe(task.cancel)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    delay = RECONNECT_FIRST_DELAY
    try:
        while not WORKER_STOP.requested:
            try:
                owner.hold()
                reap_interrupted_jobs(own_token=owner.token)
                _reap_interrupted_runs()
                heartbeat.start_or_resume("ready")
                log.info("worker started (%s; queues: %s; %s at once)", owner.label,
                         ", ".join(queues) if queues else "all", concurrency)
                asyncio.run(_procrastinate(running, concurrency=concurrency, queues=queues, once=once))
                if once or WORKER_STOP.requested:
                    return
                raise DatabaseLost("procrastinate's worker stopped by itself")
            except (*DATABASE_ERRORS, DatabaseLost) as exc:
                if once:
                    raise
                heartbeat.state = "waiting for the database"
                first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                log.warning("worker: database unavailable (%s); retrying in %.1f s", first_line, delay)
                connection.close()
                wake.wait(delay)
                delay = min(delay * 2, RECONNECT_MAX_DELAY)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        heartbeat.stop()
        owner.release()
        log.info("worker stopped")


async def _procrastinate(running: dict, **options) -> None:
    """One life of procrastinate's worker, on a fresh connection pool (a pool from before an outage is dead)."""
    once = options.pop("once")
    with app.replace_connector(app.connector.get_worker_connector()):
        async with app.open_async():
            task = asyncio.create_task(app.run_worker_async(
                wait=not once, install_signal_handlers=False, name="sdi", **options))
            running.update(loop=asyncio.get_running_loop(), task=task)
            if WORKER_STOP.requested:  # the signal came while the worker was starting
                task.cancel()
            try:
                await task
            except asyncio.CancelledError:  # our stop: the jobs in hand have cleaned up
                pass
            finally:
                running.clear()


def _reap_interrupted_runs() -> None:
    from layers.sources.harvest import reap_interrupted_runs

    reaped = reap_interrupted_runs()
    if reaped:
        log.warning("worker: %s harvest runs of stopped processes recorded as failed", reaped)
