"""Small PostGIS helpers shared by the loader and the provider, free of Django and pygeoapi (both heavy to
import: the command line loader should not pay for them). Reprojection SQL is layers.crs.sql."""

PG_TO_JSON_SCHEMA = {
    "smallint": {"type": "integer"}, "integer": {"type": "integer"}, "bigint": {"type": "integer"},
    "numeric": {"type": "number"}, "real": {"type": "number"}, "double precision": {"type": "number"},
    "boolean": {"type": "boolean"}, "date": {"type": "string", "format": "date"},
    "timestamp without time zone": {"type": "string", "format": "date-time"},
    "timestamp with time zone": {"type": "string", "format": "date-time"},
}
