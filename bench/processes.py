"""Starting, watching and stopping the processes a benchmark runs (servers in their own process groups), and
the environment our own processes need."""
import os
import signal
import subprocess
import time
from pathlib import Path

from bench import REPO
from bench.database import DATABASE_URL

_running: list[subprocess.Popen] = []


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(command, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, **kwargs)


def stop_process(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """Stop a server we started (its own process group: the master and its workers)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
    if proc in _running:
        _running.remove(proc)


def stop_all(*_args) -> None:
    for proc in list(_running):
        stop_process(proc, grace=5)


class Interrupted(Exception):
    """A signal (Ctrl-C, kill) asked the benchmark to stop."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def on_signal(signum, _frame):
    stop_all()
    raise Interrupted(signum)


def ours_env(**extra) -> dict:
    """Environment for our processes: the benchmark database, and the checkout's signing key that `make`
    generates (.sdi/secret_key) unless SDI_SECRET_KEY is set (the settings refuse to start without one)."""
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, **extra}
    key_file = REPO / ".sdi" / "secret_key"
    if not env.get("SDI_SECRET_KEY") and key_file.exists():
        env["SDI_SECRET_KEY"] = key_file.read_text().strip()
    return env


def worker_pids(master: int) -> list[int]:
    """Direct children of a server's master process (gunicorn / uvicorn workers), not helper processes."""
    children = []
    for task in Path(f"/proc/{master}/task").glob("*"):
        try:
            children += [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            pass
    workers = []
    for pid in sorted(set(children)):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "resource_tracker" not in cmdline:
            workers.append(pid)
    return workers


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def port_free(port: int) -> bool:
    import socket
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0
