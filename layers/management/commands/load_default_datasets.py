"""Load the default Cần Thơ datasets of config/datasets.yml (idempotent: unchanged files are skipped)."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from layers.registry.catalogue import load_catalogue
from layers.loading import ImportRefused


class Command(BaseCommand):
    help = "Load (or refresh) the default datasets listed in a catalogue file; unchanged files are skipped."

    def add_arguments(self, parser):
        parser.add_argument("--catalogue", type=Path, default=settings.SDI_DEFAULT_DATASETS,
                            help="YAML catalogue of datasets (default: %(default)s)")

    def handle(self, *args, catalogue: Path, **options):
        def announce(entry):
            self.stdout.write(f"  loading {entry.slug} from {entry.path.name} …")

        try:
            loaded = load_catalogue(catalogue, on_dataset=announce)
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            f"default datasets: {len(loaded)} loaded" + (f" ({', '.join(loaded)})" if loaded else ", all up to date")))
