"""pygeoapi feature provider for PostGIS tables that lets PostGIS do the work.

A drop-in for pygeoapi's PostgreSQL provider definition (``data`` connection dict, ``table``, ``id_field``,
``geom_field``, ``storage_crs``), free of Django so it can be used and tested on its own. Differences that
matter: GeoJSON and CRS transformation are produced by PostGIS, connections come from a per-process pool,
the unfiltered count is taken from ``feature_count`` when the registry knows it, and every user value is a
bound parameter.

Extra optional keys: ``schema`` (default ``public``), ``fields`` (column -> JSON Schema, saves an
introspection query per request), ``feature_count`` (exact row count of the table).
"""
import logging
import os
import re
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from http import HTTPStatus

from psycopg import errors, sql
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout
from layers.cql2_sql import FilterError, translate
from layers.postgis import PG_TO_JSON_SCHEMA, transform_sql  # noqa: F401 (re-exported)
from pygeoapi.provider.base import (
    BaseProvider,
    ProviderConnectionError,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
    ProviderQueryError,
)

log = logging.getLogger(__name__)

# Filtered pages count their matches exactly only when the planner expects at most this many (else the count
# would cost more than the page); resulttype=hits always counts.
EXACT_COUNT_MAX_ROWS = int(os.environ.get("SDI_EXACT_COUNT_MAX_ROWS", "50000"))
CRS84_URIS = {"http://www.opengis.net/def/crs/OGC/1.3/CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84"}
EPSG_URI = re.compile(r"(?:/EPSG/\d+/|EPSG::?)(\d+)$")
# EPSG CRSs whose authority axis order is latitude first (the ones the SDI offers).
LAT_LON_FIRST = {4326, 4756}

_pools: dict[str, ConnectionPool] = {}


class DatabaseUnavailable(ProviderConnectionError):
    """The database cannot be reached: a 503, for clients to retry (pygeoapi answers with this status)."""

    http_status_code = HTTPStatus.SERVICE_UNAVAILABLE


class Where(NamedTuple):
    clause: sql.Composable  # "" or "WHERE …"
    params: list
    filtered: bool


@dataclass
class PageRequest:
    """What the web layer tells the provider about an /items request, and what the provider hands back.

    - keyset links: pygeoapi's own next links use offset=…, so every page costs the scan of all pages before it;
    - raw features: for a GeoJSON response the provider leaves `features` empty and puts PostGIS's JSON text in
      `features_json`, which the web layer splices into pygeoapi's response. Parsing that text into Python and
      serialising it again was ¾ of the time of a 1000-feature page.
    """

    url: str  # absolute URL of this /items request, query string included
    cursor: int | None  # the last id of the previous page (the `cursor` query parameter)
    raw_json: bool = False  # the caller can splice `features_json` into the response
    features_json: str | None = None  # set by the provider when raw_json

    def next_link(self, last_id) -> dict:
        parts = urlsplit(self.url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("offset", "cursor")]
        query.append(("cursor", str(last_id)))
        return {"rel": "next", "type": "application/geo+json", "title": "Items (next)",
                "href": urlunsplit(parts._replace(query=urlencode(query)))}


@dataclass(frozen=True)
class RequestedBox:
    """The bbox as the client sent it (x/y order, its CRS), so the provider can test the exact box.

    pygeoapi hands the provider only the bounds of the box transformed into the storage CRS, which is a larger,
    axis-aligned box once the CRSs differ (a lon/lat box is turned ~0.1° in VN-2000 TM-3)."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    srid: int

    @classmethod
    def from_query(cls, bbox: str | None, bbox_crs: str | None) -> "RequestedBox | None":
        """From the `bbox` and `bbox-crs` query values (EPSG:4326 and 4756 come latitude first); None when
        absent or malformed, for pygeoapi to answer with its 400."""
        crs = bbox_crs or "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
        try:
            numbers = [float(v) for v in (bbox or "").split(",")]
            srid = srid_of(crs)
        except (ValueError, ProviderInvalidQueryError):
            return None
        if len(numbers) == 6:
            numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
        if len(numbers) != 4:
            return None
        a, b, c, d = numbers
        if srid in LAT_LON_FIRST and crs not in CRS84_URIS:
            return cls(b, a, d, c, srid)
        return cls(a, b, c, d, srid)


current_requested_box: ContextVar[RequestedBox | None] = ContextVar("current_requested_box", default=None)

# Set per request by the web layer (sdi.ogcapi.views); unset, pygeoapi's offset links are used.
current_page_request: ContextVar[PageRequest | None] = ContextVar("current_page_request", default=None)
_pools_lock = threading.Lock()


def connection_pool(conninfo: str) -> ConnectionPool:
    """One small pool per database and process (gunicorn workers each build their own after fork)."""
    pool = _pools.get(conninfo)
    if pool is None:
        with _pools_lock:
            pool = _pools.get(conninfo)
            if pool is None:
                pool = ConnectionPool(
                    conninfo,
                    min_size=1,
                    max_size=int(os.environ.get("SDI_PROVIDER_POOL_SIZE", "4")),
                    kwargs={"autocommit": True},
                    # After a database restart every idle connection is dead: test each one as it is handed
                    # out (one round trip) and replace it, rather than fail the request that draws it.
                    check=ConnectionPool.check_connection,
                    timeout=10,  # seconds to wait for a connection (during an outage: then a 503)
                    name="sdi-provider",
                    open=True,
                )
                _pools[conninfo] = pool
    return pool


def close_pools() -> None:
    """Close every pooled connection (tests dropping their database; process shutdown)."""
    with _pools_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()


def conninfo_from(data: dict | str) -> str:
    if isinstance(data, str):
        return data
    keys = ("host", "port", "dbname", "user", "password")
    parts = [f"{key}='{str(data[key])}'" for key in keys if data.get(key) not in (None, "")]
    timeout_ms = int(os.environ.get("SDI_STATEMENT_TIMEOUT_MS", "30000"))
    # JIT compilation and parallel workers cost more to start (~0.4 s and ~25 ms) than they save on these
    # short queries; concurrent requests already keep the cores busy. psycopg prepares repeated statements,
    # and a generic plan cannot see the bbox values: always plan with the actual values.
    parts.append(f"options='-c statement_timeout={timeout_ms} -c jit=off -c max_parallel_workers_per_gather=0 "
                 f"-c plan_cache_mode=force_custom_plan'")
    return " ".join(parts)


def srid_of(crs_uri: str | None) -> int:
    """EPSG code of an OGC CRS URI; CRS84 is stored as SRID 4326 (lon/lat)."""
    if not crs_uri or crs_uri in CRS84_URIS:
        return 4326
    match = EPSG_URI.search(crs_uri)
    if not match:
        raise ProviderInvalidQueryError(user_msg=f"unsupported CRS {crs_uri}")
    return int(match.group(1))


class PostGISProvider(BaseProvider):
    """Features from one PostGIS table, with paging, bbox, property filters, sorting and CRS output."""

    def __init__(self, provider_def):
        super().__init__(provider_def)
        table = provider_def["table"]
        schema = provider_def.get("schema")
        if schema is None and "." in table:
            schema, table = table.split(".", 1)
        self.schema = schema or "public"
        self.table = table
        self.id_field = provider_def.get("id_field") or "fid"
        self.geom_field = provider_def.get("geom_field") or "geom"
        self.storage_srid = srid_of(provider_def.get("storage_crs"))
        self.feature_count = provider_def.get("feature_count")
        self.conninfo = conninfo_from(self.data)
        self._fields = provider_def.get("fields") or self.get_fields()
        self._item_queries: dict[tuple, str] = {}  # (output CRS, value_sql) -> item_sql's statement

    # -- pygeoapi interface ---------------------------------------------------------------------------

    def get_fields(self):
        rows = self._fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (self.schema, self.table),
        )
        if not rows:
            raise ProviderConnectionError(user_msg=f"table {self.schema}.{self.table} not found")
        return {
            name: PG_TO_JSON_SCHEMA.get(data_type, {"type": "string"})
            for name, data_type in rows
            if name not in (self.id_field, self.geom_field)
        }

    def query(self, offset=0, limit=10, resulttype="results", bbox=[], datetime_=None, properties=[],
              sortby=[], select_properties=[], skip_geometry=False, q=None, filterq=None,
              crs_transform_spec=None, **kwargs):
        where, params, filtered = self._where(bbox, datetime_, properties, filterq)
        paging = current_page_request.get() if not sortby else None
        cursor = paging.cursor if paging else None
        matched = self._number_matched(where, params, filtered, counting_needed=cursor is None,
                                       asked=resulttype == "hits")
        if resulttype == "hits":
            return {"type": "FeatureCollection", "features": [], "numberMatched": matched, "numberReturned": 0}

        page_where, page_params = where, params
        if cursor is not None:  # keyset: the page after the last id seen, as cheap at the end as at the start
            page_where = sql.SQL("{} {} t.{} > %s").format(
                where, sql.SQL("AND" if filtered else "WHERE"), sql.Identifier(self.id_field))
            page_params = [*params, cursor]
        feature = self._feature_sql(select_properties, skip_geometry, self._output_srid(crs_transform_spec))
        order = self._order_by(sortby)
        raw = bool(paging and paging.raw_json)
        # Pick the page's ids first (a deep OFFSET then skips index entries, not whole rows), then build JSON
        # for those rows only.
        query = sql.SQL(
            "SELECT coalesce(json_agg(f.feature), '[]'::json){cast}, count(*), max(f.id) FROM ("
            "SELECT {feature} AS feature, t.{id} AS id FROM {table} t JOIN "
            "(SELECT t.{id} AS page_id FROM {table} t {where} ORDER BY {order} LIMIT %s OFFSET %s) page "
            "ON t.{id} = page.page_id ORDER BY {order}) f"
        ).format(cast=sql.SQL("::text" if raw else ""), feature=feature, id=sql.Identifier(self.id_field),
                 table=self._table(), where=page_where, order=order)
        features, returned, last_id = self._fetch(query, [*page_params, limit, offset])[0]
        if raw:
            paging.features_json, features = features, []
        collection = {"type": "FeatureCollection", "features": features, "numberReturned": returned}
        if matched is not None:
            collection["numberMatched"] = matched
        if paging and returned == limit:  # pages are in id order here, so the last id is the largest
            collection["links"] = [paging.next_link(last_id)]
        return collection

    def get(self, identifier, crs_transform_spec=None, **kwargs):
        key = self._typed_identifier(identifier)
        feature, _ = self._fetch(self.item_sql(crs_transform_spec), (key,))[0]
        if feature is None:
            raise ProviderItemNotFoundError(user_msg=f"item {identifier} not found")
        return feature

    def item_sql(self, crs_transform_spec=None, value_sql: str = "NULL") -> str:
        """The statement of `get`, the integer id its one parameter. Its one row is (the feature as GeoJSON or
        NULL, the value of `value_sql`): a constant scalar SQL expression read in the same statement, so that a
        caller can check something without another round trip (sdi/ogcapi/item_fast_path.py reads the registry
        version so). Built once per output CRS."""
        output = self._output_srid(crs_transform_spec)
        query = self._item_queries.get((output, value_sql))
        if query is None:
            query = sql.SQL("SELECT (SELECT {feature} FROM {table} t WHERE t.{id} = %s LIMIT 1), {value}").format(
                feature=self._feature_sql([], False, output), table=self._table(), id=sql.Identifier(self.id_field),
                value=sql.SQL(value_sql)).as_string(None)
            if len(self._item_queries) > 16:  # a collection offers a few output CRSs
                self._item_queries.clear()
            self._item_queries[(output, value_sql)] = query
        return query

    def __repr__(self):
        return f"<PostGISProvider> {self.schema}.{self.table}"

    # -- SQL building ---------------------------------------------------------------------------------

    def _table(self):
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.table))

    def _where(self, bbox, datetime_, properties, filterq=None):
        clauses, params = [], []
        if filterq is not None:
            try:
                condition, values = translate(filterq, fields=self.fields, geometry_column=self.geom_field,
                                              storage_srid=self.storage_srid)
            except FilterError as exc:
                raise ProviderInvalidQueryError(user_msg=f"filter: {exc}") from None
            clauses.append(sql.SQL("({})").format(condition))
            params += values
        if bbox:
            minx, miny, maxx, maxy = bbox if len(bbox) == 4 else [bbox[0], bbox[1], bbox[3], bbox[4]]  # no heights
            boxes = [(minx, miny, maxx, maxy)]
            if minx > maxx:  # OGC API: a box that crosses the antimeridian (lon/lat storage only)
                boxes = [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
            clauses.append(sql.SQL("({})").format(sql.SQL(" OR ").join(
                sql.SQL("ST_Intersects(t.{g}, ST_MakeEnvelope(%s, %s, %s, %s, %s))").format(g=sql.Identifier(self.geom_field))
                for _ in boxes)))
            for box in boxes:
                params += [*box, self.storage_srid]
            exact = current_requested_box.get()
            if exact and exact.srid != self.storage_srid and exact.minx <= exact.maxx:
                # the bounds above use the index; this keeps only what touches the box the client drew
                envelope = sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, {srid})").format(srid=sql.Literal(exact.srid))
                params += [exact.minx, exact.miny, exact.maxx, exact.maxy]
                step = max(exact.maxx - exact.minx, exact.maxy - exact.miny) / 32  # ≤ 128 vertices
                if step > 0:  # ST_Segmentize refuses 0 (a box of zero width and height)
                    envelope = sql.SQL("ST_Segmentize({}, %s)").format(envelope)
                    params.append(step)
                clauses.append(sql.SQL("ST_Intersects(t.{g}, {box})").format(
                    g=sql.Identifier(self.geom_field), box=transform_sql(envelope, exact.srid, self.storage_srid)))
        for name, value in properties:
            clauses.append(sql.SQL("t.{} = %s").format(sql.Identifier(name)))
            params.append(self._typed_value(name, value))
        if datetime_ and self.time_field:
            clauses.append(self._datetime_clause(datetime_, params))
        if not clauses:
            return Where(sql.SQL(""), params, False)
        return Where(sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses), params, True)

    def _datetime_clause(self, datetime_, params):
        column = sql.SQL("t.{}").format(sql.Identifier(self.time_field))
        if "/" not in datetime_:
            params.append(datetime_)
            return sql.SQL("{} = %s::timestamptz").format(column)
        start, end = datetime_.split("/", 1)
        parts = []
        if start not in ("", ".."):
            parts.append(sql.SQL("{} >= %s::timestamptz").format(column))
            params.append(start)
        if end not in ("", ".."):
            parts.append(sql.SQL("{} <= %s::timestamptz").format(column))
            params.append(end)
        return sql.SQL(" AND ").join(parts) if parts else sql.SQL("TRUE")

    def _number_matched(self, where, params, filtered, counting_needed=True, asked=False):
        """numberMatched: exact whenever it is given. Unfiltered it is the registry's count; filtered it is
        counted when the client asks (resulttype=hits) or when the planner expects few rows, and left out
        when counting would mean scanning a large share of a big table for one page."""
        if not filtered and self.feature_count is not None:
            return int(self.feature_count)
        if not self.count or not (counting_needed or asked):
            return None
        if not asked and filtered and self._estimated_rows(where, params) > EXACT_COUNT_MAX_ROWS:
            return None
        query = sql.SQL("SELECT count(*) FROM {table} t {where}").format(table=self._table(), where=where)
        return self._fetch(query, params)[0][0]

    def _estimated_rows(self, where, params) -> float:
        query = sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} t {where}").format(table=self._table(), where=where)
        plan = self._fetch(query, params)[0][0]
        return plan[0]["Plan"]["Plan Rows"]

    def _order_by(self, sortby):
        keys = [
            sql.SQL("t.{} {}").format(sql.Identifier(s["property"]), sql.SQL("DESC" if s["order"] == "-" else "ASC"))
            for s in sortby
        ]
        keys.append(sql.SQL("t.{}").format(sql.Identifier(self.id_field)))
        return sql.SQL(", ").join(keys)

    def _output_srid(self, crs_transform_spec) -> tuple[int, bool]:
        """(SRID, latitude-first?) of the geometries to return; CRS84 lon/lat unless the client asked."""
        if crs_transform_spec is None:  # pygeoapi found the requested CRS equal to the storage CRS
            return self.storage_srid, False
        srid = srid_of(crs_transform_spec.target_crs_uri)
        lat_first = srid in LAT_LON_FIRST and crs_transform_spec.target_crs_uri not in CRS84_URIS
        return srid, lat_first

    def _feature_sql(self, select_properties, skip_geometry, output):
        srid, lat_first = output
        columns = [name for name in self.fields if not select_properties or name in select_properties]
        properties = sql.SQL("(SELECT row_to_json(p) FROM (SELECT {}) p)").format(
            sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in columns)
        ) if columns else sql.SQL("'{}'::json")
        if skip_geometry:
            geometry = sql.SQL("NULL::json")
        else:
            geom = transform_sql(sql.SQL("t.{}").format(sql.Identifier(self.geom_field)), self.storage_srid, srid)
            if lat_first:
                geom = sql.SQL("ST_FlipCoordinates({})").format(geom)
            digits = 8 if srid in (4326, 4756) else 3
            # options 0: no "crs" member in the geometry; the CRS is the response's (Content-Crs header)
            geometry = sql.SQL("ST_AsGeoJSON({}, {}, 0)::json").format(geom, sql.Literal(digits))
        return sql.SQL("json_build_object('type', 'Feature', 'id', t.{id}, 'geometry', {geometry}, 'properties', {properties})").format(
            id=sql.Identifier(self.id_field), geometry=geometry, properties=properties
        )

    # -- values and execution -------------------------------------------------------------------------

    def _typed_value(self, name, value):
        kind = self.fields.get(name, {}).get("type")
        try:
            if kind == "integer":
                return int(value)
            if kind == "number":
                return float(value)
            if kind == "boolean":
                return str(value).lower() in ("true", "1", "yes")
        except ValueError:
            raise ProviderInvalidQueryError(user_msg=f"{name}: {value!r} is not a valid {kind}") from None
        return str(value)

    def _typed_identifier(self, identifier):
        try:
            return int(identifier)
        except (TypeError, ValueError):
            raise ProviderItemNotFoundError(user_msg=f"item {identifier} not found") from None

    def _fetch(self, query, params=()):
        """Run a read; one lost connection is retried on another (every query here is a read, so a retry is
        safe), so that no request fails once the database is back."""
        try:
            try:
                return self._fetch_once(query, params)
            except errors.OperationalError as exc:
                if isinstance(exc, (errors.QueryCanceled, PoolTimeout)):  # no connection lost: a retry won't help
                    raise
                log.warning("database connection lost (%s); retrying once", (str(exc).strip() or "?").splitlines()[0])
                return self._fetch_once(query, params)
        except errors.QueryCanceled:
            raise ProviderQueryError(user_msg="query took too long and was cancelled") from None
        except errors.DataError as exc:
            raise ProviderInvalidQueryError(user_msg=str(exc).splitlines()[0]) from None
        except errors.OperationalError as exc:
            log.error("database unavailable: %s", exc)
            raise DatabaseUnavailable(user_msg="database unavailable, try again shortly") from None

    def _fetch_once(self, query, params):
        with connection_pool(self.conninfo).connection() as conn:
            with conn.cursor(row_factory=tuple_row) as cursor:
                cursor.execute(query, params)
                return cursor.fetchall()
