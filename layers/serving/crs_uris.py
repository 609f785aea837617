"""Output CRS URIs → SRID and axis order, for the provider and the web layer's bbox hint."""
import re

from pygeoapi.provider.base import ProviderInvalidQueryError

CRS84_URIS = {"http://www.opengis.net/def/crs/OGC/1.3/CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84"}
EPSG_URI = re.compile(r"(?:/EPSG/\d+/|EPSG::?)(\d+)$")
# EPSG CRSs whose authority axis order is latitude first (the ones the SDI offers).
LAT_LON_FIRST = {4326, 4756}


def srid_of(crs_uri: str | None) -> int:
    """EPSG code of an OGC CRS URI; CRS84 is stored as SRID 4326 (lon/lat)."""
    if not crs_uri or crs_uri in CRS84_URIS:
        return 4326
    match = EPSG_URI.search(crs_uri)
    if not match:
        raise ProviderInvalidQueryError(user_msg=f"unsupported CRS {crs_uri}")
    return int(match.group(1))
