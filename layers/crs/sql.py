"""Reprojection in PostGIS SQL, with VN-2000 pinned to EPSG:6960 (see layers.crs.vn2000).

Every transform the SDI asks of PostGIS goes through here: output geometries, the client's bbox, CQL2
literals, the loader's extent and district checks. A bare ST_Transform would let PROJ choose (EPSG:5194,
0.8 m off at Cần Thơ), so one box could select different features depending on how it was sent.
"""
from psycopg import sql

from layers.crs.identifiers import WGS84_SRID
from layers.crs.vn2000 import VN2000, pinned_srid

MAX_BOX_SEGMENTS = 32  # per side of a transformed box: ≤ 128 vertices


def transform_sql(geometry: sql.Composable, from_srid: int, to_srid: int) -> sql.Composable:
    """PostGIS reprojection; to or from VN-2000 it goes through the pinned SRIDs, so EPSG:6960 applies."""
    if from_srid == to_srid:
        return geometry
    if from_srid in VN2000:
        geometry = sql.SQL("ST_SetSRID({}, {})").format(geometry, sql.Literal(pinned_srid(from_srid)))
    transformed = sql.SQL("ST_Transform({}, {})").format(geometry, sql.Literal(pinned_srid(to_srid)))
    if to_srid in VN2000:
        transformed = sql.SQL("ST_SetSRID({}, {})").format(transformed, sql.Literal(to_srid))
    return transformed


def to_wgs84(geometry: sql.Composable, srid: int) -> sql.Composable:
    """SQL for `geometry` (in `srid`) in EPSG:4326."""
    return transform_sql(geometry, srid, WGS84_SRID)


def from_wgs84(geometry: sql.Composable, srid: int) -> sql.Composable:
    """SQL for an EPSG:4326 `geometry` in `srid` (the inverse of `to_wgs84`, pinned the same way)."""
    return transform_sql(geometry, WGS84_SRID, srid)


def box_sql(minx: float, miny: float, maxx: float, maxy: float, srid: int,
            to_srid: int) -> tuple[sql.Composable, list]:
    """The box a client drew in `srid` (x/y order), as a polygon in `to_srid`, and its parameters.

    Its edges are densified before the transform, since a straight edge in one CRS is a curve in another.
    `bbox=` and CQL2 box literals both use it, so the same box selects the same features however it is sent.
    """
    envelope = sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, {})").format(sql.Literal(srid))
    params = [minx, miny, maxx, maxy]
    if srid == to_srid:
        return envelope, params
    step = max(maxx - minx, maxy - miny) / MAX_BOX_SEGMENTS
    if step > 0:  # ST_Segmentize refuses 0 (a box of zero width and height)
        envelope = sql.SQL("ST_Segmentize({}, %s)").format(envelope)
        params.append(step)
    return transform_sql(envelope, srid, to_srid), params
