"""Run the task queue's worker: queued imports, harvests and their schedule, merge builds (started next to gunicorn by
deploy/gunicorn.conf.py, or as the cantho-sdi-worker systemd unit)."""
from django.conf import settings
from django.core.management.base import BaseCommand

from layers.jobs.tasks import IMPORTS, MAINTENANCE, MERGES, SOURCES
from layers.jobs.worker import run_worker


class Command(BaseCommand):
    help = ("Run the task queue's worker (procrastinate, in PostgreSQL; no broker needed): queued dataset imports, "
            "source harvests, the every-minute schedule of sources, and builds of merged datasets. It waits for the database when it is "
            "unreachable, and stops on SIGTERM/Ctrl-C after cleaning up the jobs in hand.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run the jobs queued now, then exit")
        parser.add_argument("--concurrency", type=int, default=settings.SDI_WORKER_CONCURRENCY,
                            help="jobs run at once (default SDI_WORKER_CONCURRENCY, %(default)s)")
        parser.add_argument("--queue", action="append", dest="queues", choices=(IMPORTS, SOURCES, MERGES, MAINTENANCE),
                            help="serve only this queue (repeatable; default: all)")

    def handle(self, *args, once: bool, concurrency: int, queues: list[str] | None, **options):
        run_worker(concurrency=concurrency, queues=queues, once=once)
        self.stdout.write("worker stopped")
