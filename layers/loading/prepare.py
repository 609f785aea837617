"""Turn what an admin points at (a file, a zip, a folder, a CSV) into one GDAL-readable layer with a CRS.

This is where formats differ; after it every source is loaded by the same ogr2ogr call.
"""
from dataclasses import dataclass, field
from pathlib import Path

from layers.crs import CANTHO_DEFAULT_SRID, ensure_known
from layers.loading import ImportRefused
from layers.loading.archive import _single_vector_file, unpack_zip
from layers.loading.csv_source import csv_as_vrt
from layers.loading.encodings import LEGACY_ENCODINGS, decode, detect
from layers.loading.inspect import SourceLayer, inspect_source

UTF8_CPG = {"utf-8", "utf8", "65001"}


@dataclass
class PreparedSource:
    layer: SourceLayer
    srid: int
    label: str
    open_options: dict = field(default_factory=dict)
    redecode: bool = False  # text was loaded as Latin-1 and must be decoded from `encoding`
    encoding: str | None = None


def prepare_source(path: Path, workdir: Path, *, layer: str | None, srid: int | None, encoding: str | None) -> PreparedSource:
    label = path.name
    if encoding is not None and encoding not in LEGACY_ENCODINGS:
        raise ImportRefused(f"unknown encoding {encoding!r} (choose one of {', '.join(LEGACY_ENCODINGS)})")
    if srid is not None:
        ensure_known(srid)
    if not path.exists():
        raise ImportRefused(f"{label}: file not found")
    if path.is_dir():
        path = _single_vector_file(label, path)
    elif path.suffix.lower() == ".zip":
        path = unpack_zip(path, workdir / "unzipped")
    suffix = path.suffix.lower()

    if suffix == ".csv":
        path = csv_as_vrt(_utf8_copy(path, workdir, encoding), srid or 4326, workdir)
        return PreparedSource(inspect_source(path, layer), srid or 4326, label, encoding=encoding or "utf-8")

    source = inspect_source(path, layer)
    detected = source.srid
    if srid is None and detected is None:
        if suffix == ".shp" and not path.with_suffix(".prj").exists() and not path.with_suffix(".PRJ").exists():
            raise ImportRefused(f"{label}: the shapefile has no .prj, so its CRS is unknown; declare it "
                                f"(e.g. EPSG:{CANTHO_DEFAULT_SRID} for VN-2000 / TM-3 zone 482, Cần Thơ)")
        raise ImportRefused(f"{label}: its CRS is not an EPSG one GDAL can identify; declare it "
                            f"(e.g. EPSG:{CANTHO_DEFAULT_SRID} for VN-2000 / TM-3 zone 482, Cần Thơ)")
    prepared = PreparedSource(source, srid or detected, label)
    if suffix == ".shp":
        _shapefile_encoding(path, prepared, encoding)
    return prepared


def _shapefile_encoding(shp: Path, prepared: PreparedSource, encoding: str | None) -> None:
    """UTF-8 shapefiles are read by GDAL; everything else is loaded as Latin-1 and decoded by us."""
    cpg = next((p for p in (shp.with_suffix(".cpg"), shp.with_suffix(".CPG")) if p.exists()), None)
    declared = cpg.read_text(errors="replace").strip().lower() if cpg else None
    if encoding == "utf-8" or (encoding is None and declared in UTF8_CPG):
        prepared.open_options = {"ENCODING": "UTF-8"}
        prepared.encoding = "utf-8"
        return
    prepared.open_options = {"ENCODING": "ISO-8859-1"}
    prepared.redecode = True
    if encoding is None and declared and ("1258" in declared):
        encoding = "cp1258"
    prepared.encoding = encoding  # None: detected from the values after loading


def _utf8_copy(path: Path, workdir: Path, encoding: str | None) -> Path:
    raw = path.read_bytes()
    if encoding in (None, "utf-8"):
        try:
            raw.decode("utf-8")
            return path
        except UnicodeDecodeError:
            if encoding == "utf-8":
                raise ImportRefused(f"{path.name}: is not valid UTF-8; choose its encoding") from None
    lines = raw.splitlines()
    encoding = encoding or detect([line for line in lines if any(b > 127 for b in line)][:2000])
    copy = workdir / path.name
    copy.write_text("\n".join(decode(line, encoding) for line in lines), encoding="utf-8")
    return copy
