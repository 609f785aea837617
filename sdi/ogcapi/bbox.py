"""bbox / bbox-crs into the storage CRS: correctly, and without building a PROJ transformer per request.

pygeoapi 0.24's `transform_bbox` builds a new pyproj Transformer on every request (~45 ms, most of a bbox
query), lets PROJ pick the VN-2000 datum shift (EPSG:5194 at Cần Thơ, 0.8 m from the official EPSG:6960),
and transforms only the two corners, which clips the box once it is rotated into a projected CRS. We
install this function in its place (sdi.ogcapi.adapter, seam 3): cached transformers pinned to EPSG:6960
(layers.crs.transformers), and the bounds of the densified box edges.
"""
from pyproj.exceptions import CRSError

from layers.crs import UnknownCRS
from layers.crs.transformers import area_of_use, transformer


def transform_bbox(bbox: list, from_crs, to_crs, always_xy=False) -> list:
    """Same contract as pygeoapi.crs.transform_bbox (4 or 6 numbers, in `from_crs` axis order; CRSError for
    a CRS it cannot name, which pygeoapi answers with a 400)."""
    two_d = len(bbox) == 4
    low, high = (bbox[:2], bbox[2:]) if two_d else (bbox[:2], bbox[3:5])
    try:
        pinned = transformer(str(from_crs), str(to_crs))
    except UnknownCRS as exc:
        raise CRSError(str(exc)) from None
    minx, miny, maxx, maxy = pinned.transform_bounds(low[0], low[1], high[0], high[1], densify_pts=21)
    if two_d:
        return [minx, miny, maxx, maxy]
    return [minx, miny, bbox[2], maxx, maxy, bbox[5]]


def within_area_of_use(box) -> bool:
    """Whether an x/y box (layers.serving.hints.RequestedBox) lies where its CRS is defined. PostGIS cannot
    transform points far outside ("Point outside of projection domain")."""
    bounds = area_of_use(box.srid)
    if bounds is None:
        return False
    minx, miny, maxx, maxy = bounds
    return minx <= box.minx <= box.maxx <= maxx and miny <= box.miny <= box.maxy <= maxy
