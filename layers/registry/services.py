"""Business logic of the registry: import, replace, delete, and telling every worker that something changed.

Admin, REST API and management commands all call these functions; none of them touches tables directly.
"""
import logging
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.db import connection, transaction
from django.db.models import F
from psycopg import sql

from layers.loading import ImportRefused
from layers.loading.checks import attribute_schema, check_and_measure, table_ident, text_columns
from layers.loading.indexes import index_attributes
from layers.loading.ogr import copy_to_staging
from layers.loading.prepare import prepare_source
from layers.loading.text import redecode_table
from layers.models import Agency, Dataset, RegistryVersion, Sector
from layers.registry.selectors import manageable_datasets
from layers.registry.signals import send_after_commit

log = logging.getLogger(__name__)
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# The ids of the OGC API processes: pygeoapi keeps collections and processes in one map of resources, so a
# dataset of that name would hide the process (or the process the dataset).
RESERVED_SLUGS = frozenset({"summary"})


def check_slug(slug) -> None:
    """The one rule for a collection id, whichever front door names it (upload, source, merge)."""
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise RequestRefused(f"slug {slug!r}: use 1-63 lower-case letters, digits, '-' or '_', starting with a "
                             f"letter or digit", field="slug")
    if slug in RESERVED_SLUGS:
        raise RequestRefused(f"slug {slug!r} is the name of an OGC API process of this server: choose another slug",
                             field="slug")


RECORDED = {"recorded": True}  # written by the import itself (where the data came from), never edited


@dataclass(kw_only=True)
class DatasetMetadata:
    """What an admin says about a dataset; the loader measures the rest.

    The one declaration of the metadata fields, in the order forms show them. The upload form, the admin's
    change form, the REST serializers, the command line options, the catalogue loader and
    `registration.update_metadata` derive theirs from it; types, lengths and choices come from the `Dataset` model
    field of the same name. A field without a default is required for a new dataset. `sector` and `agency` are
    codes.
    """

    title_vi: str
    title_en: str
    abstract_vi: str = ""
    abstract_en: str = ""
    sector: str
    agency: str | None = None
    licence_name: str
    licence_url: str = ""
    attribution: str
    keywords: list[str] = field(default_factory=list)
    access_level: str = Dataset.Access.PUBLIC
    update_frequency: str = Dataset.Frequency.UNKNOWN
    contact_name: str = ""
    contact_email: str = ""
    source: str = field(default="", metadata=RECORDED)

    @classmethod
    def of(cls, dataset: Dataset) -> "DatasetMetadata":
        """What the registry says about `dataset` now."""
        values = {name: getattr(dataset, name) for name in METADATA_FIELDS if name not in BY_CODE}
        values.update(sector=dataset.sector.code, agency=dataset.agency.code if dataset.agency else None,
                      keywords=list(dataset.keywords))
        return cls(**values)

    def model_values(self) -> dict:
        """The Dataset model's values for these fields (sector and agency as rows)."""
        values = {name: getattr(self, name) for name in METADATA_FIELDS if name not in BY_CODE}
        values.update(sector=Sector.objects.get(code=self.sector),
                      agency=Agency.objects.filter(code=self.agency).first() if self.agency else None)
        return values


METADATA_FIELDS = tuple(f.name for f in fields(DatasetMetadata))
REQUIRED_METADATA = tuple(f.name for f in fields(DatasetMetadata)
                          if f.default is MISSING and f.default_factory is MISSING)
# What a request may give (at import or afterwards); `source` is recorded by the import.
GIVEN_METADATA = tuple(f.name for f in fields(DatasetMetadata) if not f.metadata.get("recorded"))
BY_CODE = ("sector", "agency")  # foreign keys, named by their code outside the model


@dataclass
class ImportResult:
    dataset: Dataset
    report: dict


class PermissionRefused(ImportRefused):
    """The user may not change this dataset."""


class RequestRefused(ImportRefused):
    """A request refused before any data is read; `field` names the part of the request at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def registry_changed() -> int:
    """Bump the registry version so every worker rebuilds its pygeoapi configuration on its next request."""
    RegistryVersion.objects.update_or_create(id=1, defaults={})
    RegistryVersion.objects.filter(id=1).update(value=F("value") + 1)
    return RegistryVersion.objects.get(id=1).value


def current_registry_version() -> int:
    return RegistryVersion.objects.filter(id=1).values_list("value", flat=True).first() or 0


def table_name_for(slug: str) -> str:
    return slug.replace("-", "_")


def can_modify(user, dataset: Dataset) -> bool:
    """Only a dataset's owners and superusers may replace or delete it (None = the system itself)."""
    return user is None or user.is_superuser or dataset.owners.filter(pk=user.pk).exists()


def import_vector_dataset(
    path: str | Path,
    *,
    slug: str,
    metadata: DatasetMetadata,
    layer: str | None = None,
    srid: int | None = None,
    encoding: str | None = None,
    replace: bool = False,
    repair: bool = False,
    user=None,
    on_progress: Callable[[int, str], None] | None = None,
    on_staging: Callable[[str, Path], None] | None = None,
    on_publish: Callable[[Dataset], None] | None = None,
) -> ImportResult:
    """Load a vector source into its own table and publish it, atomically.

    The data goes to a staging table first and is checked there; only then, in one transaction, does it
    replace the published table and registry row. Any refusal leaves what was published untouched.
    `on_staging` learns the staging table and temporary folder before they are made (so that someone else can
    clean up if this process dies); `on_publish` runs inside the publishing transaction.
    """
    progress = on_progress or (lambda percent, stage: None)
    started = time.perf_counter()
    check_request(slug, metadata, replace=replace, user=user)
    staging = f"{table_name_for(slug)[:40]}_{uuid.uuid4().hex[:12]}"
    ensure_schemas()
    with tempfile.TemporaryDirectory(prefix="sdi-import-") as workdir:
        if on_staging:
            on_staging(staging, Path(workdir))
        progress(1, "reading the source")
        prepared = prepare_source(Path(path), Path(workdir), layer=layer, srid=srid, encoding=encoding)
        try:
            copy_to_staging(prepared.layer, staging, prepared.srid,
                            lambda pct: progress(5 + pct * 60 // 100, "copying with GDAL"), prepared.open_options)
            report = {"source": prepared.label, "layer": prepared.layer.layer_name, "srid": prepared.srid}
            if prepared.redecode:
                progress(66, "decoding text")
                columns = text_columns(attribute_schema(settings.SDI_STAGING_SCHEMA, staging))
                report["encoding"] = redecode_table(settings.SDI_STAGING_SCHEMA, staging, columns, prepared.encoding,
                                                    prepared.label)
            elif prepared.encoding:
                report["encoding"] = prepared.encoding
            progress(75, "checking geometries")
            facts = check_and_measure(settings.SDI_STAGING_SCHEMA, staging, prepared.srid, prepared.label, repair,
                                      source=prepared.layer, crs_origin=prepared.crs_origin)
            report.update(facts.report, features=facts.feature_count, geometry_type=facts.geometry_type,
                          districts=facts.districts)
            progress(95, "publishing")
            dataset = publish_staging_table(slug, staging, prepared.srid, facts, metadata, replace, user, on_publish)
        finally:
            _drop_table(settings.SDI_STAGING_SCHEMA, staging)
    report["seconds_to_publish"] = round(time.perf_counter() - started, 3)
    log.info("published %s: %d %s features from %s (EPSG:%d)", slug, facts.feature_count, facts.geometry_type,
             prepared.label, prepared.srid)
    for warning in report.get("warnings", []):
        log.warning("published %s with a warning: %s", slug, warning)
    progress(97, "analysing and indexing attributes")
    report["indexed_columns"] = index_attributes(dataset.table_schema, dataset.table_name)
    report["seconds_to_index"] = round(time.perf_counter() - started, 3)
    progress(100, "published")
    return ImportResult(dataset, report)


def check_request(slug: str, metadata: DatasetMetadata, *, replace: bool, user, require_existing: bool = False) -> None:
    """What can be refused about an import before reading any data (one place for every front door).

    Whether the slug is taken is checked last, so that every other answer is the same whether or not a dataset the
    user may not see holds the slug. Such a dataset is then answered as if it were not there (nothing to replace)
    or, for a new dataset, with a bare "slug taken" that says nothing about it; only a user who may see the
    dataset is told that it exists and who may replace it.

    Raises RequestRefused (naming the field at fault) or PermissionRefused (someone else's dataset).
    """
    check_slug(slug)
    check_metadata_values(vars(metadata))
    existing = Dataset.objects.filter(slug=slug).first()
    hidden = existing is not None and user is not None and \
        not manageable_datasets(user).filter(pk=existing.pk).exists()
    if (existing is None or hidden) and replace and require_existing:
        raise RequestRefused(f"there is no dataset {slug!r} to replace", field="slug")
    if hidden:
        raise RequestRefused(f"slug {slug!r} is already taken: choose another slug", field="slug")
    if existing and not replace:
        raise RequestRefused(f"dataset {slug!r} already exists (replace it explicitly)", field="slug")
    if existing and not can_modify(user, existing):
        raise PermissionRefused(f"dataset {slug!r}: only its owners or a superuser may replace it")


def check_metadata_values(values: dict) -> None:
    """Refuse a sector, agency, access level or update frequency the registry does not know (only those given)."""
    if "sector" in values and not Sector.objects.filter(code=values["sector"]).exists():
        raise RequestRefused(f"unknown sector {values['sector']!r} (sectors: "
                             f"{', '.join(Sector.objects.values_list('code', flat=True))})", field="sector")
    if values.get("agency") and not Agency.objects.filter(code=values["agency"]).exists():
        raise RequestRefused(f"unknown agency {values['agency']!r}", field="agency")
    if "access_level" in values and values["access_level"] not in Dataset.Access.values:
        raise RequestRefused(f"unknown access level {values['access_level']!r} (choose "
                             f"{', '.join(Dataset.Access.values)})", field="access_level")
    if "update_frequency" in values and values["update_frequency"] not in Dataset.Frequency.values:
        raise RequestRefused(f"unknown update frequency {values['update_frequency']!r} (choose "
                             f"{', '.join(Dataset.Frequency.values)})", field="update_frequency")


def publish_staging_table(slug, staging, srid, facts, metadata, replace, user, on_publish=None) -> Dataset:
    """Step 4 of the load path, for every way data arrives (uploads, and a source's first run): in one
    transaction, the checked staging table replaces the published one and the registry row is written."""
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
        minx, miny, maxx, maxy = facts.extent_wgs84
        dataset, created = Dataset.objects.update_or_create(
            slug=slug,
            defaults=dict(
                **metadata.model_values(),
                table_schema=data_schema, table_name=final_table, id_field="fid", geometry_field="geom",
                storage_srid=srid, geometry_type=facts.geometry_type, feature_count=facts.feature_count,
                extent=Polygon.from_bbox((minx, miny, maxx, maxy)), attribute_schema=facts.attribute_schema,
                time_field=facts.time_field, temporal_begin=facts.temporal_extent[0],
                temporal_end=facts.temporal_extent[1],
                districts=facts.districts,  # `published` is left as it was: a replacement does not re-publish
            ),
        )
        if created and user is not None:
            dataset.owners.add(user)
        registry_changed()
        if on_publish:
            on_publish(dataset)
        send_after_commit(dataset)
    return dataset


def delete_dataset(slug: str, user=None) -> None:
    """Unregister a dataset and drop its table, in one transaction."""
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().filter(slug=slug).first()
        if dataset is None:
            raise ImportRefused(f"no dataset {slug!r}")
        if not can_modify(user, dataset):
            raise PermissionRefused(f"dataset {slug!r}: only its owners or a superuser may delete it")
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
