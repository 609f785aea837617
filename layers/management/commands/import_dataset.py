"""Register (or replace) a dataset from a file or folder on the server, with a progress bar.

The command is a front door like the admin's upload form and the REST API: the request goes through
`registration.request_import`, so it is refused with the same sentence, before any job exists, for the same
reasons. Its metadata options derive from `services.DatasetMetadata`.
"""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from layers.crs import CANTHO_DEFAULT_SRID
from layers.jobs.queue import StopRequested, run_job
from layers.loading import ImportRefused
from layers.loading.encodings import LEGACY_ENCODINGS
from layers.models import Dataset, ImportJob
from layers.registry.registration import parse_keywords, request_import
from layers.registry.services import GIVEN_METADATA

OLDER_SPELLINGS = {"title_vi": "--title", "abstract_vi": "--abstract", "licence_name": "--licence",
                   "access_level": "--access"}
REPORTED = ("encoding", "dropped_without_geometry", "repaired_invalid", "districts")


def option(name: str) -> str:
    return "--" + name.replace("_", "-")


def metadata_help(name: str) -> str:
    model_field = Dataset._meta.get_field(name)
    words = str(model_field.help_text or model_field.verbose_name)
    if model_field.choices:
        words += f" ({', '.join(str(value) for value, _ in model_field.choices)})"
    if name == "keywords":
        words += " (comma-separated)"
    if name in ("sector", "agency"):
        words += " code"
    return words


def new_dataset_defaults(slug: str, given: dict) -> dict:
    """What the command fills in for a new dataset when the required metadata is not given."""
    title = given.get("title_vi") or slug
    return {"title_vi": title, "title_en": given.get("title_en") or title, "sector": "land",
            "licence_name": "Chưa xác định / not stated",
            "attribution": given.get("agency") or "Cần Thơ SDI"}


class Command(BaseCommand):
    help = ("Load a vector file (zipped Shapefile, GeoPackage, GeoJSON, KML/KMZ, CSV with lon/lat or WKT, or a "
            "folder) into its own PostGIS table and publish it in the OGC API at once. Exits non-zero with a "
            "one-line reason when the request or the data is refused; nothing published is changed then, and a "
            "refused request leaves no job behind.")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="file or folder on this server")
        parser.add_argument("--slug", required=True, help="collection id, e.g. thua-dat-ninh-kieu")
        for name in GIVEN_METADATA:
            spellings = [option(name), *([OLDER_SPELLINGS[name]] if name in OLDER_SPELLINGS else [])]
            default = {"title_vi": "the slug", "title_en": "the Vietnamese title", "sector": "land",
                       "licence_name": "'Chưa xác định / not stated'",
                       "attribution": "the agency or 'Cần Thơ SDI'"}.get(name)
            parser.add_argument(*spellings, dest=name, help=metadata_help(name) + (
                f"; a new dataset without it: {default}" if default else ""))
        parser.add_argument("--crs", help=f"declare or override the CRS, e.g. EPSG:{CANTHO_DEFAULT_SRID} "
                                          "(VN-2000 / TM-3 zone 482, Cần Thơ)")
        parser.add_argument("--encoding", help="text encoding of the attributes: auto (the default: .cpg, else "
                                               f"detected) or one of {', '.join(LEGACY_ENCODINGS)}")
        parser.add_argument("--layer", help="layer to load when the source has several")
        parser.add_argument("--replace", action="store_true",
                            help="replace the dataset's data (same URL and id), keeping the metadata not given; "
                                 "a slug not registered yet is created")
        parser.add_argument("--repair", action="store_true", help="repair invalid geometries with ST_MakeValid")
        parser.add_argument("--background", action="store_true", help="queue it for the import worker and return")

    def handle(self, *args, path: Path, slug: str, **o):
        given = {name: o[name] for name in GIVEN_METADATA if o.get(name) is not None}
        if "keywords" in given:
            given["keywords"] = parse_keywords(given["keywords"])
        if not (o["replace"] and Dataset.objects.filter(slug=slug).exists()):
            given = {**new_dataset_defaults(slug, given), **given}
        try:
            job = request_import(user=None, slug=slug, metadata=given, source_path=str(path.absolute()),
                                 crs=o["crs"], encoding=o["encoding"], layer=o["layer"], replace=o["replace"],
                                 repair=o["repair"], queue=o["background"], create_missing=True)
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        if o["background"]:
            self.stdout.write(f"queued import job {job.pk} for {slug}")
            return
        try:
            job = self._run_with_progress(job)
        except StopRequested:  # Ctrl-C: the job cleaned up and recorded what happened
            job.refresh_from_db()
        if job.status != ImportJob.Status.SUCCEEDED:
            raise CommandError(job.message)
        for key in REPORTED:
            if key in job.report:
                self.stdout.write(f"  {key}: {job.report[key]}")
        for warning in job.report.get("warnings", []):
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        self.stdout.write(self.style.SUCCESS(job.message))

    def _run_with_progress(self, job: ImportJob) -> ImportJob:
        with tqdm(total=100, desc=job.slug, unit="%", disable=None, leave=False) as bar:
            def show(percent, stage):
                bar.set_postfix_str(stage)
                bar.update(max(0, percent - bar.n))
            return run_job(job, on_progress=show)
