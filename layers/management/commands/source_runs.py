"""The run history of a source."""
import json

from django.core.management.base import BaseCommand, CommandError

from layers.sources.models import Source
from layers.sources.services import run_summary


class Command(BaseCommand):
    help = ("The runs of the source of dataset SLUG, newest first: when, status, added/changed/removed, and why a "
            "run failed. --json prints a JSON list of objects with started, finished, status, added, changed, "
            "removed, error.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the dataset the source feeds")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument("--limit", type=int, default=100, help="at most this many runs (default 100)")

    def handle(self, *args, slug, **o):
        source = Source.objects.filter(slug=slug).first()
        if source is None:
            raise CommandError(f"no source for dataset {slug!r}")
        runs = [run_summary(run) for run in source.runs.select_related("source")[:o["limit"]]]
        if o["json"]:
            self.stdout.write(json.dumps(runs, ensure_ascii=False, indent=2))
            return
        for run in runs:
            self.stdout.write(f"{run['started']}  {run['status']:9}  +{run['added']} ~{run['changed']} "
                              f"-{run['removed']}  {run['error']}")
