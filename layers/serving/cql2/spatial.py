"""Spatial conditions (S_INTERSECTS & co., BBOX) and geometry literals.

Literals are in the filter-crs (CRS84 unless the client says otherwise), or in the CRS they name themselves
(EWKT ``SRID=…;``, BBOX's 6th argument); axes follow that CRS (EPSG:4326 is lat,lon). They are transformed
into the storage CRS in PostGIS, VN-2000 pinned to EPSG:6960, and boxes are built exactly as for ``bbox=``
(layers.crs.box_sql), so one box selects the same features however it is sent.

pygeofilter 0.4 quirk: the CQL2-JSON ``{"bbox": [minx, miny, maxx, maxy]}`` literal lands in
``Envelope(x1, x2, y1, y2)`` in the wrong slots (pygeofilter issue #163), while CQL2-text
``ENVELOPE(minx maxx miny maxy)`` fills them as named; see ``envelope_bounds``.
"""
from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import shapely.geometry
from psycopg import sql
from pygeofilter import ast, values
from shapely.validation import explain_validity

from layers.serving.cql2.values import Expr, FilterError, is_number
from layers.crs import CRS, UnknownCRS, box_sql, parse, transform_sql

if TYPE_CHECKING:
    from layers.serving.cql2.translator import Translator

_SPATIAL = {
    ast.GeometryIntersects: ("S_INTERSECTS", "ST_Intersects"), ast.GeometryDisjoint: ("S_DISJOINT", "ST_Disjoint"),
    ast.GeometryContains: ("S_CONTAINS", "ST_Contains"), ast.GeometryWithin: ("S_WITHIN", "ST_Within"),
    ast.GeometryTouches: ("S_TOUCHES", "ST_Touches"), ast.GeometryCrosses: ("S_CROSSES", "ST_Crosses"),
    ast.GeometryOverlaps: ("S_OVERLAPS", "ST_Overlaps"), ast.GeometryEquals: ("S_EQUALS", "ST_Equals"),
}


def spatial_predicate(tr: Translator, node: ast.SpatialComparisonPredicate):
    """S_INTERSECTS & co. map one to one onto PostGIS (ST_Intersects and ST_Contains use the GiST index)."""
    name, function = _SPATIAL[type(node)]
    lhs = geometry(tr, node.lhs, name)
    rhs = geometry(tr, node.rhs, name)
    return sql.SQL("{}({}, {})").format(sql.SQL(function), lhs.sql, rhs.sql), lhs.params + rhs.params


def bbox_predicate(tr: Translator, node: ast.BBox):
    """BBOX(geometry, minx, miny, maxx, maxy[, crs]) = S_INTERSECTS with that box."""
    lhs = geometry(tr, node.lhs, "BBOX")
    literal = box(tr, [node.minx, node.miny, node.maxx, node.maxy], node.crs)
    return sql.SQL("ST_Intersects({}, {})").format(lhs.sql, literal.sql), lhs.params + literal.params


def geometry(tr: Translator, node, function: str) -> Expr:
    value = tr.expression(node)
    if value.kind != "geometry":
        raise FilterError(f"{function} needs geometries; {value.describe()}")
    return value


def geometry_literal(tr: Translator, value) -> Expr:
    """GeoJSON (re-serialised by shapely: closed rings, checked validity) in the storage CRS."""
    if isinstance(value, values.Envelope):
        return box(tr, envelope_bounds(value), None)
    geojson = dict(value.geometry)
    crs = geojson.pop("crs", None)
    crs_name = ((crs.get("properties") or {}).get("name")) if isinstance(crs, dict) else None
    source = crs_named(crs_name) if crs_name else tr.filter_crs
    try:
        shape = shapely.geometry.shape(geojson)
    except Exception as exc:  # shapely raises several types for malformed GeoJSON
        raise FilterError(f"invalid geometry literal: {exc}") from None
    if not shape.is_valid:
        raise FilterError(f"invalid geometry literal: {explain_validity(shape)}")
    if not shape.is_empty and not all(math.isfinite(c) for c in shape.bounds):
        raise FilterError("invalid geometry literal: coordinates must be finite numbers")
    if source.lat_first:  # PostGIS keeps x = longitude
        shape = shapely.transform(shape, lambda lat_lon: lat_lon[:, ::-1])  # heights are ignored
    text = json.dumps(shapely.geometry.mapping(shape))
    literal = sql.SQL("ST_SetSRID(ST_GeomFromGeoJSON(%s::text), {})").format(sql.Literal(source.srid))
    return Expr(transform_sql(literal, source.srid, tr.storage_srid), [text], "geometry",
                f"{shape.geom_type} literal")


def box(tr: Translator, numbers: list, crs_name: str | None) -> Expr:
    """A box literal (BBOX / ENVELOPE) in the filter-crs or the CRS it names, as a polygon in the storage CRS."""
    if len(numbers) == 6:  # minx, miny, minz, maxx, maxy, maxz: heights are ignored
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(is_number(n) and math.isfinite(n) for n in numbers):
        raise FilterError("a bounding box needs 4 (or 6) finite numbers")
    source = crs_named(crs_name) if crs_name else tr.filter_crs
    minx, miny, maxx, maxy = [float(n) for n in numbers]
    if source.lat_first:
        minx, miny, maxx, maxy = miny, minx, maxy, maxx
    if minx > maxx or miny > maxy:
        raise FilterError(f"bounding box has min > max: {numbers}")
    polygon, params = box_sql(minx, miny, maxx, maxy, source.srid, tr.storage_srid)
    return Expr(polygon, params, "geometry", "BBOX literal")


def crs_named(name, what: str = "CRS") -> CRS:
    """A CRS by layers.crs's rules, whose axis order PROJ knows; anything else is a FilterError."""
    try:
        crs = parse(name)
        crs.lat_first  # noqa: B018 (PROJ must know the code)
    except UnknownCRS:
        raise FilterError(f"unsupported {what} {str(name)[:100]!r} (use CRS84 or an EPSG code)") from None
    return crs


def envelope_bounds(envelope: values.Envelope) -> list[float]:
    """[minx, miny, maxx, maxy] of a pygeofilter Envelope, whichever parser filled it.

    CQL2-text ENVELOPE(minx maxx miny maxy) fills (x1, x2, y1, y2) as named; CQL2-JSON {"bbox": [minx, miny,
    maxx, maxy]} fills them in that order (pygeofilter #163). A well-formed box is well-formed in its own
    reading, so when only one reading is well-formed it is the right one; when both are, refuse rather than
    guess (it cannot happen with lon/lat boxes over Vietnam, where every longitude exceeds every latitude).
    """
    x1, x2, y1, y2 = envelope.x1, envelope.x2, envelope.y1, envelope.y2
    as_named = [x1, y1, x2, y2] if x1 <= x2 and y1 <= y2 else None
    as_json = [x1, x2, y1, y2] if x1 <= y1 and x2 <= y2 else None
    if as_named and as_json and as_named != as_json:
        raise FilterError("ambiguous bounding box literal (pygeofilter 0.4 reads CQL2-JSON bbox and ENVELOPE in "
                          "different orders); use BBOX(geometry, minx, miny, maxx, maxy) or a POLYGON")
    if not (as_named or as_json):
        raise FilterError(f"bounding box has min > max: {[x1, x2, y1, y2]}")
    return as_named or as_json


PREDICATES = {ast.SpatialComparisonPredicate: spatial_predicate, ast.BBox: bbox_predicate}
