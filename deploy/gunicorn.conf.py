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
