"""Reading a table or view of a sector's own PostgreSQL/PostGIS database into a local staging table.

Binary COPY out of the sector database straight into binary COPY into ours (no parsing in Python), in one
read-only REPEATABLE READ transaction on the sector side, so the keys, hashes and rows of a run all come from one
snapshot. The sector database computes each row's hash itself (a 64-bit hash of the row's text, geometry included:
hashtextextended). A re-harvest of a table reads each row's key and `xmin` (the transaction that wrote the row's
current version: no hashing, no detoasting) and fetches only the rows with a new key or a new version; a view has no
xmin, so its re-harvest transfers keys and hashes. Identifiers are psycopg.sql Identifiers; the password is never in
a message (layers.sources.credentials.scrub).
"""
import logging
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connection
from psycopg import sql

from layers.loading.checks import table_ident
from layers.postgis import PG_TO_JSON_SCHEMA
from layers.sources import credentials
from layers.sources.errors import SourceFailed, SourceUnreachable

log = logging.getLogger(__name__)
KEY_BATCH = 5000  # keys per COPY of changed rows
RELAY_BYTES = 1 << 17  # bytes gathered from the sector's COPY before they are written into ours
VERSION_PAGES = 64  # table pages whose keys and xmins travel as one pair of arrays
# carried in staging next to the data, moved to the run's key table before the checks
HASH_COLUMN, KEY_COLUMN, VERSION_COLUMN = "_sdi_hash", "_sdi_key", "_sdi_xmin"
PLAIN_TYPES = ("POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON")


@dataclass(frozen=True)
class Column:
    name: str
    type_sql: str      # the local column type (the source's own built-in type, else text)
    cast_text: bool    # read as text (a type of the sector's own, e.g. an enum or a domain)
    data_type: str     # information_schema's data_type, for the JSON Schema type


@dataclass(frozen=True)
class TableShape:
    columns: list[Column]        # attributes in source order
    geometry: str                # the geometry column
    geography: bool
    srid: int                    # from the column's type, else from a row; 0 when unknown
    primary_key: list[str]
    unique: frozenset = frozenset()  # columns a unique index (no predicate, no expression) keeps unique
    versioned: bool = False      # a table (or materialized view): its rows have an xmin; a view's do not
    geometry_type: str = "Geometry"  # the column's declared 2-D type (POLYGON…), else Geometry

    def attribute_schema(self) -> list[dict]:
        return [{"name": c.name, **PG_TO_JSON_SCHEMA.get(c.data_type, {"type": "string"})} for c in self.columns]

    def names(self) -> list[str]:
        return [c.name for c in self.columns]


class SectorDatabase:
    """A read-only session on a sector database; use as a context manager."""

    def __init__(self, dsn: str, secret: str, table: str, label: str):
        self.dsn, self.secret, self.label = dsn, secret, label
        self.schema, _, self.table = table.rpartition(".")
        self.password = credentials.decrypt(secret)
        self.conn: psycopg.Connection | None = None

    def failure(self, what: str, exc: Exception, kind: type[SourceFailed] = SourceFailed) -> SourceFailed:
        """A driver error as a run's error: the DSN and password scrubbed out."""
        detail = " ".join(str(exc).split())
        return kind(f"{self.label}: {what}: {credentials.scrub(detail, self.password, self.dsn)}")

    def __enter__(self):
        options = (f"-c statement_timeout={settings.SDI_SOURCE_STATEMENT_TIMEOUT * 1000} "
                   "-c default_transaction_read_only=on -c jit=off")
        try:
            self.conn = psycopg.connect(credentials.full_dsn(self.dsn, self.secret),
                                        connect_timeout=settings.SDI_SOURCE_CONNECT_TIMEOUT, options=options,
                                        application_name="cantho-sdi-harvest")
            self.conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            self.conn.read_only = True
        except psycopg.OperationalError as exc:  # refused, timed out, or the server said no (e.g. a password)
            unreachable = not isinstance(exc, psycopg.errors.InvalidAuthorizationSpecification) and \
                "authentication failed" not in str(exc)
            raise self.failure("cannot connect", exc, SourceUnreachable if unreachable else SourceFailed) from None
        except psycopg.Error as exc:
            raise self.failure("cannot connect", exc) from None
        return self

    def __exit__(self, *exc):
        if self.conn is not None:
            self.conn.close()

    @property
    def qualified(self) -> sql.Composed:
        return table_ident(self.schema, self.table)

    def shape(self, declared_srid: int | None) -> TableShape:
        """The table's columns, its one geometry column and SRID, and its primary key."""
        try:
            rows = self.conn.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname, "
                "n.nspname = 'pg_catalog' AND t.typtype = 'b', c.data_type, "
                "CASE WHEN t.typname IN ('geometry', 'geography') THEN postgis_typmod_srid(a.atttypmod) END, "
                "CASE WHEN t.typname IN ('geometry', 'geography') AND a.atttypmod > 0 "
                "AND postgis_typmod_dims(a.atttypmod) = 2 THEN upper(postgis_typmod_type(a.atttypmod)) END "
                "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace n ON n.oid = t.typnamespace "
                "JOIN information_schema.columns c ON c.table_schema = %s AND c.table_name = %s "
                "AND c.column_name = a.attname "
                "WHERE a.attrelid = to_regclass(format('%%I.%%I', %s::text, %s::text)) AND a.attnum > 0 AND NOT a.attisdropped "
                "ORDER BY a.attnum", (self.schema, self.table, self.schema, self.table)).fetchall()
            pk = [r[0] for r in self.conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(format('%%I.%%I', %s::text, %s::text)) "
                "AND i.indisprimary", (self.schema, self.table)).fetchall()]
            unique = frozenset(r[0] for r in self.conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = i.indkey[0] WHERE i.indrelid = to_regclass(format('%%I.%%I', %s::text, %s::text)) "
                "AND i.indisunique AND i.indnatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL",
                (self.schema, self.table)).fetchall())
            (kind,) = self.conn.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(format('%%I.%%I', "
                                        "%s::text, %s::text))", (self.schema, self.table)).fetchone() or (None,)
        except psycopg.Error as exc:
            raise self.failure(f"cannot read the columns of {self.schema}.{self.table}", exc) from None
        if not rows:
            raise SourceFailed(f"{self.label}: there is no table or view {self.schema}.{self.table} "
                               "(or the user may not read it)")
        geometries = [r for r in rows if r[2] in ("geometry", "geography")]
        if not geometries:
            raise SourceFailed(f"{self.label}: {self.schema}.{self.table} has no geometry column")
        if len(geometries) > 1:
            raise SourceFailed(f"{self.label}: {self.schema}.{self.table} has {len(geometries)} geometry columns "
                               f"({', '.join(r[0] for r in geometries)}); read a view that keeps one")
        geometry = geometries[0]
        columns = [Column(name, type_sql if builtin else "text", not builtin, data_type if builtin else "text")
                   for name, type_sql, _, builtin, data_type, _, _ in rows if name != geometry[0]]
        for clash in ("fid", "geom", HASH_COLUMN, KEY_COLUMN, VERSION_COLUMN):
            if clash in [c.name for c in columns]:
                raise SourceFailed(f"{self.label}: column {clash!r} is a name the SDI uses itself (feature id or "
                                   "geometry); read a view that renames it")
        srid = declared_srid or geometry[5] or 0
        if geometry[2] == "geography":
            srid = 4326
        if not srid:
            srid = self._srid_of_rows(geometry[0])
        declared = geometry[6] if geometry[6] in PLAIN_TYPES else "Geometry"
        return TableShape(columns, geometry[0], geometry[2] == "geography", srid, pk, unique,
                          versioned=kind in ("r", "p", "m"), geometry_type=declared)

    def versions(self, shape: TableShape) -> dict | None:
        """What makes this table's xmin values comparable with the last run's (None for a view): the cluster
        (pg_control_system's identifier, when this role may read it), the database and table oids, and the
        snapshot's 64-bit xmax. A new cluster, a re-created table or a transaction counter that went back or
        ran 2^31 ahead means the xmins read now may collide with the stored ones, and the run compares hashes.
        `xmin` (the oldest transaction still running at this snapshot) and `rows` (the table's row count) let the
        next run read only the rows written since (copy_recent)."""
        if not shape.versioned:
            return None
        try:
            database, table, xmax, xmin = self.conn.execute(
                "SELECT (SELECT oid FROM pg_database WHERE datname = current_database())::bigint, "
                "to_regclass(format('%%I.%%I', %s::text, %s::text))::oid::bigint, "
                "txid_snapshot_xmax(txid_current_snapshot()), txid_snapshot_xmin(txid_current_snapshot())",
                (self.schema, self.table)).fetchone()
            (rows,) = self.conn.execute(sql.SQL("SELECT count(*) FROM {}").format(self.qualified)).fetchone()
        except psycopg.Error as exc:
            raise self.failure("cannot read the transaction counter", exc) from None
        system = None
        try:
            with self.conn.transaction():  # a savepoint: an older server may not let this role read it
                (system,) = self.conn.execute("SELECT system_identifier::text FROM pg_control_system()").fetchone()
        except psycopg.Error:
            pass
        return {"system": system, "database": database, "table": table, "xmax": xmax, "xmin": xmin, "rows": rows}

    def _srid_of_rows(self, geometry: str) -> int:
        try:
            row = self.conn.execute(sql.SQL("SELECT ST_SRID({g}) FROM {t} WHERE {g} IS NOT NULL LIMIT 1").format(
                g=sql.Identifier(geometry), t=self.qualified)).fetchone()
        except psycopg.Error as exc:
            raise self.failure("cannot read the geometries' CRS", exc) from None
        return row[0] if row else 0

    # -- what is read ------------------------------------------------------------------------------------

    def _version(self, shape: TableShape) -> sql.Composable:
        return sql.SQL("xmin::text::bigint") if shape.versioned else sql.SQL("NULL::bigint")

    def _selected(self, shape: TableShape, key: str, srid: int) -> tuple[sql.Composable, sql.Composable]:
        """The SELECT list of staging rows (attributes, geometry, key text, row hash, xmin) and the key table's
        (key text, row hash, xmin)."""
        attributes = [sql.SQL("{}::text").format(sql.Identifier(c.name)) if c.cast_text else sql.Identifier(c.name)
                      for c in shape.columns]
        geometry = sql.Identifier(shape.geometry)
        if shape.geography:
            geometry = sql.SQL("{}::geometry").format(geometry)
        geometry = sql.SQL("ST_SetSRID({}, {})").format(geometry, sql.Literal(srid))
        raw = [sql.Identifier(c.name) for c in shape.columns] + [sql.Identifier(shape.geometry)]
        row_hash = sql.SQL("hashtextextended(ROW({})::text, 0)").format(sql.SQL(", ").join(raw))
        key_text = sql.SQL("{}::text").format(sql.Identifier(key))
        version = self._version(shape)
        return (sql.SQL(", ").join([*attributes, geometry, key_text, row_hash, version]),
                sql.SQL(", ").join([key_text, row_hash, version]))

    def create_staging(self, staging: str, shape: TableShape, srid: int) -> None:
        """The local staging table: fid, the source's attribute columns, geom, the key text, row hash and xmin.
        The geometry column takes the source column's own type when it declares one, so that the checks need not
        rewrite the table to settle it."""
        columns = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type_sql)) for c in shape.columns]
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE TABLE {t} (fid bigserial PRIMARY KEY, {cols}{comma}"
                                   "geom geometry({typ}, {srid}), {k} text, {h} bigint, {v} bigint)").format(
                t=table_ident(settings.SDI_STAGING_SCHEMA, staging), cols=sql.SQL(", ").join(columns),
                comma=sql.SQL(", ") if columns else sql.SQL(""), srid=sql.Literal(srid),
                typ=sql.SQL(shape.geometry_type), k=sql.Identifier(KEY_COLUMN), h=sql.Identifier(HASH_COLUMN),
                v=sql.Identifier(VERSION_COLUMN)))

    def _copy(self, select: sql.Composable, target: sql.Composable, params=None) -> int:
        """Binary COPY from the sector database into a local table; returns the bytes moved."""
        moved = 0
        connection.ensure_connection()
        local = connection.connection
        try:
            with self.conn.cursor() as remote_cursor, local.cursor() as local_cursor:
                with remote_cursor.copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(select), params) as out, \
                        local_cursor.copy(sql.SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(target)) as into:
                    pending = bytearray()  # one COPY message a row: gathered so the writes are few and large
                    for block in out:
                        pending += block
                        if len(pending) >= RELAY_BYTES:
                            into.write(pending)
                            moved += len(pending)
                            pending = bytearray()
                    if pending:
                        into.write(pending)
                        moved += len(pending)
        except psycopg.Error as exc:
            raise self.failure(f"reading {self.schema}.{self.table} failed", exc) from None
        return moved

    def copy_rows(self, staging: str, shape: TableShape, key: str, srid: int, keys: list[str] | None = None,
                  key_type: str = "text") -> int:
        """Rows into staging: all of them, or those whose key is in `keys` (in batches)."""
        everything, _ = self._selected(shape, key, srid)
        target = sql.SQL("{}({})").format(table_ident(settings.SDI_STAGING_SCHEMA, staging), sql.SQL(", ").join(
            [sql.Identifier(n) for n in shape.names()] + [sql.Identifier(n) for n in ("geom", KEY_COLUMN, HASH_COLUMN, VERSION_COLUMN)]))
        base = sql.SQL("SELECT {} FROM {}").format(everything, self.qualified)
        if keys is None:
            return self._copy(base, target)
        moved = 0
        match = sql.SQL(" WHERE {k} = ANY(%s::{typ}[])").format(k=sql.Identifier(key), typ=sql.SQL(key_type)) \
            if key_type != "text" else sql.SQL(" WHERE {k}::text = ANY(%s)").format(k=sql.Identifier(key))
        for start in range(0, len(keys), KEY_BATCH):
            moved += self._copy(base + match, target, (keys[start:start + KEY_BATCH],))
        return moved

    def copy_keys(self, into: str, shape: TableShape, key: str, srid: int) -> None:
        """Every row's key text, hash and xmin into a local (key, hash, version) table."""
        _, keys_and_hashes = self._selected(shape, key, srid)
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE UNLOGGED TABLE {} (key text, hash bigint, version bigint)").format(
                table_ident(settings.SDI_STAGING_SCHEMA, into)))
        self._copy(sql.SQL("SELECT {} FROM {}").format(keys_and_hashes, self.qualified),
                   table_ident(settings.SDI_STAGING_SCHEMA, into))

    def copy_versions(self, into: str, shape: TableShape, key: str) -> None:
        """Every row's key text and xmin (no hash: nothing is detoasted) into a local (key, version) table.

        They travel as arrays, one pair per VERSION_PAGES pages of the table: a million one-row COPY messages cost
        more in this process's relay than the database's work on either side."""
        chunks, target = f"{into}_chunks", table_ident(settings.SDI_STAGING_SCHEMA, into)
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE UNLOGGED TABLE {} (keys text[], versions bigint[])").format(
                table_ident(settings.SDI_STAGING_SCHEMA, chunks)))
        self._copy(sql.SQL("SELECT array_agg({k}::text), array_agg({v}) FROM {t} "
                           "GROUP BY (ctid::text::point)[0]::bigint / {n}").format(
            k=sql.Identifier(key), v=self._version(shape), t=self.qualified, n=sql.Literal(VERSION_PAGES)),
            table_ident(settings.SDI_STAGING_SCHEMA, chunks))
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE UNLOGGED TABLE {t} AS SELECT r.key, r.version FROM {c} c, "
                                   "unnest(c.keys, c.versions) AS r(key, version)").format(
                t=target, c=table_ident(settings.SDI_STAGING_SCHEMA, chunks)))
            cursor.execute(sql.SQL("DROP TABLE {}").format(table_ident(settings.SDI_STAGING_SCHEMA, chunks)))

    def copy_recent(self, into: str, shape: TableShape, key: str, since: int) -> int:
        """The key text and xmin of the rows written by a transaction that the snapshot of `since` (its 64-bit
        xmin) could not see: the only rows that can be new or changed since that run. Returns how many.

        `age(xmin) <= age(since)` compares both with the same current transaction, so the 32-bit wrap-around
        does not matter while `since` is less than 2^31 transactions old (harvest._recent_comparable); a frozen
        row's age is the largest there is, so it is never taken. One scan, no key of an untouched row sent."""
        target = table_ident(settings.SDI_STAGING_SCHEMA, into)
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE UNLOGGED TABLE {} (key text, version bigint)").format(target))
        self._copy(sql.SQL("SELECT {k}::text, {v} FROM {t} WHERE age(xmin) <= age(%s::text::xid)").format(
            k=sql.Identifier(key), v=self._version(shape), t=self.qualified), target, (str(since % 2 ** 32),))
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(target))
            return cursor.fetchone()[0]

    def key_type(self, shape: TableShape, key: str) -> str:
        """The key's own type when it can be matched as such (so the sector's index on it is used)."""
        column = next(c for c in shape.columns if c.name == key)
        return "text" if column.cast_text else column.type_sql
