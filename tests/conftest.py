"""Test fixtures: a real PostGIS test database with the default datasets, real gunicorn servers on it, and a real
headless Chromium for page tests (`browser`, from tests/browser.py).

Nothing here skips: without PostGIS, GDAL, gunicorn or chromium the fixtures raise and the tests fail.
"""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.browser import browser  # noqa: F401 (a fixture, for every page test)

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    """The Django test database, migrated, with the default Cần Thơ datasets loaded once (committed).

    Replaces pytest-django's fixture, which creates the test database only when some collected test carries
    the django_db mark; our server tests talk to the database through real processes instead.
    """
    from django.test.utils import setup_databases, teardown_databases

    from layers.registry.catalogue import load_catalogue
    from layers.jobs.owner import release_lease
    from layers.serving.database import close_pools

    with django_db_blocker.unblock():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        assert settings.DATABASES["default"]["NAME"].startswith("test_"), "refusing to load into a real database"
        load_catalogue(settings.SDI_DEFAULT_DATASETS)
    yield
    close_pools()  # else the pooled connections keep Django from dropping the test database
    release_lease()  # likewise the connection holding this process's import-job lock (layers.jobs.owner)
    with django_db_blocker.unblock():
        teardown_databases(db_cfg, verbosity=0)


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """Database access whose writes are committed, so other processes (the servers) see them."""
    with django_db_blocker.unblock():
        yield


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_servers() -> str:
    db = settings.DATABASES["default"]
    return f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class ServerProcess:
    """A gunicorn serving the SDI on the test database, as `make run` serves it."""

    def __init__(self, workers: int = 1, import_worker: bool = False, database_url: str | None = None,
                 env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url or database_url_for_servers(),
               "SDI_BIND": f"127.0.0.1:{self.port}", "SDI_WORKERS": str(workers), "SDI_ACCESS_LOG": "-",
               # Tests run queued imports in-process unless they test the worker itself.
               "SDI_IMPORT_WORKER": "1" if import_worker else "0", **(env or {})}
        env.pop("PGAPPNAME", None)  # this test process's import-job owner name (layers.jobs.owner) is not theirs
        self.log = open(REPO / ".pytest_cache" / f"server-{self.port}.log", "w") if (REPO / ".pytest_cache").is_dir() \
            else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", str(REPO / "deploy" / "gunicorn.conf.py")],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                if requests.get(f"{self.url}/ogcapi/conformance", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer on {self.url} within {timeout}s")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_next_queued_import():
    """What the worker does with the oldest queued import, in this process (the worker does not run in most tests):
    its procrastinate task must have been deferred; the job is then claimed and run as the task would."""
    from procrastinate.contrib.django.models import ProcrastinateJob

    from layers.jobs.queue import run_queued
    from layers.models import ImportJob

    job = ImportJob.objects.filter(status=ImportJob.Status.QUEUED).order_by("created").first()
    assert job is not None, "no import job is queued"
    assert ProcrastinateJob.objects.filter(task_name="import_dataset", args={"import_job_id": job.pk}, status="todo",
                                           lock=f"dataset:{job.slug}").exists(), f"import job {job.pk} has no queued task"
    return run_queued(job.pk)


@pytest.fixture(scope="session")
def server(django_db_setup):
    """One live server (2 workers) for the HTTP tests; yields its base URL."""
    (REPO / ".pytest_cache").mkdir(exist_ok=True)
    process = ServerProcess(workers=2)
    yield process.url
    process.stop()


@pytest.fixture(scope="session")
def ogcapi(server):
    return f"{server}/ogcapi"


@pytest.fixture
def start_server(django_db_setup):
    started = []

    def start(workers: int = 1, import_worker: bool = False) -> str:
        process = ServerProcess(workers, import_worker)
        started.append(process)
        return process.url

    yield start
    for process in started:
        process.stop()
