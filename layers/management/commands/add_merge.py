"""Declare (or update) a merged dataset from a spec file, then build it in the foreground."""
from django.core.management.base import BaseCommand, CommandError

from layers.loading import ImportRefused
from layers.merging.commands import build_in_foreground
from layers.merging.services import save_merge
from layers.merging.spec import load_spec_file


class Command(BaseCommand):
    requires_system_checks = []
    help = ("Declare the merged dataset described by SPEC (YAML or JSON: slug, metadata, crs, overlap, fields, "
            "members; docs/merging.md), or update it when its slug exists, then build it now (unless --no-build). "
            "Exits 0 when the build succeeded; otherwise non-zero with the reason naming the member, field and "
            "feature (the published merge is then unchanged).")

    def add_arguments(self, parser):
        parser.add_argument("spec", help="the spec file (.yml/.yaml/.json)")
        parser.add_argument("--no-build", action="store_true", help="only record the merge; build it later")

    def handle(self, *args, spec, no_build=False, **options):
        try:
            merge, created = save_merge(load_spec_file(spec))
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{'declared' if created else 'updated'} merge {merge.slug}")
        if not no_build:
            self.stdout.write(self.style.SUCCESS(build_in_foreground(merge, "manage.py add_merge",
                                                                     options["verbosity"])))
