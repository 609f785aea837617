"""Unpublish a dataset and drop its table (with its source, runs and change log)."""
from django.core.management.base import BaseCommand, CommandError

from layers.loading import ImportRefused
from layers.merging.models import MergedDataset
from layers.models import Dataset
from layers.registry.services import delete_dataset
from layers.sources.models import Source


class Command(BaseCommand):
    help = ("Delete a dataset: its registry row and its PostGIS table, with the source that feeds it, its runs and "
            "its change log. It disappears from the OGC API at once. A source whose first run never published "
            "the dataset is deleted too. Deleting a merged dataset deletes its merge and its overlaps "
            "collection.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="collection id of the dataset")

    def handle(self, *args, slug: str, **options):
        if not Dataset.objects.filter(slug=slug).exists():
            # A source that never published (its first run failed) holds the slug alone: remove it, or the slug
            # could never be registered again from the command line.
            orphan = Source.objects.filter(slug=slug, dataset__isnull=True).first()
            if orphan is not None:
                orphan.delete()
                self.stdout.write(self.style.SUCCESS(f"deleted the source of {slug} (it had published nothing)"))
                return
            # Likewise a merge never built: deleting the merged dataset's slug removes the merge.
            merge = MergedDataset.objects.filter(slug=slug, dataset__isnull=True).first()
            if merge is not None:
                merge.delete()
                self.stdout.write(self.style.SUCCESS(f"deleted the merge {slug} (it had published nothing)"))
                return
        try:
            delete_dataset(slug)
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"deleted {slug}"))
