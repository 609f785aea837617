"""Import jobs: a queue kept in PostgreSQL (rows + LISTEN/NOTIFY), so no broker is needed.

Admin, REST API and `import_dataset --background` submit jobs; the import worker (started next to gunicorn)
claims them with SELECT … FOR UPDATE SKIP LOCKED and records progress on the row, where the admin page and
the REST job resource read it.

A PostgreSQL restart does not stop the worker: it reconnects with backoff and first runs what was queued
meanwhile. A job's owner is recorded (layers.jobs.owner), so an interrupted job is cleaned up and recorded
truthfully (layers.jobs.cleanup) by its own process on SIGTERM/SIGINT or by the next worker after a SIGKILL.
"""
import logging
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import django.db
import psycopg
from django.db import connection, transaction
from django.utils import timezone

from layers.jobs.cleanup import clean_up_interrupted, kill_loader_processes, reap_interrupted_jobs, remove_upload
from layers.jobs.owner import lease
from layers.loading import ImportRefused
from layers.models import ImportJob
from layers.registry.services import DatasetMetadata, import_vector_dataset
from layers.jobs.health import Heartbeat
from sdi.database import connection_kwargs

log = logging.getLogger(__name__)
CHANNEL = "sdi_import_jobs"
OPTION_KEYS = ("layer", "srid", "encoding", "replace", "repair")
# What a lost or refused database connection raises, through Django or through psycopg directly.
DATABASE_ERRORS = (django.db.OperationalError, django.db.InterfaceError, psycopg.OperationalError,
                   psycopg.InterfaceError)
RECONNECT_FIRST_DELAY, RECONNECT_MAX_DELAY = 0.5, 15.0  # seconds; doubled after each failed attempt


class StopRequested(KeyboardInterrupt):
    """SIGTERM or SIGINT: stop after cleaning up the job in hand (a KeyboardInterrupt, so commands end as on
    Ctrl-C)."""


def submit_import(source_path: str | Path, *, slug: str, metadata: DatasetMetadata, user=None, layer=None,
                  srid=None, encoding=None, replace=False, repair=False, queue=True, uploaded=False) -> ImportJob:
    """Record an import. Queued, the worker is woken by NOTIFY once the row is committed; with
    queue=False the caller runs it at once (run_job), and the worker never sees it; this process owns it from
    the start, so no worker takes it for an interrupted one."""
    owner = {} if queue else {"owner": lease().label, "owner_token": lease().hold()}
    job = ImportJob.objects.create(
        **owner,
        status=ImportJob.Status.QUEUED if queue else ImportJob.Status.RUNNING,
        started=None if queue else timezone.now(),
        slug=slug, source_path=str(source_path), created_by=user if getattr(user, "pk", None) else None,
        options={"layer": layer, "srid": srid, "encoding": encoding, "replace": replace, "repair": repair,
                 "metadata": vars(metadata), "uploaded": uploaded},
    )
    if queue:
        transaction.on_commit(lambda: _notify(job.pk))
    log.info("queued import job %s for %s from %s", job.pk, slug, source_path)
    return job


def _notify(job_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(job_id)))


def claim_next_job() -> ImportJob | None:
    owner = lease()
    token = owner.hold()
    with transaction.atomic():
        job = (ImportJob.objects.select_for_update(skip_locked=True)
               .filter(status=ImportJob.Status.QUEUED).order_by("created").first())
        if job is None:
            return None
        job.status, job.started, job.stage = ImportJob.Status.RUNNING, timezone.now(), "starting"
        job.owner, job.owner_token = owner.label, token
        job.save(update_fields=["status", "started", "stage", "owner", "owner_token"])
        return job


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


def run_job(job: ImportJob, on_progress: Callable[[int, str], None] | None = None) -> ImportJob:
    """Run one claimed job to the end, recording progress, outcome and report on its row."""
    options = job.options
    last_write = [0.0, -1]
    scratch = {}

    def progress(percent: int, stage: str) -> None:
        if on_progress:
            on_progress(percent, stage)
        now = time.monotonic()
        if percent != last_write[1] and (now - last_write[0] > 0.5 or percent in (100,)):
            ImportJob.objects.filter(pk=job.pk).update(progress=percent, stage=stage)
            last_write[:] = [now, percent]

    def record_scratch(staging: str, workdir: Path) -> None:
        scratch.update(staging=staging, workdir=str(workdir))
        ImportJob.objects.filter(pk=job.pk).update(scratch=scratch)

    def record_publish(dataset) -> None:  # inside the publishing transaction: both commit, or neither
        ImportJob.objects.filter(pk=job.pk).update(
            published_at=timezone.now(),
            message=f"published {job.slug}: {dataset.feature_count} {dataset.geometry_type} features")

    with stop_signals(lambda: kill_loader_processes(scratch.get("staging"))):
        try:
            result = import_vector_dataset(
                job.source_path, slug=job.slug, metadata=DatasetMetadata(**options["metadata"]),
                user=job.created_by, on_progress=progress, on_staging=record_scratch, on_publish=record_publish,
                **{k: options.get(k) for k in OPTION_KEYS},
            )
        except ImportRefused as exc:
            _finish(job, ImportJob.Status.FAILED, str(exc), {})
            log.warning("import job %s (%s) refused: %s", job.pk, job.slug, exc)
        except StopRequested as exc:
            job.refresh_from_db()
            clean_up_interrupted(job, f"the import was stopped ({exc})", dead_owner=False)
            raise
        except Exception as exc:  # a bug or an outage: the job must still end, and say so (after an outage,
            # writing this fails too, and the worker records the outcome once the database is back)
            log.exception("import job %s (%s) crashed", job.pk, job.slug)
            job.refresh_from_db(fields=["published_at", "message"])
            if job.published_at:  # the data is published; only building its attribute indexes failed
                _finish(job, ImportJob.Status.SUCCEEDED, f"{job.message} (attribute indexes not built: "
                        f"{exc.__class__.__name__})", {}, progress=100)
            else:
                _finish(job, ImportJob.Status.FAILED, f"internal error: {exc.__class__.__name__}: {exc}", {})
        else:
            message = f"published {job.slug}: {result.dataset.feature_count} {result.dataset.geometry_type} features"
            _finish(job, ImportJob.Status.SUCCEEDED, message, result.report, progress=100)
            log.info("import job %s: %s", job.pk, message)
        finally:
            remove_upload(job)
    job.refresh_from_db()
    return job


def _finish(job: ImportJob, status: str, message: str, report: dict, progress: int | None = None) -> None:
    fields = {"status": status, "message": message, "report": report, "finished": timezone.now(),
              "stage": "done" if status == ImportJob.Status.SUCCEEDED else "failed"}
    if progress is not None:
        fields["progress"] = progress
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def _listen():
    listener = psycopg.connect(**connection_kwargs(autocommit=True))
    listener.execute(f"LISTEN {CHANNEL}")
    return listener


def run_worker(poll_seconds: float = 10.0, once: bool = False) -> None:
    """Claim and run jobs until stopped; sleep on LISTEN between them. A lost database connection is retried
    with backoff; once it is back, interrupted jobs are cleaned up and the queue is drained first."""
    owner = lease()
    connection.close()  # reconnect under the owner's application name (see layers.jobs.owner)
    heartbeat = Heartbeat()
    delay = RECONNECT_FIRST_DELAY
    with stop_signals():
        try:
            while True:
                try:
                    listener = _listen()
                    try:
                        owner.hold()
                        reap_interrupted_jobs(own_token=owner.token)
                        heartbeat.start_or_resume("idle")
                        log.info("import worker listening on %s (%s)", CHANNEL, owner.label)
                        delay = RECONNECT_FIRST_DELAY
                        while True:
                            while (job := claim_next_job()) is not None:
                                heartbeat.state = f"running job {job.pk}"
                                log.info("import job %s: loading %s from %s", job.pk, job.slug, job.source_path)
                                run_job(job)
                                heartbeat.state = "idle"
                            if once:
                                return
                            for _ in listener.notifies(timeout=poll_seconds, stop_after=1):
                                pass
                            reap_interrupted_jobs()  # e.g. a command-line import killed meanwhile
                    finally:
                        listener.close()
                except DATABASE_ERRORS as exc:
                    if once:
                        raise
                    heartbeat.state = "waiting for the database"
                    log.warning("import worker: database unavailable (%s); retrying in %.1f s",
                                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, delay)
                    connection.close()
                    time.sleep(delay)
                    delay = min(delay * 2, RECONNECT_MAX_DELAY)
        except StopRequested as exc:
            log.info("import worker stopping (%s)", exc)
        finally:
            heartbeat.stop()
            owner.release()
