"""Comparing a run's rows with what is published, by key, and writing only the difference with its change log.

Everything here works on local tables in the staging schema: `staging` (the rows read, each with its key text
and its source-side hash), the source's key table (models.keys_table: what the last run published) and the
published table.
"""
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.utils import timezone
from psycopg import sql

from layers.crs import to_wgs84
from layers.loading.checks import EXAMPLES, districts_covered, parse_box, table_ident, wgs84_extent
from layers.models import Dataset
from layers.sources.errors import SourceFailed
from layers.sources.models import FeatureChange, Source, SourceRun, keys_table
from layers.sources.postgres import HASH_COLUMN, KEY_COLUMN, VERSION_COLUMN
from layers.statements import execute as _execute, rows as _rows

CHANGES = sql.Identifier(FeatureChange._meta.db_table)


def staged(name: str) -> sql.Composed:
    return table_ident(settings.SDI_STAGING_SCHEMA, name)


def check_schema(label: str, published: list[dict], found: list[dict]) -> None:
    """Refuse a source whose columns no longer match the published dataset (dropped, renamed, retyped, new)."""
    before = {c["name"]: (c.get("type"), c.get("format")) for c in published}
    now = {c["name"]: (c.get("type"), c.get("format")) for c in found}
    gone = [n for n in before if n not in now]
    new = [n for n in now if n not in before]
    retyped = [n for n in before if n in now and before[n] != now[n]]
    kept = "; the published dataset is unchanged (restore the column at the source, or replace the dataset)"
    shown = lambda t: t[1] or t[0]  # noqa: E731 - "date-time" says more than "string"
    if gone and new:
        raise SourceFailed(f"{label}: field {gone[0]!r} of the published dataset is gone and field {new[0]!r} is "
                           f"new (renamed?){kept}")
    if gone:
        raise SourceFailed(f"{label}: field {gone[0]!r} of the published dataset is gone at the source (dropped or "
                           f"renamed){kept}")
    if retyped:
        name = retyped[0]
        raise SourceFailed(f"{label}: field {name!r} changed type at the source: {shown(before[name])} → "
                           f"{shown(now[name])}{kept}")
    if new:
        raise SourceFailed(f"{label}: new field {new[0]!r} at the source, which the published dataset does not "
                           f"have{kept}")


def check_keys(label: str, table: sql.Composable, key: str, key_column: sql.Composable, unique: bool = False,
               empties: bool = True) -> None:
    """Every row needs a key, and no two rows the same one: a run names what is wrong and writes nothing.
    `unique`: the key is the source table's primary key, so only empty strings remain to be found.
    `empties=False`: the caller finds the empty keys itself (diff_versions, among the few new keys)."""
    if empties:
        (empty,) = _rows(sql.SQL("SELECT count(*) FROM {t} WHERE {k} IS NULL OR btrim({k}) = ''").format(
            t=table, k=key_column))[0]
        _refuse_empty(label, key, empty)
    if unique:
        return
    duplicates = _rows(sql.SQL("SELECT {k}, count(*) FROM {t} GROUP BY {k} HAVING count(*) > 1 "
                               "ORDER BY count(*) DESC, {k} LIMIT %s").format(t=table, k=key_column), (EXAMPLES,))
    if duplicates:
        (total,) = _rows(sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {t} GROUP BY {k} HAVING count(*) > 1) d")
                         .format(t=table, k=key_column))[0]
        examples = ", ".join(f"{value!r} ×{n}" for value, n in duplicates)
        raise SourceFailed(f"{label}: key field {key!r} is not unique: {total} value(s) occur more than once "
                           f"({examples})")


def _refuse_empty(label: str, key: str, empty: int) -> None:
    if empty:
        raise SourceFailed(f"{label}: key field {key!r} is empty in {empty} row(s); every feature needs a key")


def split_keys(staging: str, keys_table: str) -> None:
    """Move each staged row's key text, hash and xmin into `keys_table` (fid, key, hash, version: the xmin) and out of the data
    columns."""
    _execute(sql.SQL("CREATE TABLE {k} AS SELECT fid, {kc} AS key, {hc} AS hash, {vc} AS version FROM {s}").format(
        k=staged(keys_table), s=staged(staging), kc=sql.Identifier(KEY_COLUMN), hc=sql.Identifier(HASH_COLUMN),
        vc=sql.Identifier(VERSION_COLUMN)))
    _execute(sql.SQL("ALTER TABLE {} DROP COLUMN {}, DROP COLUMN {}, DROP COLUMN {}").format(
        staged(staging), sql.Identifier(KEY_COLUMN), sql.Identifier(HASH_COLUMN), sql.Identifier(VERSION_COLUMN)))


def drop(table: str) -> None:
    _execute(sql.SQL("DROP TABLE IF EXISTS {}").format(staged(table)))


def analyse(table: str) -> None:
    _execute(sql.SQL("ANALYZE {}").format(staged(table)))


def ensure_versions(source_id: int) -> None:
    """A key table made before xmins were kept gets the column (empty: its next run compares every row's hash)."""
    _execute(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS version bigint").format(keys_table(source_id)))


@dataclass
class Diff:
    added: int
    changed: int
    removed: int

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def diff_keys(source: Source, remote_keys: str, diff_table: str, removed_table: str) -> Diff:
    """Keys whose hash is new or different (diff_table: key, hash, fid or NULL) and keys gone (removed_table)."""
    _execute(sql.SQL(
        "CREATE UNLOGGED TABLE {d} AS SELECT r.key, r.hash, k.fid FROM {r} r LEFT JOIN {sk} k "
        "ON k.key = r.key WHERE k.key IS NULL OR k.hash <> r.hash").format(
        d=staged(diff_table), r=staged(remote_keys), sk=keys_table(source.pk)))
    _execute(sql.SQL(
        "CREATE UNLOGGED TABLE {g} AS SELECT k.key, k.fid FROM {sk} k "
        "WHERE NOT EXISTS (SELECT 1 FROM {r} r WHERE r.key = k.key)").format(
        g=staged(removed_table), r=staged(remote_keys), sk=keys_table(source.pk)))
    (added, changed), = _rows(sql.SQL("SELECT count(*) FILTER (WHERE fid IS NULL), count(fid) FROM {}").format(
        staged(diff_table)))
    (removed,), = _rows(sql.SQL("SELECT count(*) FROM {}").format(staged(removed_table)))
    return Diff(added, changed, removed)


def diff_versions(source: Source, remote_versions: str, candidates_table: str, removed_table: str, label: str,
                  key: str) -> Diff:
    """A table's re-harvest: the keys that are new or whose row has a new version (xmin) are candidates (key,
    fid or NULL), to be fetched and told apart by hash; keys gone are removed. One pass over both key sets.

    An empty key can only be among the new keys (the stored ones were checked), and a NULL one matches no stored
    key: both are counted here, among the few candidates, rather than in a scan of every key."""
    _execute(sql.SQL(
        "CREATE UNLOGGED TABLE {d} AS SELECT coalesce(r.key, k.key) AS key, k.fid, r.key IS NULL AS gone "
        "FROM {r} r FULL JOIN {sk} k ON k.key = r.key "
        "WHERE r.key IS NULL OR k.key IS NULL OR k.version IS DISTINCT FROM r.version").format(
        d=staged(candidates_table), r=staged(remote_versions), sk=keys_table(source.pk)))
    (empty,), = _rows(sql.SQL("SELECT count(*) FROM {} WHERE key IS NULL OR (NOT gone AND btrim(key) = '')").format(
        staged(candidates_table)))
    _refuse_empty(label, key, empty)
    _execute(sql.SQL("CREATE UNLOGGED TABLE {g} AS SELECT key, fid FROM {d} WHERE gone").format(
        g=staged(removed_table), d=staged(candidates_table)))
    _execute(sql.SQL("DELETE FROM {} WHERE gone").format(staged(candidates_table)))
    (added, maybe), = _rows(sql.SQL("SELECT count(*) FILTER (WHERE fid IS NULL), count(fid) FROM {}").format(
        staged(candidates_table)))
    (removed,), = _rows(sql.SQL("SELECT count(*) FROM {}").format(staged(removed_table)))
    return Diff(added, maybe, removed)


def diff_recent(source: Source, recent: str, candidates_table: str, removed_table: str, label: str, key: str,
                rows_before: int, rows_now: int) -> Diff | None:
    """A table's re-harvest from the rows written since the last run (postgres.SectorDatabase.copy_recent): those
    with a new key or a new version are candidates (key, fid or NULL), as in diff_versions. None when some row
    may have gone, which only the full set of keys can tell (the caller then compares every key).

    Every row of the last run's snapshot is either untouched (its xmin is old, so it is not in `recent`), or
    rewritten (in `recent`, under a key the key table holds), or gone. With unique keys and a key table that
    holds exactly those rows: gone = rows_before − (rows_now − |recent|) − rewritten. Zero, the usual case,
    means no key is gone and no untouched key needs to be read."""
    stored = keys_table(source.pk)
    (count,), = _rows(sql.SQL("SELECT count(*) FROM {}").format(stored))
    if count != rows_before:  # rows without geometry were left out: the arithmetic needs every row keyed
        return None
    (empty,), = _rows(sql.SQL("SELECT count(*) FROM {} WHERE key IS NULL OR btrim(key) = ''").format(staged(recent)))
    _refuse_empty(label, key, empty)
    _execute(sql.SQL(
        "CREATE UNLOGGED TABLE {d} AS SELECT r.key, k.fid, k.version IS NOT DISTINCT FROM r.version AS same "
        "FROM {r} r LEFT JOIN {sk} k ON k.key = r.key").format(d=staged(candidates_table), r=staged(recent),
                                                                sk=stored))
    (seen, rewritten), = _rows(sql.SQL("SELECT count(*), count(fid) FROM {}").format(staged(candidates_table)))
    if rows_before - (rows_now - seen) - rewritten != 0:
        drop(candidates_table)
        return None
    _execute(sql.SQL("DELETE FROM {} WHERE same").format(staged(candidates_table)))
    _execute(sql.SQL("CREATE UNLOGGED TABLE {g} (key text, fid bigint)").format(g=staged(removed_table)))
    (added, maybe), = _rows(sql.SQL("SELECT count(*) FILTER (WHERE fid IS NULL), count(fid) FROM {}").format(
        staged(candidates_table)))
    return Diff(added, maybe, 0)


def set_aside_unchanged(source_id: int, staging: str, staged_keys: str, same_table: str) -> int:
    """Fetched rows whose hash is the one published (a new version with the same values: an UPDATE that changed
    nothing, a dump and restore) are not written; only their new xmin is kept (same_table: fid, key, version)."""
    _execute(sql.SQL("CREATE UNLOGGED TABLE {m} AS SELECT s.fid, s.key, s.version FROM {s} s JOIN {sk} k "
                     "ON k.key = s.key AND k.hash = s.hash").format(
        m=staged(same_table), s=staged(staged_keys), sk=keys_table(source_id)))
    same = _execute(sql.SQL("DELETE FROM {s} s USING {m} m WHERE s.fid = m.fid").format(
        s=staged(staged_keys), m=staged(same_table)))
    if same:
        _execute(sql.SQL("DELETE FROM {s} s USING {m} m WHERE s.fid = m.fid").format(
            s=staged(staging), m=staged(same_table)))
    return same


def keep_versions(source_id: int, versions_table: str) -> int:
    """Store the xmin read now for keys whose row did not change (a new version with the same hash, or every
    key after a run that compared hashes), so that the next run fetches none of them."""
    return _execute(sql.SQL("UPDATE {sk} k SET version = v.version FROM {v} v WHERE v.key = k.key "
                            "AND k.version IS DISTINCT FROM v.version").format(sk=keys_table(source_id),
                                                                          v=staged(versions_table)))


def plan_writes(dataset: Dataset, staged_keys: str, plan_table: str, source_id: int) -> None:
    """For each staged row: its published fid (kept for a changed feature, the table's next one for a new one)."""
    published = table_ident(dataset.table_schema, dataset.table_name)
    _execute(sql.SQL(
        "CREATE UNLOGGED TABLE {p} AS SELECT s.fid AS staging_fid, s.key, s.hash, s.version, k.fid IS NULL AS added, "
        "coalesce(k.fid, nextval(pg_get_serial_sequence(%s, 'fid'))) AS fid "
        "FROM {s} s LEFT JOIN {sk} k ON k.key = s.key").format(
        p=staged(plan_table), s=staged(staged_keys), sk=keys_table(source_id)),
        (published.as_string(None),))
    # Fresh tables have no statistics: without them the writes below scan the published table instead of
    # looking up its few changed fids.
    for table in (plan_table, staged_keys):
        _execute(sql.SQL("ANALYZE {}").format(staged(table)))


def counts(plan_table: str, removed_table: str) -> dict:
    (added, changed), = _rows(sql.SQL("SELECT count(*) FILTER (WHERE added), count(*) FILTER (WHERE NOT added) "
                                      "FROM {}").format(staged(plan_table)))
    (removed,), = _rows(sql.SQL("SELECT count(*) FROM {}").format(staged(removed_table)))
    return {"added": added, "changed": changed, "removed": removed}


def drop_unstaged_keys(staging: str, keys_table: str) -> None:
    """Rows the checks dropped (no geometry) are not published, so not keyed either."""
    _execute(sql.SQL("DELETE FROM {k} k WHERE NOT EXISTS (SELECT 1 FROM {s} s WHERE s.fid = k.fid)").format(
        k=staged(keys_table), s=staged(staging)))


def keep_only(staging: str, keys_table: str, diff_table: str) -> None:
    """Of a complete read (a file, a remote service), keep the rows that differ from what is published."""
    _execute(sql.SQL("DELETE FROM {k} k WHERE NOT EXISTS (SELECT 1 FROM {d} d WHERE d.key = k.key)").format(
        k=staged(keys_table), d=staged(diff_table)))
    _execute(sql.SQL("DELETE FROM {s} s WHERE NOT EXISTS (SELECT 1 FROM {k} k WHERE k.fid = s.fid)").format(
        s=staged(staging), k=staged(keys_table)))


def _properties(alias: str, columns: list[str], srid: int, geometry: sql.Composable | None = None) -> sql.Composable:
    """A row as the change log keeps it: its attributes and its geometry as GeoJSON in WGS 84. The attributes are
    named one by one: to_jsonb of the whole row would also turn its geometry into GeoJSON, to be thrown away."""
    row = sql.Identifier(alias)
    attributes = sql.SQL(", ").join(sql.SQL("{}.{}").format(row, sql.Identifier(c)) for c in columns)
    geometry = geometry if geometry is not None else sql.SQL("{}.geom").format(row)
    return sql.SQL("(SELECT to_jsonb(a) FROM (SELECT {attrs}) a) || jsonb_build_object('geometry', "
                   "ST_AsGeoJSON({g}, 7)::jsonb)").format(attrs=attributes, g=to_wgs84(geometry, srid))


def apply(run: SourceRun, dataset: Dataset, staging: str, plan_table: str, removed_table: str, geometry_sql,
          label: str) -> dict:
    """Write the difference into the published table, with the change log and the source's keys. The caller holds
    the transaction (and the registry row's lock); returns the Dataset facts to update."""
    source = run.source
    published = table_ident(dataset.table_schema, dataset.table_name)
    columns = [c["name"] for c in dataset.attribute_schema]
    names = sql.SQL(", ").join(map(sql.Identifier, columns + ["geom"]))
    values = sql.SQL(", ").join([sql.SQL("s.{}").format(sql.Identifier(c)) for c in columns] + [geometry_sql])
    now = timezone.now()
    args = (dataset.pk, run.pk, now)
    plan, gone, stage = staged(plan_table), staged(removed_table), staged(staging)
    srid = dataset.storage_srid
    _execute(sql.SQL("INSERT INTO {c} (dataset_id, run_id, time, key, fid, action, old, new) "
                     "SELECT %s, %s, %s, g.key, g.fid, 'removed', {old}, NULL FROM {g} g JOIN {p} p ON p.fid = g.fid")
             .format(c=CHANGES, old=_properties("p", columns, srid), g=gone, p=published), args)
    _log_new(args, plan, stage, published, columns, geometry_sql, srid)
    # Before the writes: did any feature come, go or move? If not, the extent and districts stay as they are.
    (reshaped,), = _rows(sql.SQL(
        "SELECT (SELECT count(*) FROM {g}) + (SELECT count(*) FROM {k} k JOIN {s} s ON s.fid = k.staging_fid "
        "LEFT JOIN {p} p ON p.fid = k.fid WHERE k.added OR p.geom IS NULL OR NOT ({geom} = p.geom))").format(
        g=gone, k=plan, s=stage, p=published, geom=geometry_sql))
    _execute(sql.SQL("DELETE FROM {p} WHERE fid IN (SELECT fid FROM {g})").format(p=published, g=gone))
    # (a one-element column list would need ROW(): "SET (a) = (b)" is refused, so no list form)
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), v) for c, v in zip(
        columns + ["geom"], [sql.SQL("s.{}").format(sql.Identifier(c)) for c in columns] + [geometry_sql]))
    _execute(sql.SQL("UPDATE {p} SET {a} FROM {k} k JOIN {s} s ON s.fid = k.staging_fid "
                     "WHERE {p}.fid = k.fid AND NOT k.added").format(p=published, a=assignments, k=plan, s=stage))
    _execute(sql.SQL("INSERT INTO {p} (fid, {names}) SELECT k.fid, {vals} FROM {k} k JOIN {s} s "
                     "ON s.fid = k.staging_fid WHERE k.added").format(
        p=published, names=names, vals=values, k=plan, s=stage))
    keys = keys_table(source.pk)
    _execute(sql.SQL("DELETE FROM {sk} WHERE key IN (SELECT key FROM {g})").format(sk=keys, g=gone))
    _execute(sql.SQL("UPDATE {sk} sk SET hash = k.hash, version = k.version FROM {k} k WHERE sk.key = k.key "
                     "AND NOT k.added").format(sk=keys, k=plan))
    _execute(sql.SQL("INSERT INTO {sk} (key, hash, fid, version) SELECT key, hash, fid, version FROM {k} WHERE added")
             .format(sk=keys, k=plan))
    return measure_published(dataset, label, same_shapes=not reshaped)


def _log_new(args, plan, stage, published, columns, geometry_sql, srid) -> None:
    """Change-log rows of the added and changed features: old values from the published row, new from staging."""
    _execute(sql.SQL(
        "INSERT INTO {c} (dataset_id, run_id, time, key, fid, action, old, new) "
        "SELECT %s, %s, %s, k.key, k.fid, CASE WHEN k.added THEN 'added' ELSE 'changed' END, "
        "CASE WHEN k.added THEN NULL ELSE {old} END, {new} "
        "FROM {k} k JOIN {s} s ON s.fid = k.staging_fid LEFT JOIN {pub} p ON p.fid = k.fid AND NOT k.added").format(
        c=CHANGES, old=_properties("p", columns, srid), new=_properties("s", columns, srid, geometry_sql),
        k=plan, s=stage, pub=published), args)


def measure_published(dataset: Dataset, label: str, same_shapes: bool = False) -> dict:
    """The facts the registry keeps about the published table, measured again after a write. `same_shapes`: no
    feature was added, removed or moved (attributes only), so the count, extent and districts are as they were
    and the table is not scanned again for them."""
    published = table_ident(dataset.table_schema, dataset.table_name)
    if same_shapes:
        facts = {"feature_count": dataset.feature_count}
        _time_range(dataset, published, facts)
        return facts
    count, box = _rows(sql.SQL("SELECT count(*), ST_Extent(geom)::text FROM {}").format(published))[0]
    facts = {"feature_count": count}
    if box:
        minx, miny, maxx, maxy = wgs84_extent(parse_box(box), dataset.storage_srid, label)
        facts["extent"] = Polygon.from_bbox((minx, miny, maxx, maxy))
    facts["districts"] = districts_covered(published, dataset.storage_srid)
    _time_range(dataset, published, facts)
    return facts


def _time_range(dataset: Dataset, published, facts: dict) -> None:
    """The time field's range (its attribute index answers min and max without a scan)."""
    if dataset.time_field:
        (begin, end), = _rows(sql.SQL("SELECT min({c})::timestamptz, max({c})::timestamptz FROM {t}").format(
            c=sql.Identifier(dataset.time_field), t=published))
        facts.update(temporal_begin=begin, temporal_end=end)
