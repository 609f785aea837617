"""Coordinate reference systems, in one place: how CRSs are named and parsed (CRS84, EPSG codes, OGC URIs and
URNs), their axis order, the CRSs the SDI offers, the VN-2000 pins to the official EPSG:6960 datum shift, and
the SQL that reprojects in PostGIS.

Free of Django on purpose: the pygeoapi provider and the CQL2 translator use it without Django. The one check
that needs the database (is a code in spatial_ref_sys?) is layers.loading.known_crs.
"""
from layers.crs.identifiers import (  # noqa: F401
    CRS, CRS84_URI, WGS84_SRID, UnknownCRS, epsg_uri, latitude_first, parse, parse_crs, storage_crs_uri,
)
from layers.crs.offered import OFFERED, OUTPUT_SRIDS, offered_uris  # noqa: F401
from layers.crs.sql import box_sql, from_wgs84, to_wgs84, transform_sql  # noqa: F401
from layers.crs.vn2000 import (  # noqa: F401
    CANTHO_DEFAULT_SRID, OFFICIAL_OPERATION, PINNED_SRID_OFFSET, VN2000, VN2000_GEOGRAPHIC, VN2000_TM3, VN2000_UTM,
    pinned_srid,
)
