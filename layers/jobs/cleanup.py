"""Cleaning up after an import that was interrupted (worker killed, database restarted, Ctrl-C).

An import leaves an `ogr2ogr` process, a staging table, a temporary folder and the upload copy while it runs;
the job records the first two names before it makes them (`ImportJob.scratch`). Whoever finds the job
interrupted - the job's own process on SIGTERM/SIGINT, or any worker that sees its owner gone - removes all of
that and records what really happened: a job whose swap was committed (`published_at`) succeeded.
"""
import logging
import os
import shutil
import signal
from pathlib import Path

import psutil
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from layers.jobs.owner import APPLICATION_NAME, owner_is_gone
from layers.loading.indexes import index_attributes
from layers.models import Dataset, ImportJob

log = logging.getLogger(__name__)
WORKDIR_PREFIX = "sdi-import-"  # services.import_vector_dataset's temporary folders


def kill_loader_processes(staging: str | None) -> int:
    """Kill, with their whole process group, the ogr2ogr processes on this machine loading into `staging`
    (each runs in a session of its own, so the group is the loader and whatever it started)."""
    if not staging:
        return 0
    killed = 0
    for process in psutil.process_iter(["pid", "name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if cmdline and Path(cmdline[0]).name == "ogr2ogr" and staging in cmdline:
            try:
                if os.getpgid(process.pid) == process.pid:
                    os.killpg(process.pid, signal.SIGKILL)
                else:  # not a group leader (started otherwise): its group is someone else's, kill it alone
                    process.kill()
                killed += 1
            except (ProcessLookupError, psutil.NoSuchProcess):
                pass
    return killed


def end_owner_sessions(token: int | None) -> None:
    """End the database sessions a dead owner left behind (ogr2ogr's COPY, an index build), wherever they run."""
    if token is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE application_name = %s AND pid <> pg_backend_pid()",
                       (APPLICATION_NAME.format(token=token),))


def drop_staging(staging: str | None) -> None:
    if not staging:
        return
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(
            sql.Identifier(settings.SDI_STAGING_SCHEMA), sql.Identifier(staging)))


def remove_workdir(path: str | None) -> None:
    """The import's temporary folder; only a folder of ours (named sdi-import-*) is removed."""
    if path and Path(path).name.startswith(WORKDIR_PREFIX):
        shutil.rmtree(path, ignore_errors=True)


def remove_upload(job: ImportJob) -> None:
    """Uploaded files are ours to delete once imported; files pointed at on the server are not (the job
    records which it was, and the path must lie in the upload folder)."""
    if not job.options.get("uploaded"):
        return
    upload_root = Path(settings.SDI_UPLOAD_DIR).resolve()
    resolved = Path(job.source_path).resolve()
    if resolved.exists() and upload_root in resolved.parents:
        folder = resolved.parent  # each upload has a folder of its own under the upload root
        shutil.rmtree(folder) if folder != upload_root else resolved.unlink()


def clean_up_interrupted(job: ImportJob, reason: str, *, dead_owner: bool) -> ImportJob:
    """Remove what the job left and record its true outcome; returns the job as recorded."""
    scratch = job.scratch or {}
    kill_loader_processes(scratch.get("staging"))
    if dead_owner:
        end_owner_sessions(job.owner_token)
    drop_staging(scratch.get("staging"))
    remove_workdir(scratch.get("workdir"))
    remove_upload(job)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.RUNNING:
            return job  # its owner recorded the end after all
        published = job.published_at is not None
        job.status = ImportJob.Status.SUCCEEDED if published else ImportJob.Status.FAILED
        job.stage = "done" if published else "failed"
        job.message = (f"{job.message} ({reason} after publishing; attribute indexes rebuilt)" if published
                       else f"interrupted: {reason}")
        job.finished = timezone.now()
        job.save(update_fields=["status", "stage", "message", "finished"])
    if published:
        _finish_indexes(job.slug)
    log.warning("import job %s (%s) interrupted (%s): recorded as %s", job.pk, job.slug, reason, job.status)
    return job


def _finish_indexes(slug: str) -> None:
    """An index build that was cut off leaves an invalid index, which `CREATE INDEX … IF NOT EXISTS` would
    keep forever: drop it and build what is missing."""
    dataset = Dataset.objects.filter(slug=slug).first()
    if dataset is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT n.nspname, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid "
                       "AND i.indrelid = to_regclass(format('%%I.%%I', %s, %s))",
                       (dataset.table_schema, dataset.table_name))
        for schema, index in cursor.fetchall():
            cursor.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}.{}").format(
                sql.Identifier(schema), sql.Identifier(index)))
    index_attributes(dataset.table_schema, dataset.table_name)


def reap_interrupted_jobs(own_token: int | None = None) -> list[ImportJob]:
    """Clean up every running job whose owner is gone (or is this idle process, after a lost connection)."""
    reaped = []
    for job in ImportJob.objects.filter(status=ImportJob.Status.RUNNING).order_by("pk"):
        if own_token is not None and job.owner_token == own_token:
            reaped.append(clean_up_interrupted(job, "the database connection was lost", dead_owner=False))
        elif owner_is_gone(job.owner_token):
            reaped.append(clean_up_interrupted(job, f"{job.owner or 'its process'} stopped while running it",
                                               dead_owner=True))
    return reaped
