"""The one CRS check that needs the database: is the code in PostGIS's spatial_ref_sys (can PostGIS transform it)?

Parsing and everything else about CRSs is layers.crs, which stays free of Django.
"""
from django.db import connection

from layers.crs import UnknownCRS
from layers.loading import ImportRefused


class CRSNotInDatabase(UnknownCRS, ImportRefused):
    """An EPSG code PostGIS cannot transform: a bad request before loading, a refused import while loading."""


def ensure_known(srid: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = %s", (srid,))
        if cursor.fetchone() is None:
            raise CRSNotInDatabase(f"unknown CRS EPSG:{srid}")
    return srid
