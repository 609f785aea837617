"""Keeps the task-queue worker (manage.py run_worker) running next to gunicorn: restarts it whenever it dies, with backoff.

Runs as a thread in the gunicorn master (deploy/gunicorn.conf.py). That is safe because the thread only waits
on a pidfd and starts a process; it takes no lock that a forked web worker could inherit held, and it never
touches gunicorn's state. gunicorn 27's arbiter reaps every child with waitpid(-1), ours included, so the
worker is watched through a pidfd (which also survives that reaping and cannot point at a reused pid) rather
than through its exit status. Standard library only: the master imports no Django.
"""
import os
import select
import signal
import subprocess
import threading
import time

FIRST_DELAY, MAX_DELAY = 1.0, 30.0  # seconds before a restart, doubled while the worker keeps dying young
STEADY_SECONDS = 60.0  # a worker that ran this long resets the delay


class WorkerSupervisor:
    def __init__(self, command: list[str], log, env: dict | None = None):
        self.command = command
        self.log = log
        self.env = {**(env or os.environ), "SDI_SUPERVISOR_PID": str(os.getpid())}
        self.process: subprocess.Popen | None = None
        self._pidfd: int | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sdi-import-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _spawn(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env)
        self._pidfd = os.pidfd_open(self.process.pid)
        self.log.info("task-queue worker started (pid %s)", self.process.pid)

    def _run(self) -> None:
        delay = FIRST_DELAY
        while not self._stopping.is_set():
            started = time.monotonic()
            self._spawn()
            select.select([self._pidfd], [], [])  # readable once the worker has exited
            if self._stopping.is_set():
                return
            os.close(self._pidfd)
            self._pidfd = None
            delay = FIRST_DELAY if time.monotonic() - started > STEADY_SECONDS else delay
            self.log.error("task-queue worker (pid %s) exited; restarting it in %.0f s", self.process.pid, delay)
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, MAX_DELAY)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the worker cleans up the job in hand), then SIGKILL after `timeout`."""
        self._stopping.set()
        pidfd = self._pidfd
        if pidfd is None:
            return
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGTERM)
            if not select.select([pidfd], [], [], timeout)[0]:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            self.log.info("task-queue worker stopped")
        except ProcessLookupError:
            pass
