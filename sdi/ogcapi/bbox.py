"""bbox / bbox-crs into the storage CRS: correctly, and without building a PROJ transformer per request.

pygeoapi 0.24's `transform_bbox` builds a new pyproj Transformer on every request (~45 ms, most of a bbox
query), lets PROJ pick the VN-2000 datum shift (EPSG:5194 at Cần Thơ, 0.8 m from the official EPSG:6960),
and transforms only the two corners, which clips the box once it is rotated into a projected CRS. We
install this function in its place (sdi.ogcapi.views): cached transformers, EPSG:6960 for VN-2000, and the
bounds of the densified box edges.
"""
from functools import lru_cache

import pyproj
from pyproj.transformer import TransformerGroup
from pygeoapi.crs import get_crs

from layers.vn2000 import VN2000

OFFICIAL_VN2000 = "VN-2000 to WGS 84 (2)"  # EPSG:6960's name in the EPSG registry


@lru_cache(maxsize=64)
def transformer(from_crs: str, to_crs: str) -> pyproj.Transformer:
    """Authority axis order in and out (EPSG:4326 bbox-crs is lat,lon); EPSG:6960 whenever VN-2000 is involved."""
    source, target = get_crs(from_crs), get_crs(to_crs)
    if {source.to_epsg(), target.to_epsg()} & set(VN2000):
        for candidate in TransformerGroup(source, target).transformers:
            if OFFICIAL_VN2000 in candidate.description or ("VN-2000" not in candidate.description
                                                             and "WGS 84" not in candidate.description):
                return candidate
    return pyproj.Transformer.from_crs(source, target)


def transform_bbox(bbox: list, from_crs, to_crs, always_xy=False) -> list:
    """Same contract as pygeoapi.crs.transform_bbox (4 or 6 numbers, in `from_crs` axis order)."""
    two_d = len(bbox) == 4
    low, high = (bbox[:2], bbox[2:]) if two_d else (bbox[:2], bbox[3:5])
    minx, miny, maxx, maxy = transformer(str(from_crs), str(to_crs)).transform_bounds(
        low[0], low[1], high[0], high[1], densify_pts=21)
    if two_d:
        return [minx, miny, maxx, maxy]
    return [minx, miny, bbox[2], maxx, maxy, bbox[5]]


@lru_cache(maxsize=64)
def area_of_use(srid: int) -> tuple[float, float, float, float] | None:
    """Where a CRS is defined, as x/y bounds in its own units (east/north order), or None if PROJ does not say."""
    try:
        target = pyproj.CRS.from_epsg(srid)
    except pyproj.exceptions.CRSError:
        return None
    if target.area_of_use is None:
        return None
    west, south, east, north = target.area_of_use.bounds
    lon_lat = pyproj.Transformer.from_crs("OGC:CRS84", target, always_xy=True)
    return lon_lat.transform_bounds(west, south, east, north, densify_pts=21)


def within_area_of_use(box) -> bool:
    """Whether an x/y box (layers.ogc_provider.RequestedBox) lies where its CRS is defined. PostGIS cannot
    transform points far outside ("Point outside of projection domain")."""
    bounds = area_of_use(box.srid)
    if bounds is None:
        return False
    minx, miny, maxx, maxy = bounds
    return minx <= box.minx <= box.maxx <= maxx and miny <= box.miny <= box.maxy <= maxy
