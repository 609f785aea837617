"""One harvest run of a source: read it, check it like an upload, write only what changed, log the changes.

1. Lock the source (a session advisory lock: one run at a time, whether started by hand, the command line or
   the scheduler; a second is refused with SourceBusy) and record a running SourceRun with this process's lease.
2. Read into staging. A PostgreSQL source: binary COPY from the sector database (layers.sources.postgres); on a
   re-harvest of a table only the keys and xmins, then the rows with a new key or a new xmin, whose hash then tells
   a real change from an UPDATE that changed nothing; of a view (no xmin), or when the sector's xmins cannot be
   compared with the last run's, the keys and source-side hashes, then the rows whose hash is new or different. A remote
   source: layers.sources.remote.download, then the upload's own path (prepare_source, copy_to_staging).
3. Key checks (missing, empty, duplicate) and, on a re-harvest, the schema against the published dataset.
4. The upload's checks (layers.loading.checks.check_and_measure) on the rows that will be written.
5. The first run publishes through the registry's own path (publish_staging_table) and logs one summary
   change; later runs write added/changed/removed rows, their change log, the source's keys, the Dataset's
   facts and registry_changed() in ONE transaction, which also records the run as succeeded. Feature ids of
   features that stay are kept.
A failed run writes nothing published; its staging tables are dropped.
"""
import logging
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg import sql

from layers.jobs.owner import lease, owner_is_gone
from layers.loading import ImportRefused
from layers.loading.checks import attribute_schema, check_and_measure, table_ident, text_columns
from layers.loading.feature_names import key_column
from layers.loading.indexes import index_attributes
from layers.models import Dataset
from layers.registry.services import (DatasetMetadata, ensure_schemas, publish_staging_table, registry_changed,
                                      table_name_for)
from layers.registry.signals import send_after_commit
from layers.sources import credentials, sync
from layers.sources.errors import SourceFailed, SourceUnreachable
from layers.sources.models import KEYS_SCHEMA, FeatureChange, Source, SourceRun, keys_table
from layers.sources.postgres import HASH_COLUMN, KEY_COLUMN, VERSION_COLUMN, SectorDatabase
from layers.sources.services import source_label

log = logging.getLogger(__name__)
LOCK_NAMESPACE = 0x5D10C  # first key of pg_advisory_lock(int, int): one run per source (0x5D10B: import owners)
STAGING_PREFIX = "src_"
SCRATCH = ("keys", "remote", "remote_chunks", "diff", "gone", "plan", "same")  # suffixes of a run's scratch tables
RUN_MEMORY = "256MB"  # work_mem and maintenance_work_mem of a run's session (the server's defaults: 4MB, 64MB)


@dataclass
class Versions:
    """What a run learnt of the sector's row versions, stored with its writes: the sector's transaction context
    (postgres.SectorDatabase.versions; None for a view or a remote source) and the scratch table of (key, xmin)
    whose xmin is to be kept although their rows are not written."""
    state: dict | None = None
    keep: str | None = None
    compared_by: str = ""  # "version" (xmin, then hash) or "hash": how the rows to fetch were found
    fetched: int = 0       # rows fetched from the sector after the keys

    def report(self) -> dict:
        return {"compared_by": self.compared_by, "fetched": self.fetched} if self.compared_by else {}


class SourceBusy(SourceFailed):
    """Another run of this source holds its lock."""


def harvest(source_id: int, *, on_progress=None) -> SourceRun:
    """Run the source once, now, in this process; returns its SourceRun (status succeeded or failed).

    Holds the source's lock for the whole run, so a run started by hand and a scheduled one never overlap.
    Raises SourceBusy (and records nothing) when another run of the source holds the lock.
    """
    progress = on_progress or (lambda percent, stage: None)
    source = Source.objects.get(pk=source_id)
    label = source_label(source)
    if not _try_lock(source.pk):
        raise SourceBusy(f"{label}: a run of this source is already in progress; this one was not started")
    try:
        own = lease()
        run = SourceRun.objects.create(source=source, owner=own.label, owner_token=own.hold(),
                                       staging=f"{STAGING_PREFIX}{uuid.uuid4().hex[:16]}")
        unreachable = False
        try:
            with _session_memory():
                _run(source, run, label, progress)
        except SourceUnreachable as exc:
            _fail(run, str(exc))
            unreachable = True
        except ImportRefused as exc:
            _fail(run, str(exc))
        except DatabaseError as exc:  # our own database; the sector's errors arrive as SourceFailed
            _fail(run, f"{label}: the SDI's database refused the run: {' '.join(str(exc).split())}")
        except Exception as exc:  # noqa: BLE001 - a run records every failure; nothing may escape unrecorded
            message = credentials.scrub(f"{type(exc).__name__}: {exc}", credentials.decrypt(source.secret) if
                                        source.secret else "")
            log.error("%s: unexpected failure: %s", label, message)
            _fail(run, f"{label}: unexpected failure ({message})")
        finally:
            _drop_scratch(run.staging)
            _schedule_next(source)
        run.refresh_from_db()
        run.unreachable = unreachable  # not stored: tells the task queue that a later try may succeed
        progress(100, run.status)
        return run
    finally:
        _unlock(source.pk)


@contextmanager
def _session_memory():
    """More memory for the run's joins and sorts (a million keys against a million: hashed in memory, not in
    batches on disk) and index builds, for this session only, reset afterwards (a worker's connection lives on)."""
    with connection.cursor() as cursor:
        cursor.execute("SET work_mem = %s", (RUN_MEMORY,))
        cursor.execute("SET maintenance_work_mem = %s", (RUN_MEMORY,))
        cursor.execute("SET random_page_cost = 1.1")  # the key table is in memory: look a few keys up by index
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET work_mem")
            cursor.execute("RESET maintenance_work_mem")
            cursor.execute("RESET random_page_cost")


def _try_lock(source_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, source_id))
        return cursor.fetchone()[0]


def _unlock(source_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, source_id))


def _fail(run: SourceRun, error: str) -> None:
    log.warning("harvest failed: %s", error)
    SourceRun.objects.filter(pk=run.pk, status=SourceRun.Status.RUNNING).update(
        status=SourceRun.Status.FAILED, error=error, finished=timezone.now())


def _schedule_next(source: Source) -> None:
    if source.every:
        Source.objects.filter(pk=source.pk).update(next_run_at=timezone.now() + source.every)


def _scratch_tables(staging: str) -> list[str]:
    return [staging] + [f"{staging}_{suffix}" for suffix in SCRATCH]


def _drop_scratch(staging: str) -> None:
    with connection.cursor() as cursor:
        for name in _scratch_tables(staging):
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table_ident(settings.SDI_STAGING_SCHEMA, name)))


def _run(source: Source, run: SourceRun, label: str, progress) -> None:
    ensure_schemas()
    dataset = source.dataset or Dataset.objects.filter(slug=source.slug).first()
    keyed = dataset is not None and source.dataset_id == dataset.pk and source.table_oid == _table_oid(dataset) \
        and _has_keys(source)
    staging = run.staging
    names = {suffix: f"{staging}_{suffix}" for suffix in SCRATCH}
    clock = {"started": time.perf_counter()}
    with tempfile.TemporaryDirectory(prefix="sdi-source-") as workdir:
        progress(2, "reading the source")
        versions = Versions()
        if source.kind == Source.Kind.POSTGRES:
            srid, layer, diff, versions = _read_postgres(source, label, staging, names, dataset if keyed else None,
                                                         progress)
        else:
            srid, layer, diff = _read_remote(source, label, staging, names, dataset if keyed else None,
                                             Path(workdir), progress)
        clock["read"] = time.perf_counter()
        if not keyed:
            _publish_first(source, run, label, staging, names["keys"], srid, layer, dataset, progress, versions, clock)
        else:
            _write_difference(source, run, label, dataset, staging, names, layer, diff, progress, versions, clock)


def _seconds(clock: dict, *stages: str) -> dict:
    """Seconds from the start of the run to the end of each stage reached, for the run's report."""
    return {f"seconds_to_{stage}": round(clock[stage] - clock["started"], 3) for stage in stages if stage in clock}


# -- reading -------------------------------------------------------------------------------------------------

def _read_postgres(source, label, staging, names, dataset, progress):
    with SectorDatabase(source.dsn, source.secret, source.table, label) as sector:
        shape = sector.shape(source.srid)
        if not shape.srid:
            raise SourceFailed(f"{label}: the geometries have no CRS (SRID 0); declare it (--crs EPSG:N)")
        key = _key_field(source, label, shape.names(), shape.primary_key)
        # a primary key or a unique index of the sector's on the key column: no two rows share a key already
        unique = shape.primary_key == [key] or key in shape.unique
        versions = Versions(sector.versions(shape))
        sector.create_staging(staging, shape, shape.srid)
        if dataset is None:
            progress(5, "copying every row")
            sector.copy_rows(staging, shape, key, shape.srid)
            sync.check_keys(label, sync.staged(staging), key, sql.Identifier(KEY_COLUMN), unique)
            sync.split_keys(staging, names["keys"])
            return shape.srid, None, None, versions
        sync.check_schema(label, dataset.attribute_schema, shape.attribute_schema())
        _check_same_crs(label, dataset, shape.srid)
        sync.ensure_versions(source.pk)
        by_version = _comparable(source.sector_state, versions.state)
        diff = None
        if by_version and unique and _recent_comparable(source.sector_state, versions.state):
            progress(5, "reading the rows written since the last run")
            sector.copy_recent(names["remote"], shape, key, source.sector_state["xmin"])
            diff = sync.diff_recent(source, names["remote"], names["diff"], names["gone"], label, key,
                                    source.sector_state["rows"], versions.state["rows"])
            if diff is None:  # a row may have gone: only every key can tell which
                sync.drop(names["remote"])
            else:
                versions.compared_by = "recent versions"
        if diff is None and by_version:
            progress(5, "comparing keys and row versions")
            sector.copy_versions(names["remote"], shape, key)
            sync.check_keys(label, sync.staged(names["remote"]), key, sql.Identifier("key"), unique, empties=False)
            diff = sync.diff_versions(source, names["remote"], names["diff"], names["gone"], label, key)
        elif diff is None:
            progress(5, "comparing keys and hashes")
            sector.copy_keys(names["remote"], shape, key, shape.srid)
            sync.check_keys(label, sync.staged(names["remote"]), key, sql.Identifier("key"), unique)
            diff = sync.diff_keys(source, names["remote"], names["diff"], names["gone"])
            versions.keep = names["remote"] if versions.state else None
        versions.compared_by = versions.compared_by or ("version" if by_version else "hash")
        versions.fetched = diff.added + diff.changed
        if diff.added or diff.changed:
            progress(20, f"copying {diff.added + diff.changed} new or changed rows")
            with connection.cursor() as cursor:
                cursor.execute(sql.SQL("SELECT key FROM {}").format(sync.staged(names["diff"])))
                keys = [k for (k,) in cursor.fetchall()]
            sector.copy_rows(staging, shape, key, shape.srid, keys, sector.key_type(shape, key))
        sync.split_keys(staging, names["keys"])
        sync.analyse(names["keys"])  # a few rows to look up among a million: the planner has to know it
        if by_version:
            same = sync.set_aside_unchanged(source.pk, staging, names["keys"], names["same"])
            diff = sync.Diff(diff.added, diff.changed - same, diff.removed)
            versions.keep = names["same"]
        return shape.srid, None, diff, versions


def _comparable(before: dict | None, now: dict | None) -> bool:
    """May this run's xmins be compared with those the last run stored? Same cluster, database and table, and a
    transaction counter that moved forward by less than 2^31 (so a 32-bit xmin cannot have come round again)."""
    if not before or not now:
        return False
    if any(before.get(k) != now.get(k) for k in ("system", "database", "table")):
        return False
    return 0 <= now["xmax"] - before["xmax"] < 2 ** 31


def _recent_comparable(before: dict | None, now: dict | None) -> bool:
    """May this run read only the rows written since the last one? Its snapshot's xmin and row count were
    stored, and that xmin is less than 2^31 transactions old (age() of a 32-bit xid is exact only so far)."""
    if not before or not now or before.get("xmin") is None or before.get("rows") is None:
        return False
    return 0 <= now["xmax"] - before["xmin"] < 2 ** 31 - 2 ** 20 and before["xmin"] % 2 ** 32 >= 3


def _read_remote(source, label, staging, names, dataset, workdir: Path, progress):
    from layers.loading.ogr import copy_to_staging
    from layers.loading.prepare import prepare_source
    from layers.loading.text import redecode_table
    from layers.sources import remote

    downloaded = remote.download(source.kind, source.url, workdir, srid=source.srid,
                                 on_progress=lambda pct, *rest: progress(2 + pct * 30 // 100, "downloading"))
    prepared = prepare_source(downloaded.path, workdir, layer=None, srid=source.srid or downloaded.srid,
                              encoding=None)
    prepared.label = label
    copy_to_staging(prepared.layer, staging, prepared.srid,
                    lambda pct: progress(35 + pct * 25 // 100, "copying with GDAL"), prepared.open_options)
    if prepared.redecode:
        columns = text_columns(attribute_schema(settings.SDI_STAGING_SCHEMA, staging))
        redecode_table(settings.SDI_STAGING_SCHEMA, staging, columns, prepared.encoding, label)
    found = attribute_schema(settings.SDI_STAGING_SCHEMA, staging)
    key = _key_field(source, label, [c["name"] for c in found], [])
    _add_keys_and_hashes(staging, [c["name"] for c in found], key)
    sync.check_keys(label, sync.staged(staging), key, sql.Identifier(KEY_COLUMN))
    sync.split_keys(staging, names["keys"])
    if dataset is None:
        return prepared.srid, prepared.layer, None
    sync.check_schema(label, dataset.attribute_schema, found)
    _check_same_crs(label, dataset, prepared.srid)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE TABLE {r} AS SELECT key, hash FROM {k}").format(
            r=sync.staged(names["remote"]), k=sync.staged(names["keys"])))
    diff = sync.diff_keys(source, names["remote"], names["diff"], names["gone"])
    sync.keep_only(staging, names["keys"], names["diff"])
    return prepared.srid, prepared.layer, diff


def _add_keys_and_hashes(staging: str, columns: list[str], key: str) -> None:
    """A file has no database to hash its rows: hash them here, the same way on every run, before any check
    changes them."""
    row = sql.SQL(", ").join([sql.Identifier(c) for c in columns] + [sql.Identifier("geom")])
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("ALTER TABLE {t} ADD COLUMN {k} text, ADD COLUMN {h} bigint, ADD COLUMN {v} bigint")
                       .format(t=sync.staged(staging), k=sql.Identifier(KEY_COLUMN), h=sql.Identifier(HASH_COLUMN),
                               v=sql.Identifier(VERSION_COLUMN)))
        cursor.execute(sql.SQL("UPDATE {t} SET {k} = {key}::text, {h} = hashtextextended(ROW({row})::text, 0)").format(
            t=sync.staged(staging), k=sql.Identifier(KEY_COLUMN), h=sql.Identifier(HASH_COLUMN),
            key=sql.Identifier(key), row=row))


def _key_field(source: Source, label: str, columns: list[str], primary_key: list[str]) -> str:
    """The declared key, else the table's one-column primary key, else a usual key column (id, ma_thua…)."""
    key = source.key_field
    if not key:
        if len(primary_key) == 1:
            key = primary_key[0]
        else:
            key = key_column([{"name": c} for c in columns]) or ""
        if not key:
            raise SourceFailed(f"{label}: no key field declared and none found (no one-column primary key, no "
                               f"id/ma_thua/… column); declare one with --key (columns: {', '.join(columns)})")
        Source.objects.filter(pk=source.pk).update(key_field=key)
        source.key_field = key
    if key not in columns:
        raise SourceFailed(f"{label}: key field {key!r} is missing at the source (columns: {', '.join(columns)})")
    return key


def _table_oid(dataset: Dataset) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(format('%%I.%%I', %s::text, %s::text))::oid::bigint",
                       (dataset.table_schema, dataset.table_name))
        return cursor.fetchone()[0]


def _has_keys(source: Source) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (keys_table(source.pk).as_string(None),))
        return cursor.fetchone()[0]


def _adopt_keys(source: Source, staged_keys: str) -> None:
    """The first run's staged keys become the source's key table (moved, then indexed in bulk)."""
    target = keys_table(source.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(KEYS_SCHEMA)))
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
        cursor.execute(sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(sync.staged(staged_keys),
                                                                      sql.Identifier(KEYS_SCHEMA)))
        cursor.execute(sql.SQL("ALTER TABLE {}.{} RENAME TO {}").format(
            sql.Identifier(KEYS_SCHEMA), sql.Identifier(staged_keys), sql.Identifier(f"source_{source.pk}_keys")))
        cursor.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (key)").format(target))


def _check_same_crs(label: str, dataset: Dataset, srid: int) -> None:
    if srid != dataset.storage_srid:
        raise SourceFailed(f"{label}: the source is now in EPSG:{srid}, the published dataset in "
                           f"EPSG:{dataset.storage_srid}; the published dataset is unchanged")


# -- writing ---------------------------------------------------------------------------------------------------

def _metadata(source: Source, label: str, dataset: Dataset | None) -> DatasetMetadata:
    current = vars(DatasetMetadata.of(dataset)) if dataset else {"attribution": label.split(" (", 1)[-1].rstrip(")")}
    return DatasetMetadata(**{**current, **source.metadata, "source": label})


def _publish_first(source, run, label, staging, staged_keys, srid, layer, dataset, progress, versions, clock) -> None:
    """The first run (or the first since the dataset was replaced by hand): the whole table is published through
    the registry's own path; the change log gets one summary entry rather than a copy of every feature."""
    progress(40, "checking geometries")
    facts = check_and_measure(settings.SDI_STAGING_SCHEMA, staging, srid, label, source=layer)
    if facts.report.get("dropped_without_geometry"):
        sync.drop_unstaged_keys(staging, staged_keys)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gist (geom)").format(
            sql.Identifier(f"{staging}_geom_idx"), sync.staged(staging)))
    progress(90, "publishing")
    metadata = _metadata(source, label, dataset)

    clock["check"] = time.perf_counter()

    def record(published: Dataset) -> None:
        Source.objects.filter(pk=source.pk).update(dataset=published, table_oid=_table_oid(published),
                                                   sector_state=versions.state or {})
        _adopt_keys(source, staged_keys)
        now = timezone.now()
        FeatureChange.objects.create(dataset=published, run=run, key="", action=FeatureChange.Action.ADDED,
                                     new={"features": facts.feature_count, "summary": "first run: every feature"},
                                     time=now)
        SourceRun.objects.filter(pk=run.pk).update(
            status=SourceRun.Status.SUCCEEDED, finished=now, added=facts.feature_count,
            report={**facts.report, "features": facts.feature_count, "geometry_type": facts.geometry_type,
                    "srid": srid, "first_run": True})

    published = publish_staging_table(source.slug, staging, srid, facts, metadata, dataset is not None,
                                      source.created_by if dataset is None else None, record)
    clock["publish"] = time.perf_counter()
    log.info("%s: first run published %d features", label, facts.feature_count)
    progress(95, "indexing attributes")
    # Plain CREATE INDEX: it blocks writers only (none: this run holds the source's lock), never readers, and
    # reads the table once where CONCURRENTLY reads it twice and waits for every older transaction.
    index_attributes(published.table_schema, published.table_name, concurrently=False)
    clock["index"] = time.perf_counter()
    timings = _seconds(clock, "read", "check", "publish", "index")
    SourceRun.objects.filter(pk=run.pk).update(report={**SourceRun.objects.get(pk=run.pk).report, **timings})
    log.info("%s: first run timings %s", label, timings)


def _keep_versions(source: Source, versions: Versions) -> None:
    """Inside the run's transaction: the xmins of rows read but not written, and the sector's context."""
    if versions.keep:
        sync.keep_versions(source.pk, versions.keep)
    Source.objects.filter(pk=source.pk).update(sector_state=versions.state or {})


def _write_difference(source, run, label, dataset, staging, names, layer, diff, progress, versions, clock) -> None:
    if diff.empty:
        with transaction.atomic():
            _keep_versions(source, versions)
            clock["publish"] = time.perf_counter()
            SourceRun.objects.filter(pk=run.pk).update(status=SourceRun.Status.SUCCEEDED, finished=timezone.now(),
                                                       report={"unchanged": True, **versions.report(),
                                                               **_seconds(clock, "read", "publish")})
        log.info("%s: nothing changed", label)
        return
    geometry = sql.SQL("s.geom")
    facts_report = {}
    if diff.added or diff.changed:
        progress(50, "checking the new and changed rows")
        facts = check_and_measure(settings.SDI_STAGING_SCHEMA, staging, dataset.storage_srid, label, source=layer)
        facts_report = facts.report
        if facts.report.get("dropped_without_geometry"):
            sync.drop_unstaged_keys(staging, names["keys"])
        geometry = _geometry_into(label, dataset, facts.geometry_type)
    clock["check"] = time.perf_counter()
    sync.plan_writes(dataset, names["keys"], names["plan"], source.pk)
    progress(80, "writing the changes")
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
        facts = sync.apply(run, dataset, staging, names["plan"], names["gone"], geometry, label)
        counts = sync.counts(names["plan"], names["gone"])
        _keep_versions(source, versions)
        Dataset.objects.filter(pk=dataset.pk).update(**facts, updated=timezone.now())
        registry_changed()
        send_after_commit(dataset)  # a merge with this dataset as a member is rebuilt (layers.merging)
        clock["publish"] = time.perf_counter()
        SourceRun.objects.filter(pk=run.pk).update(status=SourceRun.Status.SUCCEEDED, finished=timezone.now(),
                                                   report={**facts_report, "features": facts["feature_count"],
                                                           **versions.report(),
                                                           **_seconds(clock, "read", "check", "publish")},
                                                   **counts)
    log.info("%s: %d added, %d changed, %d removed", label, counts["added"], counts["changed"], counts["removed"])


def _geometry_into(label: str, dataset: Dataset, found: str) -> sql.Composable:
    """The staged geometry as the published column takes it: promoted to multi when the dataset is multi."""
    published = dataset.geometry_type
    if found == published:
        return sql.SQL("s.geom")
    if published == f"Multi{found}":
        return sql.SQL("ST_Multi(s.geom)")
    raise SourceFailed(f"{label}: the new or changed features are {found}, the published dataset holds "
                       f"{published}; the published dataset is unchanged")


# -- runs whose process died -------------------------------------------------------------------------------------

def reap_interrupted_runs() -> int:
    """Mark as failed every run whose process is gone (a killed worker); their writes were never committed."""
    reaped = 0
    for run in SourceRun.objects.filter(status=SourceRun.Status.RUNNING).order_by("pk"):
        if not owner_is_gone(run.owner_token):
            continue
        _drop_scratch(run.staging)
        reaped += SourceRun.objects.filter(pk=run.pk, status=SourceRun.Status.RUNNING).update(
            status=SourceRun.Status.FAILED, finished=timezone.now(),
            error=f"interrupted: {run.owner or 'its process'} stopped while running it; nothing was written")
    return reaped
