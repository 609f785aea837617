"""Which CRSs the SDI offers: for declaring an upload's CRS, and as output CRSs of every collection."""
from layers.crs.identifiers import CRS84_URI, WGS84_SRID, epsg_uri
from layers.crs.vn2000 import CANTHO_DEFAULT_SRID, VN2000, VN2000_GEOGRAPHIC

# What the upload form lists (label per EPSG code).
OFFERED = {WGS84_SRID: "WGS 84 (lon/lat)", 3857: "Web Mercator", **VN2000}

# Output CRSs of every collection besides CRS84 and its own storage CRS: WGS 84, Web Mercator, VN-2000, its
# UTM zone 48N and Cần Thơ's TM-3 zone.
OUTPUT_SRIDS = (WGS84_SRID, 3857, VN2000_GEOGRAPHIC, 3405, CANTHO_DEFAULT_SRID)


def offered_uris(storage_srid: int) -> list[str]:
    """A collection's `crs` list: CRS84 first (the default), then OUTPUT_SRIDS and the storage CRS."""
    return [CRS84_URI, *dict.fromkeys(epsg_uri(srid) for srid in (*OUTPUT_SRIDS, storage_srid))]
