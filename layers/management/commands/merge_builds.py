"""The build history of a merged dataset."""
import json

from django.core.management.base import BaseCommand, CommandError

from layers.merging.models import MergedDataset
from layers.merging.services import history


class Command(BaseCommand):
    requires_system_checks = []
    help = ("List the builds of the merged dataset SLUG, newest first: started, finished, status, feature counts "
            "per member, overlaps and gaps (area m², location) and the error of a failed build.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the merged collection id")
        parser.add_argument("--json", action="store_true", help="print JSON (a list of builds)")
        parser.add_argument("--limit", type=int, default=20, help="at most this many builds (default 20)")

    def handle(self, *args, slug, **options):
        merge = MergedDataset.objects.filter(slug=slug).first()
        if merge is None:
            raise CommandError(f"no merge {slug!r}")
        builds = history(merge, options["limit"])
        if options["json"]:
            self.stdout.write(json.dumps(builds, ensure_ascii=False, indent=2))
            return
        for b in builds:
            line = f"{b['started']}  {b['status']:<9}  {b['features'] if b['features'] is not None else '-':>9} features"
            if b["status"] == "succeeded":
                line += f"  overlaps {b['overlap_area_m2']} m²  gaps {b['gap_area_m2']} m²"
            self.stdout.write(line + (f"  {b['error']}" if b["error"] else ""))
