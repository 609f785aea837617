"""Register (or replace) a dataset from a file or folder on the server, with a progress bar."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from layers.crs import CANTHO_DEFAULT_SRID, UnknownCRS, parse_crs
from layers.jobs import StopRequested, run_job, submit_import
from layers.loading.encodings import LEGACY_ENCODINGS
from layers.models import Dataset, ImportJob
from layers.services import DatasetMetadata


class Command(BaseCommand):
    help = ("Load a vector file (zipped Shapefile, GeoPackage, GeoJSON, KML/KMZ, CSV with lon/lat or WKT, or a "
            "folder) into its own PostGIS table and publish it in the OGC API at once. Exits non-zero with a "
            "one-line reason when the data is refused; nothing published is changed then.")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="file or folder on this server")
        parser.add_argument("--slug", required=True, help="collection id, e.g. thua-dat-ninh-kieu")
        parser.add_argument("--title", help="Vietnamese title (default: the slug)")
        parser.add_argument("--title-en", help="English title (default: the Vietnamese title)")
        parser.add_argument("--abstract", default="", help="Vietnamese abstract")
        parser.add_argument("--sector", default="land", help="sector code, e.g. land, environment (default: land)")
        parser.add_argument("--agency", help="owning agency code")
        parser.add_argument("--licence", default="Chưa xác định / not stated", help="licence name")
        parser.add_argument("--licence-url", default="", help="licence URL")
        parser.add_argument("--attribution", help="credit line (default: the agency or 'Cần Thơ SDI')")
        parser.add_argument("--keywords", default="", help="comma-separated keywords")
        parser.add_argument("--access", choices=Dataset.Access.values, default=Dataset.Access.PUBLIC)
        parser.add_argument("--crs", help=f"declare or override the CRS, e.g. EPSG:{CANTHO_DEFAULT_SRID} "
                                          "(VN-2000 / TM-3 zone 482, Cần Thơ)")
        parser.add_argument("--encoding", choices=LEGACY_ENCODINGS,
                            help="text encoding of the attributes (default: .cpg, else detected)")
        parser.add_argument("--layer", help="layer to load when the source has several")
        parser.add_argument("--replace", action="store_true", help="replace an existing dataset (same URL and id)")
        parser.add_argument("--repair", action="store_true", help="repair invalid geometries with ST_MakeValid")
        parser.add_argument("--background", action="store_true", help="queue it for the import worker and return")

    def handle(self, *args, path: Path, slug: str, **o):
        try:
            srid = parse_crs(o["crs"]) if o["crs"] else None
        except UnknownCRS as exc:
            raise CommandError(str(exc)) from None
        metadata = DatasetMetadata(
            title_vi=o["title"] or slug, title_en=o["title_en"] or o["title"] or slug, abstract_vi=o["abstract"],
            sector=o["sector"], agency=o["agency"], licence_name=o["licence"], licence_url=o["licence_url"],
            attribution=o["attribution"] or o["agency"] or "Cần Thơ SDI",
            keywords=[k.strip() for k in o["keywords"].split(",") if k.strip()], source=str(path),
            access_level=o["access"],
        )
        job = submit_import(path.resolve(), slug=slug, metadata=metadata, layer=o["layer"], srid=srid,
                            encoding=o["encoding"], replace=o["replace"], repair=o["repair"],
                            queue=o["background"])
        if o["background"]:
            self.stdout.write(f"queued import job {job.pk} for {slug}")
            return
        try:
            job = self._run_with_progress(job)
        except StopRequested:  # Ctrl-C: the job cleaned up and recorded what happened
            job.refresh_from_db()
        if job.status != ImportJob.Status.SUCCEEDED:
            raise CommandError(job.message)
        for key, value in job.report.items():
            if key in ("encoding", "dropped_without_geometry", "repaired_invalid", "districts"):
                self.stdout.write(f"  {key}: {value}")
        self.stdout.write(self.style.SUCCESS(job.message))

    def _run_with_progress(self, job: ImportJob) -> ImportJob:
        with tqdm(total=100, desc=job.slug, unit="%", disable=None, leave=False) as bar:
            def show(percent, stage):
                bar.set_postfix_str(stage)
                bar.update(max(0, percent - bar.n))
            return run_job(job, on_progress=show)
