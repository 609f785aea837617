"""The same CRS rules for pyproj: cached transformers pinned to EPSG:6960, and where a CRS is defined.

PostGIS does the transforms for data (layers.crs.sql); pyproj is used where a few numbers must be transformed
in Python before the query (the bounds of a bbox, sdi.ogcapi.bbox).
"""
from functools import lru_cache

import pyproj
from pyproj.transformer import TransformerGroup

from layers.crs.identifiers import CRS, parse
from layers.crs.vn2000 import OFFICIAL_OPERATION, VN2000


def pyproj_crs(crs: CRS) -> pyproj.CRS:
    """With the authority's axis order (EPSG:4326 latitude first, CRS84 longitude first)."""
    return pyproj.CRS("OGC:CRS84") if crs.crs84 else pyproj.CRS.from_epsg(crs.srid)


@lru_cache(maxsize=64)
def transformer(from_crs: str, to_crs: str) -> pyproj.Transformer:
    """Authority axis order in and out; EPSG:6960 whenever VN-2000 is involved (UnknownCRS for bad names)."""
    source, target = parse(from_crs), parse(to_crs)
    source_crs, target_crs = pyproj_crs(source), pyproj_crs(target)
    if {source.srid, target.srid} & set(VN2000):
        for candidate in TransformerGroup(source_crs, target_crs).transformers:
            if OFFICIAL_OPERATION in candidate.description or ("VN-2000" not in candidate.description
                                                               and "WGS 84" not in candidate.description):
                return candidate
    return pyproj.Transformer.from_crs(source_crs, target_crs)


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

