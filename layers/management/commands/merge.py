"""Rebuild a merged dataset now, in the foreground."""
from django.core.management.base import BaseCommand, CommandError

from layers.merging.commands import build_in_foreground
from layers.merging.models import MergedDataset


class Command(BaseCommand):
    requires_system_checks = []
    help = ("Build the merged dataset SLUG now from its members' current data (one INSERT … SELECT per member, "
            "overlaps and gaps, then published atomically). Exits 0 when it succeeded; otherwise non-zero with "
            "the reason (the published merge is then unchanged). Refused while another build of it runs.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the merged collection id")

    def handle(self, *args, slug, **options):
        merge = MergedDataset.objects.filter(slug=slug).first()
        if merge is None:
            raise CommandError(f"no merge {slug!r} (declare one with manage.py add_merge SPEC.yml)")
        self.stdout.write(self.style.SUCCESS(build_in_foreground(merge, "manage.py merge", options["verbosity"])))
