"""Small PostGIS SQL helpers shared by the loader and the provider, free of Django and pygeoapi (both heavy to
import: the command line loader should not pay for them)."""
from psycopg import sql

from layers.vn2000 import VN2000, pinned_srid

PG_TO_JSON_SCHEMA = {
    "smallint": {"type": "integer"}, "integer": {"type": "integer"}, "bigint": {"type": "integer"},
    "numeric": {"type": "number"}, "real": {"type": "number"}, "double precision": {"type": "number"},
    "boolean": {"type": "boolean"}, "date": {"type": "string", "format": "date"},
    "timestamp without time zone": {"type": "string", "format": "date-time"},
    "timestamp with time zone": {"type": "string", "format": "date-time"},
}


def transform_sql(geometry: sql.Composable, from_srid: int, to_srid: int) -> sql.Composable:
    """PostGIS reprojection; to or from VN-2000 it goes through the pinned SRIDs (layers.vn2000), so the
    official EPSG:6960 datum shift applies (left to choose, PROJ takes EPSG:5194 at Cần Thơ, 0.8 m off)."""
    if from_srid == to_srid:
        return geometry
    if from_srid in VN2000:
        geometry = sql.SQL("ST_SetSRID({}, {})").format(geometry, sql.Literal(pinned_srid(from_srid)))
    transformed = sql.SQL("ST_Transform({}, {})").format(geometry, sql.Literal(pinned_srid(to_srid)))
    if to_srid in VN2000:
        transformed = sql.SQL("ST_SetSRID({}, {})").format(transformed, sql.Literal(to_srid))
    return transformed
