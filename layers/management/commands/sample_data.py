"""Write the synthetic sample files (land use of three districts, water monitoring) and import them."""
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from layers.loading import ImportRefused
from layers.samples.catalogue import SAMPLES, make_sample, reset_samples


class Command(BaseCommand):
    help = ("Generate the SYNTHETIC sample datasets (DỮ LIỆU MẪU) into SDI_SAMPLES_DIR (default .sdi/samples) and "
            "import each through the upload path: " + ", ".join(s.slug for s in SAMPLES) + ". Bình Thủy is a "
            "zipped TCVN3 Shapefile in VN-2000, Cái Răng a WGS 84 GeoPackage, Phong Điền a VN-2000 GeoJSON with "
            "2014 codes, the monitoring readings a GeoJSON with a time field (datetime=), the stations a CSV. "
            "Deterministic and idempotent: an unchanged file is neither rewritten nor imported again, and a slug that "
            "real data has replaced (its dataset was not loaded from the sample file) is left alone. "
            "The Ninh Kiều member of the land-use merge is `manage.py sample_sector`.")

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true",
                            help="delete the sample datasets and files first, then make them afresh")
        parser.add_argument("--no-import", action="store_true", help="write the files only; import nothing")

    def handle(self, *args, reset, no_import, **options):
        if reset:
            deleted = reset_samples()
            self.stdout.write(f"  reset: deleted {len(deleted)} sample datasets and their files")
        bar = tqdm(SAMPLES, desc="sample data", unit="dataset", disable=options["verbosity"] < 1)
        for sample in bar:
            bar.set_postfix_str(sample.slug)
            try:
                outcome = make_sample(sample, load=not no_import)
            except (ImportRefused, RuntimeError) as exc:
                raise CommandError(f"sample {sample.slug} ({sample.filename}): {exc}") from None
            if outcome.replaced:
                bar.write(f"  {sample.slug}: holds data that is not the sample's (real data replaced it); left alone")
                continue
            state = (f"imported, {outcome.features} features" if outcome.imported
                     else "written" if no_import else "up to date")
            bar.write(f"  {sample.slug}: {sample.path()} {'(new file) ' if outcome.file_changed else ''}{state}")
        self.stdout.write(self.style.SUCCESS(
            f"sample data (SYNTHETIC): {len(SAMPLES)} datasets {'written' if no_import else 'ready'}"))
