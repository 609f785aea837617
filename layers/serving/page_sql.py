"""The SQL of one /items page: WHERE (bbox, properties, datetime, CQL2), ORDER BY, and each feature's GeoJSON
built by PostGIS. Every user value is a bound parameter; only configured column names become identifiers."""
from dataclasses import dataclass
from typing import NamedTuple

from psycopg import sql
from pygeoapi.provider.base import ProviderInvalidQueryError

from layers.serving.cql2 import FilterError, translate
from layers.crs import box_sql, transform_sql
from layers.serving.hints import RequestedBox


@dataclass(frozen=True)
class Table:
    """The published table a provider serves."""

    schema: str
    name: str
    id_field: str
    geom_field: str
    storage_srid: int
    fields: dict  # column -> JSON Schema, without the id and geometry columns
    time_field: str | None = None

    def qualified(self) -> sql.Composable:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.name))

    def column(self, name: str) -> sql.Composable:
        return sql.SQL("t.{}").format(sql.Identifier(name))


class Where(NamedTuple):
    clause: sql.Composable  # "" or "WHERE …"
    params: list
    filtered: bool


def where(table: Table, bbox, datetime_, properties, filterq=None, box: RequestedBox | None = None) -> Where:
    clauses, params = [], []
    if filterq is not None:
        try:
            condition, values = translate(filterq, fields=table.fields, geometry_column=table.geom_field,
                                          storage_srid=table.storage_srid)
        except FilterError as exc:
            raise ProviderInvalidQueryError(user_msg=f"filter: {exc}") from None
        clauses.append(sql.SQL("({})").format(condition))
        params += values
    if bbox:
        clauses += _bbox_clauses(table, bbox, box, params)
    for name, value in properties:
        clauses.append(sql.SQL("{} = %s").format(table.column(name)))
        params.append(typed_value(table, name, value))
    if datetime_ and table.time_field:
        clauses.append(_datetime_clause(table, datetime_, params))
    if not clauses:
        return Where(sql.SQL(""), params, False)
    return Where(sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses), params, True)


def after_cursor(table: Table, condition: Where, cursor: int) -> Where:
    """Keyset: the rows after the last id seen, as cheap at the end of a table as at its start."""
    clause = sql.SQL("{} {} {} > %s").format(condition.clause, sql.SQL("AND" if condition.filtered else "WHERE"),
                                             table.column(table.id_field))
    return Where(clause, [*condition.params, cursor], True)


def _bbox_clauses(table: Table, bbox, exact: RequestedBox | None, params: list) -> list:
    minx, miny, maxx, maxy = bbox if len(bbox) == 4 else [bbox[0], bbox[1], bbox[3], bbox[4]]  # no heights
    boxes = [(minx, miny, maxx, maxy)]
    if minx > maxx:  # OGC API: a box that crosses the antimeridian (lon/lat storage only)
        boxes = [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
    geom = table.column(table.geom_field)
    clauses = [sql.SQL("({})").format(sql.SQL(" OR ").join(
        sql.SQL("ST_Intersects({g}, ST_MakeEnvelope(%s, %s, %s, %s, %s))").format(g=geom) for _ in boxes))]
    for corners in boxes:
        params += [*corners, table.storage_srid]
    if exact and exact.srid != table.storage_srid and exact.minx <= exact.maxx:
        # the bounds above use the index; this keeps only what touches the box the client drew
        box, box_params = box_sql(exact.minx, exact.miny, exact.maxx, exact.maxy, exact.srid, table.storage_srid)
        clauses.append(sql.SQL("ST_Intersects({}, {})").format(geom, box))
        params += box_params
    return clauses


def _datetime_clause(table: Table, datetime_: str, params: list) -> sql.Composable:
    column = table.column(table.time_field)
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


def order_by(table: Table, sortby) -> sql.Composable:
    keys = [sql.SQL("{} {}").format(table.column(s["property"]), sql.SQL("DESC" if s["order"] == "-" else "ASC"))
            for s in sortby]
    keys.append(table.column(table.id_field))
    return sql.SQL(", ").join(keys)


def feature_sql(table: Table, select_properties, skip_geometry: bool, output: tuple[int, bool]) -> sql.Composable:
    """One feature as JSON; output is (SRID, latitude first?) of the geometry to return."""
    srid, lat_first = output
    columns = [name for name in table.fields if not select_properties or name in select_properties]
    properties = sql.SQL("(SELECT row_to_json(p) FROM (SELECT {}) p)").format(
        sql.SQL(", ").join(table.column(c) for c in columns)
    ) if columns else sql.SQL("'{}'::json")
    if skip_geometry:
        geometry = sql.SQL("NULL::json")
    else:
        geom = transform_sql(table.column(table.geom_field), table.storage_srid, srid)
        if lat_first:
            geom = sql.SQL("ST_FlipCoordinates({})").format(geom)
        digits = 8 if srid in (4326, 4756) else 3
        # options 0: no "crs" member in the geometry; the CRS is the response's (Content-Crs header)
        geometry = sql.SQL("ST_AsGeoJSON({}, {}, 0)::json").format(geom, sql.Literal(digits))
    return sql.SQL("json_build_object('type', 'Feature', 'id', {id}, 'geometry', {geometry}, 'properties', {properties})"
                   ).format(id=table.column(table.id_field), geometry=geometry, properties=properties)


def page_query(table: Table, condition: Where, order: sql.Composable, feature: sql.Composable, limit: int,
               offset: int, as_text: bool) -> tuple[sql.Composable, list]:
    """One row: (features JSON, rows on the page, largest id on the page, whether more rows follow).

    The page's ids are picked first on bare rows (a deep OFFSET then skips index entries, not whole rows), one
    more than the page holds: that row says whether the result goes on, so the last page has no next link
    without a count. JSON is built for the page's rows only."""
    query = sql.SQL(
        "SELECT coalesce(json_agg(f.feature ORDER BY f.n) FILTER (WHERE f.n <= %s), '[]'::json){cast}, "
        "count(*) FILTER (WHERE f.n <= %s), max(f.id) FILTER (WHERE f.n <= %s), count(*) > %s FROM ("
        "SELECT CASE WHEN page.n <= %s THEN {feature} END AS feature, t.{id} AS id, page.n FROM {table} t JOIN "
        "(SELECT ids.page_id, row_number() OVER () AS n FROM "
        "(SELECT t.{id} AS page_id FROM {table} t {where} ORDER BY {order} LIMIT %s OFFSET %s) ids) page "
        "ON t.{id} = page.page_id) f"
    ).format(cast=sql.SQL("::text" if as_text else ""), feature=feature, id=sql.Identifier(table.id_field),
             table=table.qualified(), where=condition.clause, order=order)
    return query, [limit, limit, limit, limit, limit, *condition.params, limit + 1, offset]


def typed_value(table: Table, name: str, value):
    kind = table.fields.get(name, {}).get("type")
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
