"""Real district boundaries in VN-2000 and the parcel grids cut from them (the shapes of every sample layer).

The boundaries are the real ones (config/data/cantho/admin/cantho_districts_gischinhphu.geojson, by GSO code);
only what is drawn inside them is synthetic. Transforms use the SDI's pinned VN-2000 <-> WGS 84 operation
(layers.crs.transformers), the same one PostGIS uses, so a parcel cut to a boundary stays inside it.
"""
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from shapely.geometry import shape

from layers.crs import CANTHO_DEFAULT_SRID
from layers.crs.transformers import transformer

DISTRICTS_FILE = "data/cantho/admin/cantho_districts_gischinhphu.geojson"
INSET_METRES = 0.5  # neighbouring parcels do not share an edge exactly, as in the Ninh Kiều register


@lru_cache(maxsize=1)
def _districts() -> dict[str, dict]:
    features = json.loads(Path(settings.SDI_CONFIG_DIR, DISTRICTS_FILE).read_text(encoding="utf-8"))["features"]
    return {f["properties"]["level2_id"]: f for f in features}


def district_name(gso_code: str) -> str:
    """The district's name as the boundary file spells it."""
    return _districts()[gso_code]["properties"]["name"]


def district_codes() -> list[str]:
    return sorted(_districts())


@lru_cache(maxsize=16)
def district_vn2000(gso_code: str) -> shapely.Geometry:
    """The real boundary of a district (GSO code) in VN-2000 / TM-3 zone 482 (EPSG:5897), metres."""
    return to_vn2000(shape(_districts()[gso_code]["geometry"]))


def to_vn2000(geometry: shapely.Geometry) -> shapely.Geometry:
    """lon/lat WGS 84 -> EPSG:5897 (pinned datum shift)."""
    forward = transformer("EPSG:4326", f"EPSG:{CANTHO_DEFAULT_SRID}")  # latitude first, as EPSG:4326 says
    return shapely.transform(geometry, lambda lon, lat: forward.transform(lat, lon), interleaved=False)


def to_wgs84(geometry: shapely.Geometry) -> shapely.Geometry:
    """EPSG:5897 -> lon/lat WGS 84 (pinned datum shift)."""
    back = transformer(f"EPSG:{CANTHO_DEFAULT_SRID}", "EPSG:4326")
    return shapely.transform(geometry, lambda x, y: tuple(reversed(back.transform(x, y))), interleaved=False)


@dataclass(frozen=True)
class Cell:
    row: int  # south to north
    column: int  # west to east
    geometry: shapely.Geometry  # a Polygon or MultiPolygon in EPSG:5897


def grid_cells(area: shapely.Geometry, size: float, min_area: float) -> list[Cell]:
    """A square grid of `size` metres over `area`, each cell inset a little and cut to `area`; slivers smaller than
    `min_area` m² are dropped. Ordered row by row, so numbering is stable."""
    area = area.buffer(-INSET_METRES)  # nor does a parcel touch the boundary it is cut to (and the neighbour beyond)
    minx, miny, maxx, maxy = area.bounds
    x0, y0 = np.floor(minx / size) * size, np.floor(miny / size) * size
    columns, rows = np.arange(x0, maxx, size), np.arange(y0, maxy, size)
    xs, ys = np.meshgrid(columns, rows)
    boxes = shapely.box(xs + INSET_METRES, ys + INSET_METRES, xs + size - INSET_METRES, ys + size - INSET_METRES)
    shapely.prepare(area)
    touching = shapely.intersects(area, boxes)
    inside = shapely.contains_properly(area, boxes)
    cut = np.where(inside, boxes, None)
    edge = touching & ~inside
    cut[edge] = shapely.intersection(boxes[edge], area)
    cells = []
    for r, c in zip(*np.nonzero(touching)):
        geometry = _polygonal(cut[r, c])
        if geometry is not None and geometry.area >= min_area:
            cells.append(Cell(int(r), int(c), geometry))
    return cells


def _polygonal(geometry):
    """The polygon part of an intersection (a cut can leave lines or points along the edge)."""
    if geometry is None or geometry.is_empty:
        return None
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [g for g in shapely.get_parts(geometry) if g.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts) if parts else None


def multi(geometry: shapely.Geometry) -> shapely.MultiPolygon:
    return geometry if geometry.geom_type == "MultiPolygon" else shapely.MultiPolygon([geometry])
