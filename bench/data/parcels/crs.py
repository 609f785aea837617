"""EPSG:4326 to VN-2000 / TM-3 zone 482 (EPSG:5897) through the pinned EPSG:6960 operation, and back."""
import re

import numpy as np
import shapely
from pyproj.crs import CoordinateOperation
from pyproj.enums import TransformDirection
from pyproj.transformer import Transformer, TransformerGroup

TARGET_EPSG = 5897          # VN-2000 / TM-3 zone 482 (lon_0=105, k=0.9999)
DATUM_OP_EPSG = 6960        # VN-2000 to WGS 84 (2), Helmert 7 parameters, Vietnam onshore
DATUM_OP_NAME = "VN-2000 to WGS 84 (2)"


def _helmert_params(pipeline: str) -> str:
    """The parameter string of the (only) helmert step of a PROJ pipeline."""
    m = re.findall(r"\+proj=helmert ((?:\+(?!step)\S+\s*)+)", pipeline)
    assert len(m) == 1, f"expected one helmert step in {pipeline!r}"
    return m[0].strip()


def wgs84_to_tm3() -> Transformer:
    """EPSG:4326 (lon/lat) -> EPSG:5897 through EPSG:6960, and nothing else.

    At Cần Thơ PROJ ranks EPSG:5194 ("VN-2000 to WGS 84 (1)", Mekong delta blocks)
    first, so Transformer.from_crs() would silently use it (~0.8 m apart here).  We
    take the candidate built on EPSG:6960 from the TransformerGroup and check that it
    carries exactly the Helmert parameters of CoordinateOperation.from_epsg(6960).
    Use .transform(x, y, direction=TransformDirection.INVERSE) for the way back.
    """
    op = CoordinateOperation.from_epsg(DATUM_OP_EPSG)
    assert op.name == DATUM_OP_NAME, op.name
    group = TransformerGroup("EPSG:4326", f"EPSG:{TARGET_EPSG}", always_xy=True)
    chosen = [t for t in group.transformers if DATUM_OP_NAME in t.description]
    assert len(chosen) == 1, [t.description for t in group.transformers]
    tr = chosen[0]
    pipe = tr.to_proj4()
    assert _helmert_params(pipe) == _helmert_params(op.to_proj4()), (pipe, op.to_proj4())
    assert "+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0" in pipe, pipe
    return tr


def transform_geom(geom, tr: Transformer, inverse: bool = False):
    direction = TransformDirection.INVERSE if inverse else TransformDirection.FORWARD

    def fn(xy):
        x, y = tr.transform(xy[:, 0], xy[:, 1], direction=direction)
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)
