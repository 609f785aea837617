"""The one SQL statement of a summary: features split among the units they intersect, aggregated per unit.

Measured in VN-2000 / TM-3 zone 482 (EPSG:5897, Cần Thơ's own metric CRS) through `layers.crs.sql`, so the
datum shift is the pinned EPSG:6960 one. Units are transformed once into the dataset's storage CRS for the
index test (`&&` on the dataset's GiST index) and once into the metric CRS; a dataset already stored in 5897 —
the land registers — is read as it is.

A feature wholly inside a unit (`ST_Covers`, on PostGIS's prepared unit geometry) is measured whole: only the
features that cross a boundary pay for `ST_Intersection`. Each feature is counted once, in the unit that holds
its `ST_PointOnSurface` (a point on a shared boundary goes to the unit with the lowest code); sums are
apportioned by the share of the feature's area or length that lies in the unit, and means weighted by it.
"""
from psycopg import sql

from layers.crs.sql import transform_sql

MEASURE_SRID = 5897  # VN-2000 / TM-3 zone 482: metres at Cần Thơ, Hậu Giang and Sóc Trăng
SIZE_FUNCTIONS = {"polygon": "ST_Area", "line": "ST_Length"}


def geometry_kind(geometry_type: str) -> str:
    """polygon, line or point — how a feature's size is measured ("mixed" for a table of several kinds)."""
    for kind, word in (("polygon", "Polygon"), ("line", "LineString"), ("point", "Point")):
        if word in geometry_type:
            return kind
    return "mixed"


def summary_sql(*, table: sql.Composable, geom: str, srid: int, kind: str, attribute: str | None,
                category: str | None, units_table: sql.Composable, units_geom: str, units_srid: int,
                code_field: str, name_field: str, shortcut: bool = True) -> sql.Composed:
    """Rows of (unit_code, unit_name, category, count, measure, apportioned, weighted, weight); a unit with
    nothing in it has one row with NULL figures. `shortcut=False` is the plain intersection query (every
    feature through ST_Intersection), the benchmark's bare SQL."""
    unit_geom = sql.SQL("u.{}").format(sql.Identifier(units_geom))
    feature = transform_sql(sql.SQL("d.{}").format(sql.Identifier(geom)), srid, MEASURE_SRID)
    boundary_count = sql.SQL(
        "CASE WHEN ST_Contains(un.g_m, {pos}) THEN 1"
        " WHEN ST_Intersects(un.g_m, {pos}) AND NOT EXISTS (SELECT 1 FROM units u2"
        " WHERE u2.unit_code < un.unit_code AND ST_Intersects(u2.g_m, {pos})) THEN 1 ELSE 0 END")
    if kind == "point":
        inside = sql.SQL("false")
        counted = boundary_count.format(pos=sql.SQL("p.g"))
        part = sql.SQL("NULL::float8")  # a point's share is its count
        full = sql.SQL("1.0::float8")
    else:
        size = sql.SQL(SIZE_FUNCTIONS[kind])
        inside = sql.SQL("ST_Covers(un.g_m, x.g)") if shortcut else sql.SQL("false")
        counted = sql.SQL("CASE WHEN p.inside THEN 1 ELSE {} END").format(
            boundary_count.format(pos=sql.SQL("ST_PointOnSurface(p.g)")))
        full = sql.SQL("{}(p.g)").format(size)
        part = sql.SQL("CASE WHEN p.inside THEN {size}(p.g) ELSE {size}(ST_Intersection(un.g_m, p.g)) END").format(
            size=size)
    return sql.SQL("""
WITH units AS MATERIALIZED (
    SELECT u.{code}::text AS unit_code, min(u.{name}::text) AS unit_name,
           ST_Union({unit_s}) AS g_s, ST_Union({unit_m}) AS g_m
    FROM {units_table} u WHERE u.{units_geom} IS NOT NULL AND u.{code} IS NOT NULL
    GROUP BY u.{code}::text
), pieces AS (
    SELECT un.unit_code, {category} AS category, {attribute} AS attr, s.counted, s.full_size, s.part
    FROM units un
    JOIN {table} d ON d.{geom} && un.g_s
    CROSS JOIN LATERAL (SELECT x.g, {inside} AS inside FROM (SELECT {feature} AS g) x OFFSET 0) p
    CROSS JOIN LATERAL (SELECT q.counted, q.full_size, {share} AS part FROM (
        SELECT {counted} AS counted, {full} AS full_size, {part} AS part OFFSET 0) q) s
    WHERE p.inside OR ST_Intersects(un.g_m, p.g)
), totals AS (
    SELECT unit_code, category,
           sum(counted)::bigint AS count,
           sum(part) AS measure,
           sum(attr * part / NULLIF(full_size, 0)) AS apportioned,
           sum(attr * part) AS weighted,
           sum(part) FILTER (WHERE attr IS NOT NULL) AS weight
    FROM pieces GROUP BY unit_code, category
)
SELECT un.unit_code, un.unit_name, t.category, t.count, t.measure, t.apportioned, t.weighted, t.weight
FROM units un LEFT JOIN totals t USING (unit_code)
""").format(
        code=sql.Identifier(code_field), name=sql.Identifier(name_field),
        unit_s=transform_sql(unit_geom, units_srid, srid), unit_m=transform_sql(unit_geom, units_srid, MEASURE_SRID),
        units_table=units_table, units_geom=sql.Identifier(units_geom),
        category=sql.SQL("d.{}::text").format(sql.Identifier(category)) if category else sql.SQL("NULL::text"),
        attribute=sql.SQL("d.{}::float8").format(sql.Identifier(attribute)) if attribute else sql.SQL("NULL::float8"),
        counted=counted, full=full, part=part, table=table, geom=sql.Identifier(geom), inside=inside,
        feature=feature, share=sql.SQL("q.counted::float8") if kind == "point" else sql.SQL("q.part"),
    )
