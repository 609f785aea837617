"""Reliability against a database restart and a killed import worker (issue 8: H1, M1, and 503 on an outage).

Everything runs against a second, throw-away PostgreSQL cluster (deploy/postgis.sh with SDI_PGDATA and a port of
its own), so that it can be stopped and started without disturbing the test session's database: a real
gunicorn with its supervised task-queue worker (manage.py run_worker: procrastinate's worker in ours) serves it, and this process points its own Django connection at it
for the length of the module.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob
from psycopg import sql

from layers.jobs.owner import release_lease
from layers.jobs.queue import run_job, submit_import
from layers.models import Dataset, ImportJob, WorkerHeartbeat
from layers.registry.services import DatasetMetadata
from tests.conftest import REPO, ServerProcess, free_port

META = DatasetMetadata(title_vi="Trạm bơm", title_en="Pumping stations", sector="environment",
                       licence_name="CC BY 4.0", attribution="Sở Nông nghiệp và Môi trường (test)")
DEADLINE = 90  # seconds any one wait may take before the test fails


class ThrowawayCluster:
    """A PostgreSQL cluster of its own under /var/tmp (reachable by the `postgres` user when run as root)."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="sdi-outage-", dir="/var/tmp"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.url = f"postgis://sdi:sdi@127.0.0.1:{self.port}/sdi"
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PGAPPNAME")}
        self.env.update(SDI_PGDATA=str(self.root), SDI_PG_PORT=str(self.port), SDI_PG_FSYNC="off")

    def _postgis(self, action: str) -> None:
        subprocess.run(["bash", str(REPO / "deploy" / "postgis.sh"), action], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def start(self) -> None:
        self._postgis("start")

    def stop(self) -> None:
        self._postgis("stop")

    def migrate(self) -> None:
        subprocess.run([sys.executable, str(REPO / "manage.py"), "migrate", "--noinput", "-v", "0"],
                       env={**self.env, "DATABASE_URL": self.url}, check=True, cwd=REPO)

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory):
    """The cluster, a gunicorn (1 web worker + supervised import worker) on it, and this process's Django
    connection pointed at it; yields (cluster, server, uploads folder, the worker's temporary folder)."""
    cluster = ThrowawayCluster()
    work = tmp_path_factory.mktemp("reliability")
    uploads, worker_tmp = work / "uploads", work / "tmp"
    uploads.mkdir()
    worker_tmp.mkdir()
    db = connection.settings_dict
    saved = {key: db[key] for key in ("NAME", "PORT")}
    saved_upload_dir = settings.SDI_UPLOAD_DIR
    server = None
    try:
        cluster.start()
        cluster.migrate()
        with django_db_blocker.unblock():
            release_lease()
            connection.close()
            for settings_dict in (db, settings.DATABASES["default"]):
                settings_dict.update(NAME="sdi", PORT=cluster.port)
            settings.SDI_UPLOAD_DIR = uploads
            server = ServerProcess(workers=1, import_worker=True, database_url=cluster.url, env={
                "SDI_UPLOAD_DIR": str(uploads), "TMPDIR": str(worker_tmp), "SDI_WORKER_HEARTBEAT_SECONDS": "1"})
            yield cluster, server, uploads, worker_tmp
    finally:
        if server is not None:
            server.stop()
        with django_db_blocker.unblock():
            release_lease()
            connection.close()
            for settings_dict in (db, settings.DATABASES["default"]):
                settings_dict.update(saved)
            settings.SDI_UPLOAD_DIR = saved_upload_dir
        cluster.remove()


def wait_for(condition, what: str, deadline: float = DEADLINE, step: float = 0.1):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        result = condition()
        if result:
            return result
        time.sleep(step)
    raise AssertionError(f"gave up waiting for {what}")


def points(path: Path, count: int = 3) -> Path:
    """`count` points in Cần Thơ, written as text (fast enough for the 400,000 of a slow import)."""
    features = (f'{{"type":"Feature","properties":{{"ma":"{i}","ten":"Trạm {i}","q":{i * 0.5}}},"geometry":'
                f'{{"type":"Point","coordinates":[{105.6 + (i % 1000) * 0.0003},{9.95 + i // 1000 * 0.0005}]}}}}'
                for i in range(count))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        out.write('{"type":"FeatureCollection","features":[')
        out.write(",".join(features))
        out.write("]}")
    return path


def finished(job: ImportJob) -> ImportJob | None:
    job.refresh_from_db()
    return job if job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED) else None


def import_worker(server: ServerProcess) -> psutil.Process | None:
    """The live import worker the gunicorn master supervises."""
    for child in psutil.Process(server.process.pid).children():
        try:
            if "run_worker" in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                return child
        except psutil.NoSuchProcess:
            pass
    return None


def ready_worker(server: ServerProcess, not_pid: int | None = None) -> psutil.Process:
    """Wait for a (new) worker that has finished starting: its first heartbeat follows its clean-up of jobs
    left by dead owners."""
    def check():
        worker = import_worker(server)
        if worker is None or worker.pid == not_pid:
            return None
        connection.close()  # cheap, and safe across the cluster's restarts
        return worker if WorkerHeartbeat.objects.filter(name__endswith=f":{worker.pid}").exists() else None
    return wait_for(check, "the import worker to start and report")


def kill_worker(server: ServerProcess, how: signal.Signals = signal.SIGKILL) -> int:
    worker = import_worker(server)
    assert worker is not None, "no import worker is running"
    worker.send_signal(how)
    return worker.pid


def staging_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(format('%%I.%%I', %s, %s)) IS NOT NULL", (settings.SDI_STAGING_SCHEMA, name))
        return cursor.fetchone()[0]


def loaders_for(staging: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        if process.info["name"] == "ogr2ogr" and staging in (process.info["cmdline"] or []) \
                and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


def test_a_database_restart_is_survived_by_worker_and_web(site, tmp_path):
    """H1 and the outage answer: during a restart /readyz and every page answer 503 (OGC exception JSON with
    Retry-After on the API), a job queued just after is run, and no request after it fails - not even the first
    one of a collection untouched since, which draws a pooled connection that the restart killed."""
    cluster, server, _, _ = site
    worker = ready_worker(server)
    jobs = [submit_import(points(tmp_path / f"{slug}.geojson"), slug=slug, metadata=META)
            for slug in ("r-touched", "r-untouched")]
    for job in jobs:
        assert wait_for(lambda: finished(job), f"job {job.slug}").status == ImportJob.Status.SUCCEEDED, job.message
    ready = wait_for(lambda: (r := requests.get(f"{server.url}/readyz", timeout=30)).status_code == 200 and r,
                     "/readyz to answer 200")
    assert ready.json()["checks"]["import_worker"]["ok"] is True
    assert requests.get(f"{server.url}/healthz", timeout=30).json() == {"status": "ok"}
    assert requests.get(f"{server.url}/ogcapi/collections/r-touched/items", timeout=30).status_code == 200

    cluster.stop()
    connection.close()
    readiness = requests.get(f"{server.url}/readyz", timeout=30)
    assert readiness.status_code == 503 and readiness.json()["checks"]["database"]["ok"] is False
    ogc = requests.get(f"{server.url}/ogcapi/collections", timeout=30)
    assert ogc.status_code == 503 and ogc.headers["Retry-After"].isdigit()
    assert ogc.headers["Content-Type"].startswith("application/json")
    assert set(ogc.json()) >= {"code", "description"}
    rest = requests.get(f"{server.url}/api/datasets", headers={"Authorization": "Token not-checked-now"}, timeout=30)
    assert rest.status_code == 503 and rest.headers["Retry-After"] and "detail" in rest.json()
    page = requests.get(f"{server.url}/", timeout=30)
    assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html")
    assert "Server Error" not in page.text

    cluster.start()
    first = requests.get(f"{server.url}/ogcapi/collections/r-untouched/items", timeout=30)
    assert first.status_code == 200, first.text
    assert len(first.json()["features"]) == 3
    after = submit_import(points(tmp_path / "after.geojson"), slug="r-after", metadata=META)
    assert wait_for(lambda: finished(after), "the job queued after the restart").status == ImportJob.Status.SUCCEEDED
    assert import_worker(server).pid == worker.pid, "the worker should have reconnected, not died"
    assert requests.get(f"{server.url}/ogcapi/collections/r-after/items", timeout=30).status_code == 200
    wait_for(lambda: requests.get(f"{server.url}/readyz", timeout=30).status_code == 200, "/readyz back to 200")


def test_a_killed_worker_is_restarted_and_leaves_a_live_processs_job_alone(site, tmp_path):
    """The supervisor in the gunicorn master restarts a SIGKILLed worker, and the new worker does not fail a
    job that another live process (here this one, as `import_dataset` on the command line would) is running."""
    _, server, _, _ = site
    old = ready_worker(server).pid
    elsewhere = submit_import(points(tmp_path / "cli.geojson"), slug="r-cli", metadata=META, queue=False)
    assert elsewhere.status == ImportJob.Status.RUNNING

    kill_worker(server)
    new = ready_worker(server, not_pid=old)
    assert new.parent().pid == server.process.pid
    elsewhere.refresh_from_db()
    assert elsewhere.status == ImportJob.Status.RUNNING, elsewhere.message
    assert run_job(elsewhere).status == ImportJob.Status.SUCCEEDED

    queued = submit_import(points(tmp_path / "later.geojson"), slug="r-later", metadata=META)
    assert wait_for(lambda: finished(queued), "a job after the restart").status == ImportJob.Status.SUCCEEDED


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_worker_killed_mid_import_leaves_nothing_behind(site, how):
    """M1: a worker killed while ogr2ogr copies (SIGKILL: the restarted worker cleans up; SIGTERM: the worker
    itself, before it exits): the loader's process group is killed, the staging table, temporary folder and
    upload copy are removed, and the job is recorded as interrupted."""
    cluster, server, uploads, worker_tmp = site
    old = ready_worker(server).pid
    upload = points(uploads / uuid.uuid4().hex / "big.geojson", count=400_000)
    job = submit_import(upload, slug="r-big", metadata=META, uploaded=True)

    def copying():
        job.refresh_from_db()
        assert job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING), \
            f"the import ended ({job.status}: {job.message}) before it could be interrupted"
        staging = job.scratch.get("staging")
        return staging and staging_exists(staging) and staging
    staging = wait_for(copying, "ogr2ogr to create its staging table", step=0.05)
    # Hold ogr2ogr between two of its 65,536-row transactions, so that it is surely still running when killed.
    hold = psycopg.connect(host="127.0.0.1", port=cluster.port, dbname="sdi", user="sdi", password="sdi")
    try:
        hold.execute(sql.SQL("LOCK TABLE {}.{} IN SHARE MODE").format(
            sql.Identifier(settings.SDI_STAGING_SCHEMA), sql.Identifier(staging)))
        loaders = loaders_for(staging)
        assert loaders, "ogr2ogr finished before it could be held"
        assert all(os.getpgid(p.pid) == p.pid for p in loaders), "ogr2ogr must lead a process group of its own"
        workdir = Path(job.scratch["workdir"])
        assert workdir.parent == worker_tmp and workdir.exists()
        kill_worker(server, how)
    finally:
        hold.rollback()  # the clean-up's DROP TABLE waits for this lock
        hold.close()
    ready_worker(server, not_pid=old)
    job = wait_for(lambda: finished(job), "the interrupted job to be recorded")
    assert job.status == ImportJob.Status.FAILED and job.message.startswith("interrupted:"), job.message
    assert not loaders_for(staging)
    assert not staging_exists(staging)
    assert not workdir.exists() and not list(worker_tmp.glob("sdi-import-*"))
    assert not upload.parent.exists()
    assert not Dataset.objects.filter(slug="r-big").exists()
    # procrastinate's record of the job ends too: at once after SIGTERM (the task raised), and after SIGKILL once
    # the every-minute sweep finds the dead worker's job stalled (its lock would otherwise be held forever).
    task = ProcrastinateJob.objects.filter(task_name="import_dataset", args={"import_job_id": job.pk})
    wait_for(lambda: task.get().status == "failed", "the task to be recorded failed", deadline=DEADLINE + 60)


def test_a_worker_killed_after_publishing_reports_success(site, tmp_path):
    """M1: the swap and the job's record commit together, so a worker killed after it (here while it builds
    the attribute indexes, held up by an open snapshot) leaves a job reported succeeded, and no invalid index."""
    cluster, server, _, _ = site
    old = ready_worker(server).pid
    snapshot = psycopg.connect(host="127.0.0.1", port=cluster.port, dbname="sdi", user="sdi", password="sdi")
    try:
        snapshot.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        snapshot.execute("SELECT 1")  # CREATE INDEX CONCURRENTLY now waits for this transaction to end
        job = submit_import(points(tmp_path / "published.geojson"), slug="r-published", metadata=META)

        def indexing():
            job.refresh_from_db()
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'CREATE INDEX CONCURRENTLY%%' "
                               "AND wait_event_type = 'Lock'")
                return job.published_at is not None and cursor.fetchone()[0] > 0
        wait_for(indexing, "the job to publish and wait in its index build")
        kill_worker(server)
        job = wait_for(lambda: finished(job), "the interrupted job to be recorded")
        assert job.status == ImportJob.Status.SUCCEEDED, job.message
        assert job.message.startswith("published r-published: 3 Point features")
    finally:
        snapshot.rollback()
        snapshot.close()
    ready_worker(server, not_pid=old)
    assert requests.get(f"{server.url}/ogcapi/collections/r-published/items", timeout=30).json()["numberMatched"] == 3

    def indexes_valid():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FILTER (WHERE NOT indisvalid), count(*) FROM pg_index "
                           "WHERE indrelid = 'sdi_data.r_published'::regclass")
            invalid, total = cursor.fetchone()
            return invalid == 0 and total >= 4  # fid, geom and the attributes ma, ten, q
    wait_for(indexes_valid, "the attribute indexes to be rebuilt")
