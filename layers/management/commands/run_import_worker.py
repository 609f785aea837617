"""Run queued dataset imports (started next to gunicorn by deploy/gunicorn.conf.py)."""
from django.core.management.base import BaseCommand

from layers.jobs.queue import run_worker


class Command(BaseCommand):
    help = "Run queued dataset import jobs as they arrive (PostgreSQL LISTEN/NOTIFY; no broker needed)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run the jobs queued now, then exit")
        parser.add_argument("--poll", type=float, default=10.0, help="seconds between checks when idle (default 10)")

    def handle(self, *args, once: bool, poll: float, **options):
        try:
            run_worker(poll_seconds=poll, once=once)
        except KeyboardInterrupt:  # Ctrl-C in `make run` reaches the whole process group
            self.stdout.write("import worker stopped")
