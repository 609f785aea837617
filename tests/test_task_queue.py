"""The task queue (procrastinate, issue 10): harvests queued once per source, never two runs of a source at once, and
the every-minute schedule fired by a real worker process (tests/fake_sources_worker.py fakes only the sources)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, transaction
from procrastinate.contrib.django.models import ProcrastinateJob

from layers.jobs.deferral import defer_harvest
from layers.jobs.tasks import JobInterrupted, RetryWhenUnreachable
from layers.sources.errors import SourceFailed, SourceUnreachable
from tests.conftest import REPO, database_url_for_servers

SOURCES = (9_100_001, 9_100_002, 9_100_003)  # ids no real source has; the worker's harvest is faked
DEADLINE = 90  # seconds any one wait may take before the test fails


def forget_queued_work() -> None:
    """Remove the harvest and schedule jobs of earlier tests, and which minutes were already scheduled, so that a
    worker started now schedules the current minute itself."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name IN ('harvest_source', 'schedule_harvests') "
                       "AND status IN ('todo', 'doing')")
        cursor.execute("DELETE FROM procrastinate_periodic_defers")


def harvest_jobs(source_id: int) -> list[ProcrastinateJob]:
    return list(ProcrastinateJob.objects.filter(task_name="harvest_source", args={"source_id": source_id})
                .order_by("id"))


def wait_for(condition, what: str, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


class Worker:
    """`manage.py run_worker` on the test database, with the sources faked (tests/fake_sources_worker.py)."""

    def __init__(self, runs: Path, *args: str, due: tuple[int, ...] = ()):
        env = {**os.environ, "DATABASE_URL": database_url_for_servers(), "SDI_TEST_RUNS": str(runs),
               "SDI_TEST_DUE_SOURCES": ",".join(map(str, due)), "SDI_WORKER_HEARTBEAT_SECONDS": "1"}
        env.pop("PGAPPNAME", None)
        self.log = runs / "worker.log"
        self.process = subprocess.Popen([sys.executable, str(REPO / "tests" / "fake_sources_worker.py"), *args],
                                        cwd=REPO, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"the worker did not stop on SIGTERM:\n{self.log.read_text()}")


@pytest.fixture
def runs(committed_db, tmp_path):
    forget_queued_work()
    yield tmp_path
    for source_id in SOURCES:  # whatever is still waiting must not stall a later test's worker
        (tmp_path / f"release-{source_id}").touch()
    forget_queued_work()


def test_a_second_queued_harvest_of_a_source_is_refused(runs):
    """The queueing lock: one queued run per source; another source is not held up, and a refusal inside the
    caller's transaction leaves that transaction usable."""
    first, other = SOURCES[:2]
    assert defer_harvest(first) is True
    with transaction.atomic():
        assert defer_harvest(first) is False
        assert defer_harvest(other) is True
        assert ProcrastinateJob.objects.filter(task_name="harvest_source").count() >= 2  # still usable
    jobs = harvest_jobs(first)
    assert len(jobs) == 1 and jobs[0].status == "todo"
    assert (jobs[0].lock, jobs[0].queueing_lock) == (f"source:{first}", f"source:{first}")
    assert [job.status for job in harvest_jobs(other)] == ["todo"]


def test_two_runs_of_one_source_never_overlap(runs):
    """The lock: with a run of source A in progress, a second queued run of A waits, even though the worker has
    room for more (a run of B starts meanwhile); it starts once the first has ended."""
    a, b = SOURCES[:2]
    worker = Worker(runs, "--queue", "sources", "--concurrency", "3")
    try:
        assert defer_harvest(a)
        wait_for(lambda: (runs / f"started-{a}-1").exists(), "the first run of A to start")
        assert defer_harvest(a) is True, "the first run is running, not queued: a second may be queued"
        assert defer_harvest(a) is False, "a third is refused while the second is queued"
        assert defer_harvest(b)
        wait_for(lambda: (runs / f"started-{b}-1").exists(), "the run of B to start beside A's")
        (runs / f"release-{b}").touch()
        wait_for(lambda: (runs / f"ended-{b}-1").exists(), "the run of B to end")
        assert not (runs / f"started-{a}-2").exists(), "the second run of A started while the first ran"
        assert [job.status for job in harvest_jobs(a)] == ["doing", "todo"]

        (runs / f"release-{a}").touch()
        wait_for(lambda: (runs / f"ended-{a}-2").exists(), "the second run of A to run and end")
        assert not (runs / f"overlap-{a}").exists()
        wait_for(lambda: [job.status for job in harvest_jobs(a)] == ["succeeded", "succeeded"],
                 "both runs of A recorded as succeeded")
    finally:
        assert worker.stop() == 0, worker.log.read_text()


def test_the_schedule_fires_in_a_real_worker(runs):
    """The every-minute tick (a periodic task) is deferred by the worker itself, asks which sources are due, and
    queues one harvest each, which the same worker runs."""
    due = SOURCES
    for source_id in due:
        (runs / f"release-{source_id}").touch()
    worker = Worker(runs, "--queue", "sources", due=due)
    try:
        for source_id in due:
            wait_for(lambda: (runs / f"ended-{source_id}-1").exists(), f"the scheduled run of source {source_id}")
        ticks = ProcrastinateJob.objects.filter(task_name="schedule_harvests",
                                                procrastinateperiodicdefer__periodic_id="harvest-due-sources")
        assert ticks.exists()
        for source_id in due:
            assert harvest_jobs(source_id)[0].lock == f"source:{source_id}"
    finally:
        assert worker.stop() == 0, worker.log.read_text()
    assert "worker stopped" in worker.log.read_text()


def test_only_unreachable_sources_are_retried():
    """A connection that failed, or a run cut off by a stopping worker, is worth another try; a source that answered
    garbage (SourceFailed) is not, nor a bug; and not forever."""
    from procrastinate.jobs import Job

    strategy = RetryWhenUnreachable()
    job = Job(id=1, queue="sources", lock=None, queueing_lock=None, task_name="harvest_source", attempts=0,
              task_kwargs={"source_id": 1})
    assert strategy.get_retry_decision(exception=ConnectionRefusedError("refused"), job=job) is not None
    assert strategy.get_retry_decision(exception=TimeoutError("slow"), job=job) is not None
    assert strategy.get_retry_decision(exception=JobInterrupted("stopped (SIGTERM)"), job=job) is not None
    assert strategy.get_retry_decision(exception=SourceFailed("source x: column y is gone"), job=job) is None
    assert strategy.get_retry_decision(exception=SourceUnreachable("source x: cannot connect: timeout"),
                                       job=job) is not None
    assert strategy.get_retry_decision(exception=ValueError("a bug"), job=job) is None
    spent = Job(id=1, queue="sources", lock=None, queueing_lock=None, task_name="harvest_source", attempts=3,
                task_kwargs={"source_id": 1})
    assert strategy.get_retry_decision(exception=ConnectionRefusedError("refused"), job=spent) is None


def test_a_worker_stopped_mid_harvest_ends_at_once_and_the_run_is_retried(runs):
    """SIGTERM while a run is in progress (and never released): the worker does not wait for it; the run is
    interrupted where it reports progress, and its job goes back to the queue for another worker."""
    source_id = SOURCES[2]
    worker = Worker(runs, "--queue", "sources")
    assert defer_harvest(source_id)
    try:
        wait_for(lambda: (runs / f"started-{source_id}-1").exists(), "the run to start")
    finally:
        assert worker.stop() == 0, worker.log.read_text()
    assert (runs / f"ended-{source_id}-1").exists() and not (runs / f"release-{source_id}").exists()
    job = harvest_jobs(source_id)[-1]  # (earlier tests ran this source too)
    assert (job.status, job.attempts) == ("todo", 1), "the interrupted run should wait in the queue for a retry"
