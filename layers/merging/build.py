"""One build of a merged dataset, in PostGIS: staging first, then published like an upload, atomically.

1. Read the spec and the members' tables; refuse a member that is not published, a member field that does not
   exist, a constant that does not cast, mixed geometry kinds (naming merge, member and field).
2. One `INSERT … SELECT` per member into one staging table: renames, casts and value maps in SQL (a value map is
   one jsonb parameter; an unmapped value with `unmapped: error` raises in the row itself, naming the feature),
   provenance (member slug, the member's key, its version), the geometry through layers.crs.sql into the target
   CRS, promoted to multi; `overlap: clip` clips each member to its polygon in the same statement. A cast that
   fails is then traced to its first feature (layers.merging.diagnose); the build fails naming it.
3. GiST index, then overlaps and gaps between pairs of members (layers.merging.overlaps), only where their
   extents meet. Overlaps are resolved: a feature of a lower-priority member loses what higher-priority members
   cover (ST_Difference, on the features that intersect only), and features left empty are dropped and counted.
4. In one transaction, the table and its `<slug>-overlaps` companion replace what was published
   (layers.registry.services.publish_staging_table), and the build is recorded as succeeded.
A failed build leaves the published merge exactly as it was; its staging tables are always dropped.
"""
import logging
import time
import uuid

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg import sql

from layers.loading import ImportRefused
from layers.loading.checks import (TableFacts, attribute_schema, districts_covered, parse_box, table_ident,
                                   wgs84_extent)
from layers.loading.indexes import index_attributes
from layers.merging import diagnose, overlaps
from layers.merging.columns import MemberTable, geometry_sql, value_sql
from layers.merging.models import MergeBuild, MergedDataset
from layers.merging.spec import MergeSpec, parse_spec
from layers.models import Dataset
from layers.registry.services import DatasetMetadata, ensure_schemas, publish_staging_table
from layers.statements import execute as _execute, rows as _rows

log = logging.getLogger(__name__)
LOCK_NAMESPACE = 0x5D10E  # pg_advisory_lock(namespace, merge id): one build of a merge at a time
STAGING_PREFIX = "merge_"
BUILD_MEMORY = "256MB"
BASE_TYPES = {"Point": "Point", "MultiPoint": "Point", "LineString": "LineString",
              "MultiLineString": "LineString", "Polygon": "Polygon", "MultiPolygon": "Polygon"}


class MergeFailed(ImportRefused):
    """A build refused: the message names the merge, and the member, field and feature at fault."""


class MergeBusy(MergeFailed):
    """Another build of this merge holds its lock."""


def build(merge_id: int, *, trigger: str = "", on_progress=None) -> MergeBuild:
    """Build the merge now, in this process; returns its MergeBuild (succeeded or failed).

    Raises MergeBusy (recording nothing) when another build of the same merge is running.
    """
    progress = on_progress or (lambda percent, stage: None)
    merge = MergedDataset.objects.get(pk=merge_id)
    if not _try_lock(merge.pk):
        raise MergeBusy(f"merge {merge.slug}: a build is already running; this one was not started")
    staging = f"{STAGING_PREFIX}{uuid.uuid4().hex[:16]}"
    try:
        # Holding the lock, no other build of this merge runs: a build still "running" was cut off (a killed
        # worker); it published nothing, since a build publishes in one transaction at its end.
        MergeBuild.objects.filter(merge=merge, status=MergeBuild.Status.RUNNING).update(
            status=MergeBuild.Status.FAILED, finished=timezone.now(),
            error=f"merge {merge.slug}: interrupted (its process stopped); nothing was published")
        record = MergeBuild.objects.create(merge=merge, trigger=trigger[:200])
        started = time.perf_counter()
        try:
            with _session_memory():
                _run(merge, record, staging, progress, started)
        except ImportRefused as exc:
            _fail(record, str(exc))
        except DatabaseError as exc:
            _fail(record, f"merge {merge.slug}: the database refused the build: {' '.join(str(exc).split())}")
        except Exception as exc:  # noqa: BLE001 - a build records every failure
            log.exception("merge %s: unexpected failure", merge.slug)
            _fail(record, f"merge {merge.slug}: unexpected failure ({type(exc).__name__}: {exc})")
        finally:
            _drop(staging, f"{staging}_overlaps")
        record.refresh_from_db()
        progress(100, record.status)
        return record
    finally:
        _unlock(merge.pk)


def _run(merge: MergedDataset, record: MergeBuild, staging: str, progress, started: float) -> None:
    spec = parse_spec(merge.spec)
    ensure_schemas()
    progress(2, "reading the members")
    members = [member_table(spec, member) for member in spec.ranked()]
    base = _base_type(spec, members)
    clips = {m.member.dataset: _clip_sql(spec, m) for m in members if spec.overlap == "clip"}
    _check_constants(spec, members)
    target = table_ident(settings.SDI_STAGING_SCHEMA, staging)
    _create(spec, target, base)
    counts = {}
    for step, source in enumerate(members):
        progress(5 + 60 * step // len(members), f"copying {source.member.dataset}")
        counts[source.member.dataset] = _insert(spec, target, source, clips.get(source.member.dataset))
    clock = {"insert": time.perf_counter() - started}
    progress(70, "indexing")
    _execute(sql.SQL("ALTER TABLE {t} ADD PRIMARY KEY (fid)").format(t=target))
    _execute(sql.SQL("CREATE INDEX ON {t} USING gist (geom)").format(t=target))
    _execute(sql.SQL("ANALYZE {t}").format(t=target))
    clock["index"] = time.perf_counter() - started
    progress(80, "finding overlaps and gaps")
    extents = overlaps.member_extents(target)
    found = overlaps.Found()
    companion = table_ident(settings.SDI_STAGING_SCHEMA, f"{staging}_overlaps")
    overlaps.create_table(companion, spec.srid)
    if base == "Polygon":
        found = overlaps.find(spec, target, companion, extents)
        progress(88, "resolving overlaps")
        overlaps.resolve(spec, target, found, counts)
    clock["overlaps"] = time.perf_counter() - started
    report = {"members": counts, "features": sum(c["published"] for c in counts.values()),
              "overlaps": found.overlaps, "gaps": found.gaps,
              "overlap_area_m2": round(sum(o["area_m2"] for o in found.overlaps), 3),
              "gap_area_m2": round(sum(g["area_m2"] for g in found.gaps), 3),
              "crs": f"EPSG:{spec.srid}", "rule": spec.overlap}
    if base != "Polygon":
        report["note"] = f"{base} features: overlaps and gaps are computed for polygons only"
    progress(92, "publishing")
    facts = _facts(spec, staging, target, f"Multi{base}", report, extents)
    side = _companion_facts(spec, f"{staging}_overlaps", facts)
    metadata, side_metadata = _metadata(spec, members)
    owner = merge.created_by

    def record_success(published: Dataset) -> None:
        MergedDataset.objects.filter(pk=merge.pk).update(dataset=published)

    with transaction.atomic():
        existing = Dataset.objects.filter(slug=spec.slug).exists()
        side_existing = Dataset.objects.filter(slug=overlaps.companion_slug(spec.slug)).exists()
        publish_staging_table(spec.slug, staging, spec.srid, facts, metadata, existing, owner, record_success)
        publish_staging_table(overlaps.companion_slug(spec.slug), f"{staging}_overlaps", spec.srid, side,
                              side_metadata, side_existing, owner)
        clock["publish"] = time.perf_counter() - started
        report.update({f"seconds_to_{k}": round(v, 3) for k, v in clock.items()})
        MergeBuild.objects.filter(pk=record.pk).update(status=MergeBuild.Status.SUCCEEDED, finished=timezone.now(),
                                                       report=report)
    log.info("merge %s: published %d features from %d members (%s)", spec.slug, report["features"], len(members),
             ", ".join(f"{k}: {v['published']}" for k, v in counts.items()))
    if spec.index_attributes:  # after publishing, as an upload: the data is served meanwhile, queries get faster
        progress(96, "indexing attributes")
        published = Dataset.objects.get(slug=spec.slug)
        indexed = index_attributes(published.table_schema, published.table_name, concurrently=False)
        report.update(indexed_columns=indexed, seconds_to_index_attributes=round(time.perf_counter() - started, 3))
        MergeBuild.objects.filter(pk=record.pk).update(report=report)


# -- members ---------------------------------------------------------------------------------------------------

def member_table(spec: MergeSpec, member) -> MemberTable:
    """The member's published table, checked against its mappings (fields named by the spec must exist)."""
    label = f"merge {spec.slug}, member {member.dataset}"
    dataset = Dataset.objects.filter(slug=member.dataset).first()
    if dataset is None:
        raise MergeFailed(f"{label}: there is no published dataset {member.dataset!r}")
    columns = dict(_rows("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
                         "AND table_name = %s ORDER BY ordinal_position", (dataset.table_schema, dataset.table_name)))
    known = [f["name"] for f in dataset.attribute_schema]
    fields = ", ".join(known) or "none"
    if member.key and member.key not in columns:
        raise MergeFailed(f"{label}: key field {member.key!r} does not exist (its fields: {fields})")
    for mapping in member.mappings:
        if not mapping.constant and mapping.field not in known:
            raise MergeFailed(f"{label}, field {mapping.target}: member field {mapping.field!r} does not exist "
                              f"(its fields: {fields})")
    return MemberTable(member, dataset.table_schema, dataset.table_name, dataset.storage_srid, dataset.id_field,
                       dataset.geometry_field, dataset.geometry_type, columns, member_version(dataset))


def member_version(dataset: Dataset):
    """The member's version: its last successful source run, else when the registry last changed it."""
    from layers.sources.models import SourceRun

    run = SourceRun.objects.filter(source__dataset=dataset, status=SourceRun.Status.SUCCEEDED,
                                   finished__isnull=False).order_by("-finished").first()
    return max(run.finished, dataset.updated) if run else dataset.updated


def _base_type(spec: MergeSpec, members: list[MemberTable]) -> str:
    kinds = {m.member.dataset: BASE_TYPES.get(m.geometry_type, m.geometry_type) for m in members}
    if len(set(kinds.values())) > 1:
        listed = ", ".join(f"{slug}: {kind}" for slug, kind in kinds.items())
        raise MergeFailed(f"merge {spec.slug}: the members hold different kinds of geometry ({listed}); merge one "
                          f"kind at a time")
    return next(iter(kinds.values()))


def _check_constants(spec: MergeSpec, members: list[MemberTable]) -> None:
    types = {f.name: f.type for f in spec.fields}
    for source in members:
        for mapping in source.member.mappings:
            if mapping.constant and mapping.value is not None and \
                    not diagnose.castable(str(mapping.value), types[mapping.target]):
                raise MergeFailed(f"merge {spec.slug}, member {source.member.dataset}, field {mapping.target}: the "
                                  f"constant {mapping.value!r} does not cast to {types[mapping.target]} (every feature)")


def _clip_sql(spec: MergeSpec, source: MemberTable) -> tuple[sql.Composable, list]:
    """The member's clip polygon in the target CRS, as a scalar subquery (computed once per statement)."""
    from layers.crs.sql import transform_sql

    clip = source.member.clip
    label = f"merge {spec.slug}, member {source.member.dataset}, clip"
    dataset = Dataset.objects.filter(slug=clip.dataset).first()
    if dataset is None:
        raise MergeFailed(f"{label}: there is no published dataset {clip.dataset!r}")
    if clip.field not in dataset.fields:
        raise MergeFailed(f"{label}: {clip.dataset} has no field {clip.field!r}")
    polygon = transform_sql(sql.SQL("ST_Union(c.{})").format(sql.Identifier(dataset.geometry_field)),
                            dataset.storage_srid, spec.srid)
    query = sql.SQL("SELECT {p} FROM {t} c WHERE c.{f}::text = %s").format(
        p=polygon, t=table_ident(dataset.table_schema, dataset.table_name), f=sql.Identifier(clip.field))
    (found,) = _rows(sql.SQL("SELECT ST_IsEmpty(p) IS NOT FALSE FROM ({}) AS c(p)").format(query), [str(clip.value)])[0]
    if found:
        raise MergeFailed(f"{label}: no feature of {clip.dataset} has {clip.field} = {clip.value!r}")
    return sql.SQL("({})").format(query), [str(clip.value)]


# -- the table ---------------------------------------------------------------------------------------------------

def _create(spec: MergeSpec, target: sql.Composable, base: str) -> None:
    columns = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(f.type)) for f in spec.fields)
    _execute(sql.SQL("CREATE TABLE {t} (fid bigint GENERATED BY DEFAULT AS IDENTITY, {c}, member_dataset text NOT NULL, "
                     "member_key text, member_version timestamptz, geom geometry({g}, {s}))").format(
        t=target, c=columns, g=sql.SQL(f"Multi{base}"), s=sql.Literal(spec.srid)))


def _insert(spec: MergeSpec, target, source: MemberTable, clip) -> dict:
    """One member's rows into the staging table: one INSERT … SELECT; returns its counts."""
    values, params = [], []
    types = {f.name: f.type for f in spec.fields}
    for mapping in source.member.mappings:
        expression, more = value_sql(spec, source, mapping, types[mapping.target])
        values.append(expression)
        params += more
    geometry = geometry_sql(source, spec.srid)
    where = sql.SQL("m.{} IS NOT NULL").format(sql.Identifier(source.geometry_field))
    joins, prefix, prefix_params = sql.SQL(""), sql.SQL(""), []
    if clip is not None:
        polygon, prefix_params = clip
        dimension = {"Point": 1, "LineString": 2, "Polygon": 3}[BASE_TYPES[source.geometry_type]]
        # Inside the polygon: kept whole (the constant polygon is prepared once for ST_CoveredBy/ST_Intersects);
        # across its edge: cut; outside: dropped. The member's geometry is transformed once (LATERAL).
        prefix = sql.SQL("WITH clip AS MATERIALIZED (SELECT {} AS p) ").format(polygon)
        joins = sql.SQL(" CROSS JOIN LATERAL (SELECT {} AS g) t CROSS JOIN clip c").format(geometry)
        where = sql.SQL("{} AND ST_Intersects(t.g, c.p)").format(where)
        geometry = sql.SQL("CASE WHEN ST_CoveredBy(t.g, c.p) THEN t.g "
                           "ELSE ST_Multi(ST_CollectionExtract(ST_Intersection(t.g, c.p), {})) END").format(
            sql.Literal(dimension))
    columns = sql.SQL(", ").join(sql.Identifier(f.name) for f in spec.fields)
    query = sql.SQL("{prefix}INSERT INTO {t} ({cols}, member_dataset, member_key, member_version, geom) "
                    "SELECT {vals}, %s, m.{key}::text, %s, {geom} FROM {src} m{joins} WHERE {where}").format(
        prefix=prefix, t=target, cols=columns, vals=sql.SQL(", ").join(values), key=sql.Identifier(source.key),
        geom=geometry, src=source.ident, joins=joins, where=where)
    try:
        with transaction.atomic():
            inserted = _execute(query, [*prefix_params, *params, source.member.dataset, source.version])
    except DatabaseError as exc:
        raise MergeFailed(diagnose.explain(spec, source, exc)) from None
    total = _rows(sql.SQL("SELECT count(*) FROM {}").format(source.ident))[0][0] if clip is not None else inserted
    return {"read": total, "inserted": inserted, "outside_clip": total - inserted, "trimmed": 0, "dropped": 0,
            "published": inserted, "version": source.version.isoformat()}


# -- publishing ---------------------------------------------------------------------------------------------------

def _facts(spec: MergeSpec, staging: str, target, geometry_type: str, report: dict, extents: dict) -> TableFacts:
    if report["features"] == 0:
        raise MergeFailed(f"merge {spec.slug}: no feature is left to publish (members empty, or clipped away)")
    box = overlaps.union_box(extents)
    columns = attribute_schema(settings.SDI_STAGING_SCHEMA, staging)
    time_field = next((f.name for f in spec.fields if f.type in ("date", "timestamptz")), "")
    temporal = (None, None)
    if time_field:
        temporal = tuple(_rows(sql.SQL("SELECT min({c})::timestamptz, max({c})::timestamptz FROM {t}").format(
            c=sql.Identifier(time_field), t=target))[0])
    return TableFacts(report["features"], geometry_type, wgs84_extent(box, spec.srid, f"merge {spec.slug}"),
                      columns, districts_covered(target, spec.srid), {}, time_field, temporal)


def _companion_facts(spec: MergeSpec, table: str, main: TableFacts) -> TableFacts:
    target = table_ident(settings.SDI_STAGING_SCHEMA, table)
    count, box = _rows(sql.SQL("SELECT count(*), ST_Extent(geom)::text FROM {}").format(target))[0]
    extent = wgs84_extent(parse_box(box), spec.srid, f"merge {spec.slug}") if count else main.extent_wgs84
    return TableFacts(count, "MultiPolygon", extent, attribute_schema(settings.SDI_STAGING_SCHEMA, table), [], {})


def _metadata(spec: MergeSpec, members: list[MemberTable]) -> tuple[DatasetMetadata, DatasetMetadata]:
    from layers.merging.services import complete_metadata

    values = complete_metadata(spec)
    values["source"] = "merged from " + ", ".join(m.member.dataset for m in members)
    main = DatasetMetadata(**values)
    side = DatasetMetadata(**{
        **values, "title_vi": f"Chồng lấn và khe hở giữa các thành phần — {values['title_vi']}"[:300],
        "title_en": f"Overlaps and gaps between the members — {values['title_en']}"[:300],
        "abstract_vi": f"Các vùng chồng lấn (overlap) và khe hở (gap) giữa các lớp thành phần của {spec.slug}, "
                       f"tìm thấy ở lần gộp gần nhất.",
        "abstract_en": f"The overlaps and gaps between the members of {spec.slug} found by its latest build."})
    return main, side


# -- helpers --------------------------------------------------------------------------------------------------------

def _fail(record: MergeBuild, error: str) -> None:
    log.warning("merge build failed: %s", error)
    MergeBuild.objects.filter(pk=record.pk, status=MergeBuild.Status.RUNNING).update(
        status=MergeBuild.Status.FAILED, error=error, finished=timezone.now())


class _session_memory:
    def __enter__(self):
        _execute(sql.SQL("SET work_mem = {}").format(sql.Literal(BUILD_MEMORY)))
        _execute(sql.SQL("SET maintenance_work_mem = {}").format(sql.Literal(BUILD_MEMORY)))

    def __exit__(self, *exc):
        _execute(sql.SQL("RESET work_mem"))
        _execute(sql.SQL("RESET maintenance_work_mem"))


def reap_interrupted_builds() -> int:
    """Record as failed the builds left "running" by a process that is gone (SIGKILL, a lost machine): a live
    build holds its merge's advisory lock for its whole life, so a free lock means no one is building. Such a
    build published nothing (a build publishes in one transaction at its end). Runs on its own connection."""
    reaped = 0
    for record in MergeBuild.objects.filter(status=MergeBuild.Status.RUNNING).select_related("merge"):
        if not _try_lock(record.merge_id):
            continue  # being built right now
        try:
            reaped += MergeBuild.objects.filter(pk=record.pk, status=MergeBuild.Status.RUNNING).update(
                status=MergeBuild.Status.FAILED, finished=timezone.now(),
                error=f"merge {record.merge.slug}: interrupted (its process stopped); nothing was published")
        finally:
            _unlock(record.merge_id)
    return reaped


def _try_lock(merge_id: int) -> bool:
    return _rows("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, merge_id))[0][0]


def _unlock(merge_id: int) -> None:
    _rows("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, merge_id))


def _drop(*tables: str) -> None:
    for table in tables:
        _execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table_ident(settings.SDI_STAGING_SCHEMA, table)))


