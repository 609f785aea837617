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

# The task-queue worker (imports, harvests and the schedule of sources) runs next to the web workers, so `make run`
# is one command. A thread of the master restarts it whenever it dies (layers/jobs/supervisor.py). Set
# SDI_IMPORT_WORKER=0 to run `python manage.py run_worker` separately instead (production: the cantho-sdi-worker
# systemd unit, deploy/systemd/).


def when_ready(server):
    if os.environ.get("SDI_IMPORT_WORKER", "1") != "1":
        return
    import sys
    from pathlib import Path

    from layers.jobs.supervisor import WorkerSupervisor

    manage = Path(__file__).resolve().parent.parent / "manage.py"
    # Kept on the arbiter, not in this module: a reload (HUP) reads this file again into fresh globals.
    server.sdi_import_supervisor = WorkerSupervisor([sys.executable, str(manage), "run_worker"], server.log)
    server.sdi_import_supervisor.start()


def on_exit(server):
    supervisor = getattr(server, "sdi_import_supervisor", None)
    if supervisor is not None:
        supervisor.stop(timeout=graceful_timeout)
