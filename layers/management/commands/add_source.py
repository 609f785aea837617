"""Register a source that keeps a dataset in sync with a sector's own database or service."""
from django.core.management.base import BaseCommand, CommandError

from layers.crs import CANTHO_DEFAULT_SRID
from layers.loading import ImportRefused
from layers.models import Dataset
from layers.sources.models import Source
from layers.sources.services import format_every, register_source, source_label


class Command(BaseCommand):
    help = ("Register a source for dataset SLUG: a table or view of a sector's PostgreSQL/PostGIS database "
            "(--postgres DSN --table SCHEMA.TABLE) or a remote source (--url URL --kind file|ogcapi|wfs). The "
            "first run (manage.py harvest SLUG, or the scheduler with --every) creates the dataset; later runs "
            "write only what changed. A password in the DSN is stored encrypted (SDI_SOURCE_KEY) and never shown; "
            "'service=NAME' or a ~/.pgpass entry keeps it out of the SDI altogether.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the dataset it feeds (collection id), e.g. thua-dat-ninh-kieu")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--url", help="remote source: a GeoJSON/CSV/zipped Shapefile URL, an OGC API – Features "
                                         "collection URL, or a WFS 2.0 URL")
        where.add_argument("--postgres", metavar="DSN", help="sector database: 'host=… dbname=… user=… "
                                                              "password=…', postgresql://…, or 'service=NAME'")
        parser.add_argument("--kind", choices=[Source.Kind.FILE, Source.Kind.OGCAPI, Source.Kind.WFS],
                            help="what the URL is (default: file)")
        parser.add_argument("--table", help="with --postgres: SCHEMA.TABLE (a table or view)")
        parser.add_argument("--key", default="", help="the column that names a feature for good (default: the "
                                                       "table's primary key, or an id/ma_thua/… column)")
        parser.add_argument("--every", help="run by itself this often: 15m, 1h, 1d (default: by hand only)")
        parser.add_argument("--title", help="title of the dataset (Vietnamese; default: the slug)")
        parser.add_argument("--title-en", help="English title (default: the Vietnamese one)")
        parser.add_argument("--sector", help="sector code of a new dataset (default: land)")
        parser.add_argument("--agency", help="agency code")
        parser.add_argument("--licence", help="licence name")
        parser.add_argument("--attribution", help="credit line (default: where the source is)")
        parser.add_argument("--crs", help=f"declare the CRS, e.g. EPSG:{CANTHO_DEFAULT_SRID} (default: read it)")
        parser.add_argument("--disabled", action="store_true", help="register it without running it on schedule")

    def handle(self, *args, slug, **o):
        if o["postgres"] and not o["table"]:
            raise CommandError("--postgres needs --table SCHEMA.TABLE")
        if o["postgres"] and o["kind"]:
            raise CommandError("--kind is for --url sources; --postgres is a PostgreSQL source")
        metadata = {"title_vi": o["title"], "title_en": o["title_en"], "sector": o["sector"],
                    "agency": o["agency"], "licence_name": o["licence"], "attribution": o["attribution"]}
        metadata = {k: v for k, v in metadata.items() if v}
        if not Dataset.objects.filter(slug=slug).exists():
            metadata.setdefault("sector", "land")
        try:
            source = register_source(
                user=None, slug=slug, kind=Source.Kind.POSTGRES if o["postgres"] else (o["kind"] or Source.Kind.FILE),
                url=o["url"] or "", dsn=o["postgres"] or "", table=o["table"] or "", key=o["key"],
                every=o["every"], crs=o["crs"], metadata=metadata, enabled=not o["disabled"])
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        schedule = f"every {format_every(source.every)}" if source.every else "by hand (manage.py harvest)"
        self.stdout.write(self.style.SUCCESS(f"registered {source_label(source)}, runs {schedule}"))
