"""Import jobs: a queue kept in PostgreSQL (rows + LISTEN/NOTIFY), so no broker is needed.

Admin, REST API and `import_dataset --background` submit jobs; the import worker (started next to gunicorn)
claims them with SELECT … FOR UPDATE SKIP LOCKED and records progress on the row, where the admin page and
the REST job resource read it.
"""
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from layers.loading import ImportRefused
from layers.models import ImportJob
from layers.services import DatasetMetadata, import_vector_dataset

log = logging.getLogger(__name__)
CHANNEL = "sdi_import_jobs"
OPTION_KEYS = ("layer", "srid", "encoding", "replace", "repair")


def submit_import(source_path: str | Path, *, slug: str, metadata: DatasetMetadata, user=None, layer=None,
                  srid=None, encoding=None, replace=False, repair=False, queue=True, uploaded=False) -> ImportJob:
    """Record an import. Queued, the worker is woken by NOTIFY once the row is committed; with
    queue=False the caller runs it at once (run_job), and the worker never sees it."""
    job = ImportJob.objects.create(
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
    with transaction.atomic():
        job = (ImportJob.objects.select_for_update(skip_locked=True)
               .filter(status=ImportJob.Status.QUEUED).order_by("created").first())
        if job is None:
            return None
        job.status, job.started, job.stage = ImportJob.Status.RUNNING, timezone.now(), "starting"
        job.save(update_fields=["status", "started", "stage"])
        return job


def run_job(job: ImportJob, on_progress: Callable[[int, str], None] | None = None) -> ImportJob:
    """Run one claimed job to the end, recording progress, outcome and report on its row."""
    options = job.options
    last_write = [0.0, -1]

    def progress(percent: int, stage: str) -> None:
        if on_progress:
            on_progress(percent, stage)
        now = time.monotonic()
        if percent != last_write[1] and (now - last_write[0] > 0.5 or percent in (100,)):
            ImportJob.objects.filter(pk=job.pk).update(progress=percent, stage=stage)
            last_write[:] = [now, percent]

    try:
        result = import_vector_dataset(
            job.source_path, slug=job.slug, metadata=DatasetMetadata(**options["metadata"]),
            user=job.created_by, on_progress=progress, **{k: options.get(k) for k in OPTION_KEYS},
        )
    except ImportRefused as exc:
        _finish(job, ImportJob.Status.FAILED, str(exc), {})
        log.warning("import job %s (%s) refused: %s", job.pk, job.slug, exc)
    except Exception as exc:  # a bug or an outage: the job must still end, and say so
        log.exception("import job %s (%s) crashed", job.pk, job.slug)
        _finish(job, ImportJob.Status.FAILED, f"internal error: {exc.__class__.__name__}: {exc}", {})
    else:
        message = f"published {job.slug}: {result.dataset.feature_count} {result.dataset.geometry_type} features"
        _finish(job, ImportJob.Status.SUCCEEDED, message, result.report, progress=100)
        log.info("import job %s: %s", job.pk, message)
    finally:
        if options.get("uploaded"):
            _remove_upload(Path(job.source_path))
    job.refresh_from_db()
    return job


def _finish(job: ImportJob, status: str, message: str, report: dict, progress: int | None = None) -> None:
    fields = {"status": status, "message": message, "report": report, "finished": timezone.now(),
              "stage": "done" if status == ImportJob.Status.SUCCEEDED else "failed"}
    if progress is not None:
        fields["progress"] = progress
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def _remove_upload(path: Path) -> None:
    """Uploaded files are ours to delete once imported; files pointed at on the server are not (the job
    records which it was, and the path must lie in the upload folder)."""
    upload_root = Path(settings.SDI_UPLOAD_DIR).resolve()
    resolved = path.resolve()
    if resolved.exists() and upload_root in resolved.parents:
        folder = resolved.parent  # each upload has a folder of its own under the upload root
        shutil.rmtree(folder) if folder != upload_root else resolved.unlink()


def fail_interrupted_jobs() -> int:
    """Jobs left running by a worker that died are failed, so nobody waits for them forever."""
    return ImportJob.objects.filter(status=ImportJob.Status.RUNNING).update(
        status=ImportJob.Status.FAILED, message="interrupted: the import worker stopped while running it",
        finished=timezone.now(), stage="failed")


def run_worker(poll_seconds: float = 10.0, once: bool = False) -> None:
    """Claim and run jobs until stopped; sleep on LISTEN between them."""
    fail_interrupted_jobs()
    db = settings.DATABASES["default"]
    listener = psycopg.connect(host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=db["USER"],
                               password=db["PASSWORD"], autocommit=True)
    listener.execute(f"LISTEN {CHANNEL}")
    log.info("import worker listening on %s", CHANNEL)
    try:
        while True:
            while (job := claim_next_job()) is not None:
                log.info("import job %s: loading %s from %s", job.pk, job.slug, job.source_path)
                run_job(job)
            if once:
                return
            for _ in listener.notifies(timeout=poll_seconds, stop_after=1):
                pass
    finally:
        listener.close()
