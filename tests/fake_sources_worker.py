"""A real task-queue worker (manage.py run_worker) whose sources are faked, for tests/test_task_queue.py.

Run as a subprocess: `due_source_ids` answers the ids in SDI_TEST_DUE_SOURCES, and `harvest` records its runs as
files in SDI_TEST_RUNS (`started-<id>-<n>`, `ended-<id>-<n>`, and `overlap-<id>` if two runs of one source ever
ran at once); a run waits for `release-<id>` before it ends, reporting progress meanwhile. Everything else is the real worker.
"""
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdi.settings")

import django  # noqa: E402

django.setup()

import layers.sources.harvest  # noqa: E402
import layers.sources.schedule  # noqa: E402
from django.core.management import call_command  # noqa: E402

RUNS = Path(os.environ["SDI_TEST_RUNS"])
DUE = [int(x) for x in os.environ.get("SDI_TEST_DUE_SOURCES", "").split(",") if x]
running: dict[int, int] = {}
counts: dict[int, int] = {}
lock = threading.Lock()


def fake_harvest(source_id: int, *, on_progress=None):
    with lock:
        counts[source_id] = n = counts.get(source_id, 0) + 1
        running[source_id] = running.get(source_id, 0) + 1
        if running[source_id] > 1:
            (RUNS / f"overlap-{source_id}").touch()
    (RUNS / f"started-{source_id}-{n}").touch()
    try:
        deadline = time.monotonic() + 120
        while not (RUNS / f"release-{source_id}").exists() and time.monotonic() < deadline:
            if on_progress:
                on_progress(0, "waiting")  # as a real harvest reports its pages: a stopping worker ends it here
            time.sleep(0.05)
    finally:
        with lock:
            running[source_id] -= 1
        (RUNS / f"ended-{source_id}-{n}").touch()
    return None


layers.sources.schedule.due_source_ids = lambda: list(DUE)
layers.sources.harvest.harvest = fake_harvest
call_command("run_worker", *sys.argv[1:])
