"""Coordinate reference systems the SDI knows, and VN-2000 → WGS 84 pinned to the official EPSG:6960.

Left to itself at Cần Thơ, PROJ picks EPSG:5194 (an offshore Mekong-delta transformation), 0.8 m away from
the official VN-2000 → WGS 84 parameters (EPSG:6960, Decision 05/2007/QĐ-BTNMT). PostGIS prefers the EPSG
code and lets PROJ choose, so we transform through our own SRIDs 900000+X whose proj4text holds the 6960
+towgs84 (layers.vn2000, migration 0004).
"""
from django.db import connection
from psycopg import sql

from layers.loading import ImportRefused
from layers.postgis import transform_sql

from layers.vn2000 import CANTHO_DEFAULT_SRID, VN2000, VN2000_GEOGRAPHIC, VN2000_TM3, VN2000_UTM  # noqa: F401

OFFERED = {4326: "WGS 84 (lon/lat)", 3857: "Web Mercator", **VN2000}


class UnknownCRS(ImportRefused):
    """A CRS code the database cannot transform."""


def parse_crs(value: str | int) -> int:
    """'EPSG:5897', '5897', 5897 or an OGC CRS URI → 5897."""
    text = str(value).strip()
    for prefix in ("http://www.opengis.net/def/crs/EPSG/0/", "urn:ogc:def:crs:EPSG::", "EPSG:", "epsg:"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if text in ("CRS84", "http://www.opengis.net/def/crs/OGC/1.3/CRS84"):
        return 4326
    if not text.isdigit():
        raise UnknownCRS(f"CRS {value!r} is not an EPSG code (write it as EPSG:5897)")
    return int(text)


def ensure_known(srid: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = %s", (srid,))
        if cursor.fetchone() is None:
            raise UnknownCRS(f"unknown CRS EPSG:{srid}")
    return srid


def to_wgs84(geometry: sql.Composable, srid: int) -> sql.Composable:
    """SQL for `geometry` (in `srid`) in EPSG:4326, with the VN-2000 datum shift pinned to EPSG:6960."""
    return transform_sql(geometry, srid, 4326)


def from_wgs84(geometry: sql.Composable, srid: int) -> sql.Composable:
    """SQL for an EPSG:4326 `geometry` in `srid` (the inverse of `to_wgs84`, pinned the same way)."""
    return transform_sql(geometry, 4326, srid)
