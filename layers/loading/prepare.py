"""Turn what an admin points at (a file, a zip, a KMZ, a folder, a CSV) into one GDAL-readable layer with a CRS.

This is where formats differ; after it every source is loaded by the same ogr2ogr call. Only the formats of
layers.loading.gdal_safety are read, each by its own driver.
"""
import struct
from dataclasses import dataclass, field
from pathlib import Path

from layers.crs import CANTHO_DEFAULT_SRID
from layers.loading.known_crs import ensure_known
from layers.loading import ImportRefused
from layers.loading.archive import _single_vector_file, extract_zip, unpack_zip
from layers.loading.csv_source import csv_for_gdal
from layers.loading.encodings import LEGACY_ENCODINGS, decode, detect
from layers.loading.gdal_safety import ARCHIVE_SUFFIXES, CHECKED_ARCHIVE_SUFFIXES, accepted_driver, check_local_path
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
    crs_origin: str = "declared with the import"  # where `srid` came from, for messages about it


def prepare_source(path: Path, workdir: Path, *, layer: str | None, srid: int | None, encoding: str | None) -> PreparedSource:
    label = path.name
    if encoding is not None and encoding not in LEGACY_ENCODINGS:
        raise ImportRefused(f"unknown encoding {encoding!r} (choose one of {', '.join(LEGACY_ENCODINGS)})")
    if srid is not None:
        ensure_known(srid)
    check_local_path(path)
    path = path.absolute()  # an absolute path can never be read by GDAL as a connection string
    if not path.exists():
        raise ImportRefused(f"{label}: file not found")
    if path.is_dir():
        path = _single_vector_file(label, path)
    elif path.suffix.lower() in ARCHIVE_SUFFIXES:
        path = unpack_zip(path, workdir / "unzipped")
    elif path.suffix.lower() in CHECKED_ARCHIVE_SUFFIXES:  # a KMZ: checked by our unzipper, read by LIBKML
        extract_zip(path, workdir / "checked")
    accepted_driver(path, label)
    suffix = path.suffix.lower()

    if suffix == ".csv":
        csv_source = csv_for_gdal(_utf8_copy(path, workdir, encoding), workdir)
        return PreparedSource(inspect_source(csv_source.path, layer, label=label, open_options=csv_source.open_options),
                              srid or 4326, label, encoding=encoding or "utf-8",
                              crs_origin="declared with the import" if srid else "assumed for a CSV (WGS 84)")

    if suffix == ".shp":
        _check_shapefile_counts(path, label)
    source = inspect_source(path, layer, label=label)
    detected = source.srid
    if srid is None and detected is None:
        if suffix == ".shp" and not path.with_suffix(".prj").exists() and not path.with_suffix(".PRJ").exists():
            raise ImportRefused(f"{label}: the shapefile has no .prj, so its CRS is unknown; declare it "
                                f"(e.g. EPSG:{CANTHO_DEFAULT_SRID} for VN-2000 / TM-3 zone 482, Cần Thơ)")
        raise ImportRefused(f"{label}: its CRS is not an EPSG one GDAL can identify; declare it "
                            f"(e.g. EPSG:{CANTHO_DEFAULT_SRID} for VN-2000 / TM-3 zone 482, Cần Thơ)")
    origin = "declared with the import" if srid else ("read from the .prj" if suffix == ".shp" else "read from the file")
    prepared = PreparedSource(source, srid or detected, label, crs_origin=origin)
    if suffix == ".shp":
        _shapefile_encoding(path, prepared, encoding)
    return prepared


def _check_shapefile_counts(shp: Path, label: str) -> None:
    """GDAL silently reads only as many features as the .dbf has records, so parts that disagree are refused."""
    shx = next((p for p in (shp.with_suffix(".shx"), shp.with_suffix(".SHX")) if p.exists()), None)
    dbf = next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.exists()), None)
    if shx is None or dbf is None:
        return  # GDAL names what is missing
    with open(shx, "rb") as index, open(dbf, "rb") as table:
        shx_header, dbf_header = index.read(100), table.read(8)
    if len(shx_header) < 100 or len(dbf_header) < 8:
        raise ImportRefused(f"{label}: {shp.name}: its .shx or .dbf is truncated")
    shapes = (struct.unpack(">i", shx_header[24:28])[0] * 2 - 100) // 8  # file length in 16-bit words, 8-byte entries
    records = struct.unpack("<I", dbf_header[4:8])[0]
    if shapes != records:
        raise ImportRefused(f"{label}: {shp.name} holds {shapes} shapes but {dbf.name} holds {records} records; "
                            "the parts of the shapefile do not belong together (export it again)")


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
