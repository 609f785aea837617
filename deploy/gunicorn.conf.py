"""gunicorn settings for `make run` and production (override with GUNICORN_CMD_ARGS or SDI_* variables)."""
import multiprocessing
import os

bind = os.environ.get("SDI_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SDI_WORKERS", str(max(2, multiprocessing.cpu_count()))))
threads = int(os.environ.get("SDI_THREADS", "1"))
timeout = int(os.environ.get("SDI_TIMEOUT", "120"))
graceful_timeout = 10
accesslog = os.environ.get("SDI_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("SDI_LOG_LEVEL", "info").lower()
wsgi_app = "sdi.wsgi:application"
# No control socket in ~/.gunicorn (gunicorn 27 creates one by default).
control_socket_disable = True

# The import worker runs next to the web workers, so `make run` (and a systemd unit) is one command.
# Set SDI_IMPORT_WORKER=0 to run `python manage.py run_import_worker` separately instead.
_import_worker = None


def when_ready(server):
    global _import_worker
    if os.environ.get("SDI_IMPORT_WORKER", "1") != "1":
        return
    import subprocess
    import sys
    from pathlib import Path

    manage = Path(__file__).resolve().parent.parent / "manage.py"
    _import_worker = subprocess.Popen([sys.executable, str(manage), "run_import_worker"])
    server.log.info("import worker started (pid %s)", _import_worker.pid)


def on_exit(server):
    if _import_worker is not None and _import_worker.poll() is None:
        _import_worker.terminate()
        try:
            _import_worker.wait(timeout=10)
        except Exception:
            _import_worker.kill()
        server.log.info("import worker stopped")
