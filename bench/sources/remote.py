"""This SDI's own OGC API on another port, as the remote server a source reads (what the issue suggests)."""
import subprocess
import time
import urllib.request

from bench import OUT, REPO
from bench.processes import _running, ours_env

PORT = 8791


def start_remote_server() -> subprocess.Popen:
    OUT.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([str(REPO / ".venv" / "bin" / "gunicorn"), "-c", str(REPO / "deploy" / "gunicorn.conf.py")],
                            cwd=REPO, env=ours_env(SDI_BIND=f"127.0.0.1:{PORT}", SDI_LOG_LEVEL="warning",
                                                   SDI_WORKERS="2", SDI_IMPORT_WORKER="0"),
                            stdout=open(OUT / "harvest-remote-server.log", "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    _running.append(proc)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/ogcapi/collections?f=json", timeout=10):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"the remote server exited; see {OUT / 'harvest-remote-server.log'}")
            time.sleep(1)
    raise SystemExit("the remote server did not answer within 120 s")


def collection_url(slug: str) -> str:
    return f"http://127.0.0.1:{PORT}/ogcapi/collections/{slug}"
