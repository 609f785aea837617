"""A harvest run cut short by a killed worker (SIGKILL: no clean-up code runs) is recorded as failed, never
half-applied, and retried by the task queue, with real worker processes (`manage.py run_worker`) on the test
database and a real sector database whose table the test holds locked so that the run hangs mid-way."""
import os
import signal
import subprocess
import sys

import psycopg
import pytest
from procrastinate.contrib.django.models import ProcrastinateJob
from psycopg import sql

from layers.jobs.deferral import defer_harvest
from layers.models import Dataset
from layers.registry.services import delete_dataset
from layers.sources.harvest import harvest
from layers.sources.models import Source, SourceRun
from layers.sources.services import register_source
from tests.conftest import REPO, database_url_for_servers
from tests.sources_sector import admin_kwargs, parcels, sector_database, sector_dsn  # noqa: F401 - fixtures
from tests.test_sources_postgres import published
from tests.test_task_queue import forget_queued_work, wait_for

SLUG = "srck-thua-dat"


def start_worker(log_path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url_for_servers(), "SDI_WORKER_HEARTBEAT_SECONDS": "1"}
    env.pop("PGAPPNAME", None)
    return subprocess.Popen([sys.executable, "manage.py", "run_worker"], cwd=REPO, env=env,
                            stdout=open(log_path, "a"), stderr=subprocess.STDOUT)


@pytest.fixture
def source(committed_db, parcels):
    forget_queued_work()
    registered = register_source(user=None, slug=SLUG, kind="postgres", dsn=sector_dsn(), table=parcels.qualified,
                                 key="ma_thua", metadata={"title_vi": "Thửa đất (thử)", "sector": "land",
                                                          "attribution": "thử"})
    yield registered
    forget_queued_work()
    if Dataset.objects.filter(slug=SLUG).exists():
        delete_dataset(SLUG)
    Source.objects.filter(slug=SLUG).delete()


def test_a_run_of_a_killed_worker_is_failed_then_retried_never_half_applied(source, parcels, tmp_path):
    assert harvest(source.pk).status == "succeeded"
    before = published(SLUG)
    parcels.sql("UPDATE {t} SET \"diện_tích\" = \"diện_tích\" + 1000 WHERE ma_thua IN ('NK-0001', 'NK-0002')")

    blocker = psycopg.connect(**{**admin_kwargs(parcels.conn.info.dbname), "autocommit": False})
    blocker.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.SQL(parcels.qualified)))
    log = tmp_path / "worker.log"
    worker = start_worker(log)
    try:
        assert defer_harvest(source.pk)
        hung = wait_for(lambda: SourceRun.objects.filter(source=source, status="running").first(),
                        "the queued run to start (and hang on the locked sector table)")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        blocker.rollback()
        blocker.close()
        if worker.poll() is None:
            worker.kill()
    assert published(SLUG) == before, "a killed run wrote nothing"

    successor = start_worker(log)
    try:
        wait_for(lambda: SourceRun.objects.filter(pk=hung.pk, status="failed").exists(),
                 "the next worker to record the killed run as failed", deadline=120)
        retried = wait_for(lambda: SourceRun.objects.filter(source=source, status="succeeded",
                                                            started__gt=hung.started).first(),
                           "the task queue to retry the harvest", deadline=150)
        job = wait_for(lambda: ProcrastinateJob.objects.filter(task_name="harvest_source", args={"source_id": source.pk},
                                                               status="succeeded").first(),
                       "the queue to record the retried job as succeeded")
    finally:
        successor.send_signal(signal.SIGTERM)
        successor.wait(timeout=60)
    assert SourceRun.objects.get(pk=hung.pk).error.startswith("interrupted:")
    assert (retried.changed, retried.added, retried.removed) == (2, 0, 0), log.read_text()[-2000:]
    after = published(SLUG)
    assert after["NK-0001"][2] == before["NK-0001"][2] + 1000 and after["NK-0003"] == before["NK-0003"]
    assert job.attempts >= 1, "the killed job itself was retried, not a new one queued"
