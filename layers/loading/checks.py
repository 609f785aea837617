"""Checks and measurements run on a staging table before it may replace anything that is published."""
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction
from psycopg import sql

from layers.loading import ImportRefused

# Generous box around Vietnam (incl. its islands): data outside it was declared in the wrong CRS.
VIETNAM_LON = (100.0, 118.0)
VIETNAM_LAT = (6.0, 24.5)

PG_TO_JSON_SCHEMA = {
    "smallint": {"type": "integer"},
    "integer": {"type": "integer"},
    "bigint": {"type": "integer"},
    "numeric": {"type": "number"},
    "real": {"type": "number"},
    "double precision": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "timestamp without time zone": {"type": "string", "format": "date-time"},
    "timestamp with time zone": {"type": "string", "format": "date-time"},
}


@dataclass(frozen=True)
class TableFacts:
    feature_count: int
    geometry_type: str
    extent_wgs84: tuple[float, float, float, float]
    attribute_schema: list[dict]


def table_ident(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def _scalar(query, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()


def normalise_text_to_nfc(schema: str, table: str, columns: list[dict]) -> None:
    """Vietnamese text is stored as NFC so that equality filters match whatever form the source used."""
    text_columns = [column["name"] for column in columns if column == {"name": column["name"], "type": "string"}]
    if not text_columns:
        return
    assignments = sql.SQL(", ").join(
        sql.SQL("{c} = normalize({c}, NFC)").format(c=sql.Identifier(c)) for c in text_columns
    )
    needs = sql.SQL(" OR ").join(
        sql.SQL("{c} IS NOT NFC NORMALIZED").format(c=sql.Identifier(c)) for c in text_columns
    )
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("UPDATE {t} SET {a} WHERE {w}").format(t=table_ident(schema, table), a=assignments, w=needs))


def attribute_schema(schema: str, table: str, skip: tuple[str, ...]) -> list[dict]:
    """Columns in source order, each as {"name": ..., "type": ...[, "format": ...]} (JSON Schema types)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, table),
        )
        return [
            {"name": name, **PG_TO_JSON_SCHEMA.get(data_type, {"type": "string"})}
            for name, data_type in cursor.fetchall()
            if name not in skip
        ]


def check_and_measure(schema: str, table: str, srid: int, label: str) -> TableFacts:
    """Refuse empty, geometry-less or out-of-Vietnam data; measure what the registry records."""
    t = table_ident(schema, table)
    count, with_geom, empty = _scalar(
        sql.SQL("SELECT count(*), count(geom), count(*) FILTER (WHERE ST_IsEmpty(geom)) FROM {}").format(t)
    )
    if count == 0:
        raise ImportRefused(f"{label}: contains 0 features")
    if with_geom == 0:
        raise ImportRefused(f"{label}: no feature has a geometry (coordinate columns empty or not numbers?)")
    (geometry_type,) = _scalar(
        "SELECT type FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s", (schema, table)
    )
    try:
        with transaction.atomic():
            bounds = _scalar(
                sql.SQL(
                    "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
                    "(SELECT ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, %s), 4326) AS b FROM {}) e"
                ).format(t),
                (srid,),
            )
    except DatabaseError as exc:
        raise ImportRefused(f"{label}: coordinates cannot be transformed from EPSG:{srid} ({exc}); is the CRS right?") from None
    minx, miny, maxx, maxy = bounds
    if not (VIETNAM_LON[0] <= minx and maxx <= VIETNAM_LON[1] and VIETNAM_LAT[0] <= miny and maxy <= VIETNAM_LAT[1]):
        raise ImportRefused(
            f"{label}: in EPSG:{srid} its extent is lon {minx:.4f}..{maxx:.4f}, lat {miny:.4f}..{maxy:.4f}, "
            "which is not in or near Vietnam: wrong CRS, or swapped x/y columns?"
        )
    columns = attribute_schema(schema, table, skip=("fid", "geom"))
    normalise_text_to_nfc(schema, table, columns)
    return TableFacts(
        feature_count=count,
        geometry_type=_geometry_name(geometry_type),
        extent_wgs84=(minx, miny, maxx, maxy),
        attribute_schema=columns,
    )


def _geometry_name(postgis_type: str) -> str:
    names = {n.upper(): n for n in ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon")}
    return names.get(postgis_type.upper(), "Geometry")
