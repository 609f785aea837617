"""The task queue's tasks (procrastinate; found through settings.PROCRASTINATE_IMPORT_PATHS).

Queues: `imports` (uploads and `import_dataset --background`), `sources` (harvests and their schedule),
`merges` (builds of merged datasets) and `maintenance` (the sweep after killed workers). One worker serves them all (layers.jobs.worker).
"""
import logging

import django.db
import psycopg
from asgiref.sync import sync_to_async
from procrastinate import BaseRetryStrategy, RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.jobs import Status

from layers.jobs.deferral import defer_harvest
from layers.jobs.queue import StopRequested, run_queued
from layers.jobs.stopping import WORKER_STOP

log = logging.getLogger(__name__)
IMPORTS, SOURCES, MERGES, MAINTENANCE = "imports", "sources", "merges", "maintenance"


class JobInterrupted(Exception):
    """The worker was asked to stop while the job ran; the job cleaned up and recorded what happened."""


@app.task(name="import_dataset", queue=IMPORTS)
def import_dataset(import_job_id: int) -> str | None:
    """Run one queued ImportJob (its row says how it went; this returns its status for procrastinate's log).
    Never retried: a failed import is the user's to resubmit, and its upload is gone."""
    try:
        job = run_queued(import_job_id)
    except StopRequested as exc:  # a KeyboardInterrupt must not escape into procrastinate's event loop
        raise JobInterrupted(f"import job {import_job_id} was stopped ({exc})") from None
    return job.status if job else None


class RetryWhenUnreachable(BaseRetryStrategy):
    """Retry a harvest only when something could not be reached (network, a database connection) or the worker
    was stopped mid-run: a source that answered something wrong (SourceFailed) would answer it again, and a bug
    would fail again. Waits 10 s, 100 s, 1000 s; a run writes in one transaction, so a cut-off run wrote nothing."""

    UNREACHABLE = (OSError, django.db.OperationalError, django.db.InterfaceError, psycopg.OperationalError,
                   psycopg.InterfaceError)

    def __init__(self, max_attempts: int = 3):  # retries, after the first run
        from layers.sources.errors import SourceUnreachable

        self.backoff = RetryStrategy(max_attempts=max_attempts, exponential_wait=10,
                                     retry_exceptions=(*self.UNREACHABLE, SourceUnreachable, JobInterrupted))

    def get_retry_decision(self, *, exception, job):
        from layers.sources.errors import SourceFailed, SourceUnreachable

        if isinstance(exception, SourceFailed) and not isinstance(exception, SourceUnreachable):
            return None
        return self.backoff.get_retry_decision(exception=exception, job=job)


def stop_if_asked(*progress, **details) -> None:
    """A harvest's progress callback: where a long run (a download, a page of a remote service) notices that the
    worker is stopping; the query it is in is cancelled by the stop itself."""
    if WORKER_STOP.requested:
        raise JobInterrupted(f"the worker was stopped ({WORKER_STOP.reason})")


@app.task(name="harvest_source", queue=SOURCES, retry=RetryWhenUnreachable())
def harvest_source(source_id: int) -> str | None:
    """One run of a source. Deferred only through layers.jobs.deferral.defer_harvest, which sets its locks."""
    from layers.sources.harvest import harvest

    with WORKER_STOP.job():
        run = harvest(source_id, on_progress=stop_if_asked)
    if WORKER_STOP.requested and getattr(run, "status", None) != "succeeded":
        raise JobInterrupted(f"harvest of source {source_id} was stopped ({WORKER_STOP.reason})")
    if getattr(run, "unreachable", False):  # recorded as failed; raised so that the retry strategy tries again
        from layers.sources.errors import SourceUnreachable

        raise SourceUnreachable(run.error)
    return getattr(run, "status", None)


@app.task(name="build_merge", queue=MERGES)
def build_merge(merge_id: int) -> str | None:
    """One build of a merged dataset. Deferred only through layers.jobs.deferral.defer_merge (lock and queueing
    lock `merge:<id>`). Never retried: a failed build is recorded with its reason and the published merge kept."""
    from layers.merging.build import MergeBusy, build
    from layers.merging.models import MergedDataset

    if not MergedDataset.objects.filter(pk=merge_id).exists():
        return None  # deleted since it was queued
    try:
        with WORKER_STOP.job():
            record = build(merge_id, trigger="queued")
    except MergeBusy as exc:  # a foreground build holds it; it reads the same members
        log.info("%s", exc)
        return "busy"
    return record.status


@app.periodic(cron="* * * * *", periodic_id="harvest-due-sources")
@app.task(name="schedule_harvests", queue=SOURCES, queueing_lock="schedule_harvests")
def schedule_harvests(timestamp: int) -> int:
    """Every minute: queue a run of each scheduled source that is due (one queued per source at most)."""
    from layers.sources.schedule import due_source_ids

    queued = [source_id for source_id in due_source_ids() if defer_harvest(source_id)]
    if queued:
        log.info("scheduled harvests of sources %s", ", ".join(map(str, queued)))
    return len(queued)


def reap_interrupted() -> tuple[int, int, int]:
    """Record the import jobs, harvest runs and merge builds whose process is gone (SIGKILL, a lost machine)."""
    from layers.jobs.cleanup import reap_interrupted_jobs
    from layers.merging.build import reap_interrupted_builds
    from layers.sources.harvest import reap_interrupted_runs

    return len(reap_interrupted_jobs()), reap_interrupted_runs(), reap_interrupted_builds()


# Tasks that write in one transaction at their end, so that a killed one wrote nothing and may simply run again.
RETRIED_AFTER_A_KILL = ("harvest_source", "build_merge")


@app.periodic(cron="* * * * *", periodic_id="sweep-interrupted")
@app.task(name="sweep_interrupted", queue=MAINTENANCE, queueing_lock="sweep_interrupted")
async def sweep_interrupted(timestamp: int) -> int:
    """Every minute: clean up after killed workers. Their jobs stay `doing` in procrastinate (and hold their
    locks) until found stalled by the worker heartbeat: a harvest or a merge build is retried (each writes in
    one transaction, so the dead one wrote nothing), anything else is failed (an import's row was already recorded by the reaper)."""
    await sync_to_async(reap_interrupted, thread_sensitive=False)()
    timeout = app.worker_defaults.get("stalled_worker_timeout", 30)
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=timeout))
    for job in stalled:
        retried = job.task_name in RETRIED_AFTER_A_KILL
        if retried:
            await app.job_manager.retry_job(job)
        else:
            await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
        log.warning("job %s (%s) of a stopped worker: %s", job.id, job.task_name,
                    "retried" if retried else "recorded as failed")
    return len(stalled)
