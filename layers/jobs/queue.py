"""Import jobs: the `ImportJob` row is the user-facing record (status, stage, progress, report: the admin and the
REST API read it); procrastinate carries the work (task `layers.jobs.tasks.import_dataset`).

Admin, REST API and `import_dataset --background` submit a job: the row and its procrastinate job are written in
one transaction, so neither exists without the other. The worker (layers.jobs.worker) runs the task, which claims
the row and runs it here. A job's owner is recorded (layers.jobs.owner), so an interrupted job is cleaned up and
recorded truthfully (layers.jobs.cleanup) by its own process on SIGTERM/SIGINT or by the next worker after a
SIGKILL.
"""
import logging
import time
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from layers.jobs.cleanup import clean_up_interrupted, kill_loader_processes, remove_upload
from layers.jobs.owner import lease
from layers.jobs.stopping import WORKER_STOP, StopRequested, stop_signals
from layers.loading import ImportRefused
from layers.models import ImportJob
from layers.registry.services import DatasetMetadata, import_vector_dataset

log = logging.getLogger(__name__)
OPTION_KEYS = ("layer", "srid", "encoding", "replace", "repair")

__all__ = ["StopRequested", "claim", "run_job", "run_queued", "submit_import"]


def submit_import(source_path: str | Path, *, slug: str, metadata: DatasetMetadata, user=None, layer=None,
                  srid=None, encoding=None, replace=False, repair=False, queue=True, uploaded=False) -> ImportJob:
    """Record an import. Queued, its task is deferred in the same transaction (the worker is woken by procrastinate's
    NOTIFY once both are committed); with queue=False the caller runs it at once (run_job), and no task exists;
    this process owns it from the start, so no worker takes it for an interrupted one."""
    from layers.jobs.tasks import import_dataset  # the tasks module imports this one

    owner = {} if queue else {"owner": lease().label, "owner_token": lease().hold()}
    with transaction.atomic():
        job = ImportJob.objects.create(
            **owner,
            status=ImportJob.Status.QUEUED if queue else ImportJob.Status.RUNNING,
            started=None if queue else timezone.now(),
            slug=slug, source_path=str(source_path), created_by=user if getattr(user, "pk", None) else None,
            options={"layer": layer, "srid": srid, "encoding": encoding, "replace": replace, "repair": repair,
                     "metadata": vars(metadata), "uploaded": uploaded},
        )
        if queue:
            # one import of a dataset at a time, in the order they were queued (the worker runs several jobs at once)
            import_dataset.configure(lock=f"dataset:{slug}").defer(import_job_id=job.pk)
    log.info("%s import job %s for %s from %s", "queued" if queue else "recorded", job.pk, slug, source_path)
    return job


def claim(job_id: int) -> ImportJob | None:
    """Take a queued job for this process (None when it is not queued any more: already run, or a task retried)."""
    owner = lease()
    token = owner.hold()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started=timezone.now(), stage="starting", owner=owner.label,
        owner_token=token)
    return ImportJob.objects.get(pk=job_id) if claimed else None


def run_queued(job_id: int) -> ImportJob | None:
    """What the import task does: claim the job and run it (None when there was nothing to claim)."""
    job = claim(job_id)
    if job is None:
        log.info("import job %s is no longer queued; nothing to do", job_id)
        return None
    log.info("import job %s: loading %s from %s", job.pk, job.slug, job.source_path)
    return run_job(job)


def run_job(job: ImportJob, on_progress: Callable[[int, str], None] | None = None) -> ImportJob:
    """Run one claimed job to the end, recording progress, outcome and report on its row."""
    options = job.options
    last_write = [0.0, -1]
    scratch = {}

    def progress(percent: int, stage: str) -> None:
        if WORKER_STOP.requested:
            raise StopRequested(WORKER_STOP.reason)
        if on_progress:
            on_progress(percent, stage)
        now = time.monotonic()
        if percent != last_write[1] and (now - last_write[0] > 0.5 or percent in (100,)):
            ImportJob.objects.filter(pk=job.pk).update(progress=percent, stage=stage)
            last_write[:] = [now, percent]

    def record_scratch(staging: str, workdir: Path) -> None:
        scratch.update(staging=staging, workdir=str(workdir))
        hand.staging = staging
        ImportJob.objects.filter(pk=job.pk).update(scratch=scratch)

    def record_publish(dataset) -> None:  # inside the publishing transaction: both commit, or neither
        ImportJob.objects.filter(pk=job.pk).update(
            published_at=timezone.now(),
            message=f"published {job.slug}: {dataset.feature_count} {dataset.geometry_type} features")

    with stop_signals(lambda: kill_loader_processes(scratch.get("staging"))), WORKER_STOP.job() as hand:
        try:
            result = import_vector_dataset(
                job.source_path, slug=job.slug, metadata=DatasetMetadata(**options["metadata"]),
                user=job.created_by, on_progress=progress, on_staging=record_scratch, on_publish=record_publish,
                **{k: options.get(k) for k in OPTION_KEYS},
            )
        except (Exception, StopRequested) as exc:
            # A stop request first: the loader killed or the query cancelled by it looks like any failure.
            if isinstance(exc, StopRequested) or WORKER_STOP.requested:
                reason = str(exc) if isinstance(exc, StopRequested) else WORKER_STOP.reason
                job.refresh_from_db()
                clean_up_interrupted(job, f"the import was stopped ({reason})", dead_owner=False)
                raise StopRequested(reason) from None
            if isinstance(exc, ImportRefused):
                _finish(job, ImportJob.Status.FAILED, str(exc), {})
                log.warning("import job %s (%s) refused: %s", job.pk, job.slug, exc)
            else:  # a bug or an outage: the job must still end, and say so (after an outage, writing this
                # fails too, and the worker records the outcome once the database is back)
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
