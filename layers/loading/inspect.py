"""Read what a vector source holds (layers, CRS, geometry type, fields) with GDAL before loading anything."""
from dataclasses import dataclass
from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException, SpatialReference
from django.contrib.gis.gdal.error import SRSException

from layers.loading import ImportRefused


@dataclass(frozen=True)
class SourceLayer:
    path: str
    layer_name: str
    feature_count: int
    geometry_type: str
    srid: int | None
    field_names: tuple[str, ...]


def gdal_path(path: Path) -> str:
    """GDAL opens zipped sources through /vsizip/ (KMZ is opened by the KML driver itself)."""
    return f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)


def inspect_source(path: str | Path, layer: str | None = None) -> SourceLayer:
    path = Path(path)
    if not path.exists():
        raise ImportRefused(f"{path}: file not found")
    try:
        source = DataSource(gdal_path(path))
    except GDALException as exc:
        raise ImportRefused(f"{path.name}: GDAL cannot read it as vector data ({exc})") from None
    names = [source[i].name for i in range(len(source))]
    if not names:
        raise ImportRefused(f"{path.name}: contains no layer")
    if layer is None:
        if len(names) > 1:
            raise ImportRefused(f"{path.name}: has {len(names)} layers ({', '.join(names)}); choose one with --layer")
        layer = names[0]
    elif layer not in names:
        raise ImportRefused(f"{path.name}: no layer named {layer!r} (layers: {', '.join(names)})")
    ogr_layer = source[names.index(layer)]
    geometry_type = ogr_layer.geom_type.name
    if geometry_type == "None":
        raise ImportRefused(f"{path.name}: layer {layer!r} has no geometry (a table only?)")
    return SourceLayer(
        path=str(path),
        layer_name=layer,
        feature_count=ogr_layer.num_feat,
        geometry_type=geometry_type,
        srid=epsg_code(ogr_layer.srs),
        field_names=tuple(ogr_layer.fields),
    )


def epsg_code(srs: SpatialReference | None) -> int | None:
    """The EPSG code of a layer's CRS, when GDAL can identify one."""
    if srs is None:
        return None
    try:
        srs.identify_epsg()
    except (SRSException, GDALException):
        pass
    code = srs.srid
    return int(code) if code else None
