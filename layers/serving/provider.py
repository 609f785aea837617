"""pygeoapi feature provider for PostGIS tables that lets PostGIS do the work.

A drop-in for pygeoapi's PostgreSQL provider definition (``data`` connection dict, ``table``, ``id_field``,
``geom_field``, ``storage_crs``). Differences that matter: GeoJSON and CRS transformation are produced by
PostGIS, connections come from a per-process pool, the unfiltered count is taken from ``feature_count`` when the
registry knows it, and every user value is a bound parameter.

Extra optional keys: ``schema`` (default ``public``), ``fields`` (column -> JSON Schema, saves an
introspection query per request), ``feature_count`` (exact row count of the table), ``serving`` (ServingOptions).
What the web layer knows about the request beyond query()'s arguments arrives as a PageHint (hints.py).
"""
from psycopg import sql
from pygeoapi.provider.base import BaseProvider, ProviderConnectionError, ProviderItemNotFoundError

from layers.postgis import PG_TO_JSON_SCHEMA
from layers.serving import counting, page_sql
from layers.serving.crs_uris import crs_of
from layers.serving.database import conninfo_from, connection_pool, fetch
from layers.serving.hints import PageEnd, current_page_hint
from layers.serving.options import ServingOptions


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
        self.storage_srid = crs_of(provider_def.get("storage_crs")).srid
        self.feature_count = provider_def.get("feature_count")
        self.serving = ServingOptions.from_definition(provider_def.get("serving"))
        self.pool = connection_pool(conninfo_from(self.data, self.serving), self.serving.pool_size)
        self._fields = provider_def.get("fields") or self.get_fields()
        self._item_queries: dict[tuple, str] = {}  # (output CRS, value_sql) -> item_sql's statement
        self.table_ref = page_sql.Table(self.schema, self.table, self.id_field, self.geom_field, self.storage_srid,
                                        self._fields, self.time_field)

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
        table = self.table_ref
        hint = current_page_hint.get()
        condition = page_sql.where(table, bbox, datetime_, properties, filterq, hint.box if hint else None)
        cursor = hint.cursor if hint and not sortby else None  # keyset pages are in id order only
        matched = counting.number_matched(
            self._fetch, table, condition, registry_count=self.feature_count, can_count=self.count,
            needed=cursor is None, asked=resulttype == "hits", max_rows=self.serving.exact_count_max_rows)
        if resulttype == "hits":
            return {"type": "FeatureCollection", "features": [], "numberMatched": matched, "numberReturned": 0}

        page_condition = page_sql.after_cursor(table, condition, cursor) if cursor is not None else condition
        raw = bool(hint and hint.raw_json)
        query, params = page_sql.page_query(
            table, page_condition, page_sql.order_by(table, sortby),
            page_sql.feature_sql(table, select_properties, skip_geometry, self._output_srid(crs_transform_spec)),
            limit, offset, as_text=raw)
        features, returned, last_id, more = self._fetch(query, params, text_as_bytes=raw)[0]
        if raw:
            hint.outcome.features_json, features = features, []
        collection = {"type": "FeatureCollection", "features": features, "numberReturned": returned}
        if matched is not None:
            collection["numberMatched"] = matched
        if hint and hint.links:
            keyset = not sortby and (hint.keyset_links or cursor is not None)
            collection["links"] = hint.links(PageEnd(offset, limit, more, last_id, keyset))
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
            table = self.table_ref
            query = sql.SQL("SELECT (SELECT {feature} FROM {table} t WHERE t.{id} = %s LIMIT 1), {value}").format(
                feature=page_sql.feature_sql(table, [], False, output), table=table.qualified(),
                id=sql.Identifier(self.id_field), value=sql.SQL(value_sql)).as_string(None)
            if len(self._item_queries) > 16:  # a collection offers a few output CRSs
                self._item_queries.clear()
            self._item_queries[(output, value_sql)] = query
        return query

    def __repr__(self):
        return f"<PostGISProvider> {self.schema}.{self.table}"

    # -- helpers --------------------------------------------------------------------------------------

    def _output_srid(self, crs_transform_spec) -> tuple[int, bool]:
        """(SRID, latitude-first?) of the geometries to return; CRS84 lon/lat unless the client asked."""
        if crs_transform_spec is None:  # pygeoapi found the requested CRS equal to the storage CRS
            return self.storage_srid, False
        target = crs_of(crs_transform_spec.target_crs_uri)
        return target.srid, target.lat_first

    def _typed_identifier(self, identifier):
        try:
            return int(identifier)
        except (TypeError, ValueError):
            raise ProviderItemNotFoundError(user_msg=f"item {identifier} not found") from None

    def _fetch(self, query, params=(), text_as_bytes=False):
        return fetch(self.pool, query, params, text_as_bytes)
