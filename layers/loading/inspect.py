"""Read what a vector source holds (layers, CRS, geometry type, fields) with GDAL before loading anything."""
from dataclasses import dataclass
from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException, SpatialReference
from django.contrib.gis.gdal.error import SRSException

from layers.loading import ImportRefused
from layers.loading.gdal_safety import network_off, open_vector


@dataclass(frozen=True)
class SourceLayer:
    path: str
    layer_name: str
    feature_count: int
    geometry_type: str
    srid: int | None
    field_names: tuple[str, ...]
    driver: str  # the one GDAL driver allowed to read it (layers.loading.gdal_safety)
    open_options: tuple[tuple[str, str], ...] = ()


def inspect_source(path: str | Path, layer: str | None = None, *, label: str | None = None,
                   open_options: dict | None = None) -> SourceLayer:
    """Open the source with its one allowed driver, network off, and read its layer's facts."""
    path = Path(path)
    label = label or path.name
    if not path.exists():
        raise ImportRefused(f"{label}: file not found")
    with network_off():
        source = open_vector(path, label, open_options)
        return _read_layer(source, path, label, layer, open_options or {})


def _read_layer(source: DataSource, path: Path, label: str, layer: str | None, open_options: dict) -> SourceLayer:
    names = [source[i].name for i in range(len(source))]
    if not names:
        raise ImportRefused(f"{label}: contains no layer")
    if layer is None:
        if len(names) > 1:
            raise ImportRefused(f"{label}: has {len(names)} layers ({', '.join(names)}); choose one with --layer")
        layer = names[0]
    elif layer not in names:
        raise ImportRefused(f"{label}: no layer named {layer!r} (layers: {', '.join(names)})")
    ogr_layer = source[names.index(layer)]
    geometry_type = ogr_layer.geom_type.name
    if geometry_type == "None":
        raise ImportRefused(f"{label}: layer {layer!r} has no geometry (a table only?)")
    return SourceLayer(
        path=str(path),
        layer_name=layer,
        feature_count=ogr_layer.num_feat,
        geometry_type=geometry_type,
        srid=epsg_code(ogr_layer.srs),
        field_names=tuple(ogr_layer.fields),
        driver=source.driver.name,
        open_options=tuple(open_options.items()),
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
