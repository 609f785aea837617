"""Business logic of the registry: import, replace, delete, and telling every worker that something changed.

Admin, REST API and management commands all call these functions; none of them touches tables directly.
"""
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.db import connection, transaction
from django.db.models import F
from psycopg import sql

from layers.loading import ImportRefused
from layers.loading.checks import check_and_measure, table_ident
from layers.loading.inspect import inspect_source
from layers.loading.ogr import copy_to_staging
from layers.models import Agency, Dataset, RegistryVersion, Sector

log = logging.getLogger(__name__)
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass
class DatasetMetadata:
    """What an admin says about a dataset; the loader measures the rest."""

    title_vi: str
    title_en: str
    sector: str
    licence_name: str
    attribution: str
    abstract_vi: str = ""
    abstract_en: str = ""
    agency: str | None = None
    licence_url: str = ""
    keywords: list[str] = field(default_factory=list)
    source: str = ""


def registry_changed() -> int:
    """Bump the registry version so every worker rebuilds its pygeoapi configuration on its next request."""
    RegistryVersion.objects.update_or_create(id=1, defaults={})
    RegistryVersion.objects.filter(id=1).update(value=F("value") + 1)
    return RegistryVersion.objects.get(id=1).value


def current_registry_version() -> int:
    return RegistryVersion.objects.filter(id=1).values_list("value", flat=True).first() or 0


def table_name_for(slug: str) -> str:
    return slug.replace("-", "_")


def import_vector_dataset(
    path: str | Path,
    *,
    slug: str,
    metadata: DatasetMetadata,
    layer: str | None = None,
    srid: int | None = None,
    replace: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> Dataset:
    """Load a vector file into its own table and publish it, atomically.

    The data goes to a staging table first and is checked there; only then, in one transaction, does it
    replace the published table and registry row. Any refusal leaves what was published untouched.
    """
    if not SLUG_RE.match(slug):
        raise ImportRefused(f"slug {slug!r}: use 1-63 lower-case letters, digits, '-' or '_'")
    if not replace and Dataset.objects.filter(slug=slug).exists():
        raise ImportRefused(f"dataset {slug!r} already exists (replace it explicitly)")
    try:
        sector = Sector.objects.get(code=metadata.sector)
    except Sector.DoesNotExist:
        raise ImportRefused(f"unknown sector {metadata.sector!r}") from None
    agency = Agency.objects.filter(code=metadata.agency).first() if metadata.agency else None

    source = inspect_source(path, layer)
    srid = srid or source.srid
    if srid is None:
        raise ImportRefused(f"{Path(path).name}: its CRS is unknown; declare one (e.g. EPSG:5897 for VN-2000 Cần Thơ)")
    label = Path(path).name
    staging = f"{table_name_for(slug)[:40]}_{uuid.uuid4().hex[:12]}"
    ensure_schemas()
    try:
        copy_to_staging(source, staging, srid, on_progress)
        facts = check_and_measure(settings.SDI_STAGING_SCHEMA, staging, srid, label)
        dataset = _swap_in(slug, staging, srid, facts, sector, agency, metadata, replace)
    finally:
        _drop_table(settings.SDI_STAGING_SCHEMA, staging)
    log.info("published %s: %d %s features from %s (EPSG:%d)", slug, facts.feature_count, facts.geometry_type, label, srid)
    return dataset


def _swap_in(slug, staging, srid, facts, sector, agency, metadata, replace) -> Dataset:
    data_schema = settings.SDI_DATA_SCHEMA
    final_table = table_name_for(slug)
    with transaction.atomic():
        existing = Dataset.objects.select_for_update().filter(slug=slug).first()
        if existing and not replace:
            raise ImportRefused(f"dataset {slug!r} already exists (replace it explicitly)")
        with connection.cursor() as cursor:
            if existing:
                cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table_ident(existing.table_schema, existing.table_name)))
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table_ident(data_schema, final_table)))
            cursor.execute(
                sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                    table_ident(settings.SDI_STAGING_SCHEMA, staging), sql.Identifier(data_schema)
                )
            )
            cursor.execute(
                sql.SQL("ALTER TABLE {} RENAME TO {}").format(table_ident(data_schema, staging), sql.Identifier(final_table))
            )
            cursor.execute(sql.SQL("ANALYZE {}").format(table_ident(data_schema, final_table)))
        minx, miny, maxx, maxy = facts.extent_wgs84
        dataset, _ = Dataset.objects.update_or_create(
            slug=slug,
            defaults=dict(
                title_vi=metadata.title_vi, title_en=metadata.title_en,
                abstract_vi=metadata.abstract_vi, abstract_en=metadata.abstract_en,
                sector=sector, agency=agency,
                licence_name=metadata.licence_name, licence_url=metadata.licence_url,
                attribution=metadata.attribution, keywords=metadata.keywords, source=metadata.source,
                table_schema=data_schema, table_name=final_table, id_field="fid", geometry_field="geom",
                storage_srid=srid, geometry_type=facts.geometry_type, feature_count=facts.feature_count,
                extent=Polygon.from_bbox((minx, miny, maxx, maxy)), attribute_schema=facts.attribute_schema,
                published=True,
            ),
        )
        registry_changed()
    return dataset


def delete_dataset(slug: str) -> None:
    """Unregister a dataset and drop its table, in one transaction."""
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().filter(slug=slug).first()
        if dataset is None:
            raise ImportRefused(f"no dataset {slug!r}")
        _drop_table(dataset.table_schema, dataset.table_name)
        dataset.delete()
        registry_changed()
    log.info("deleted dataset %s", slug)


def ensure_schemas() -> None:
    with connection.cursor() as cursor:
        for schema in (settings.SDI_DATA_SCHEMA, settings.SDI_STAGING_SCHEMA):
            cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def _drop_table(schema: str, table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table_ident(schema, table)))
