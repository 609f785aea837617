"""Unpublish a dataset and drop its table."""
from django.core.management.base import BaseCommand, CommandError

from layers.loading import ImportRefused
from layers.registry.services import delete_dataset


class Command(BaseCommand):
    help = "Delete a dataset: its registry row and its PostGIS table. It disappears from the OGC API at once."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="collection id of the dataset")

    def handle(self, *args, slug: str, **options):
        try:
            delete_dataset(slug)
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"deleted {slug}"))
