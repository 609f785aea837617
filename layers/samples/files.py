"""Writing the sample files in the formats real offices send (through GDAL's ogr2ogr, as QGIS or ArcGIS would).

Every writer is deterministic: the same features give the same bytes, so `sample_data` can tell an unchanged
file from a new one by its SHA-256 and skip it (the .dbf header date and the GeoPackage timestamps are fixed).
"""
import csv
import io
import json
import os
import subprocess
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import shapely

from layers.loading.encodings import encode

FIXED_DATE = date(2025, 6, 30)  # the "last changed" date written into file headers
_ZIP_TIME = (2025, 6, 30, 0, 0, 0)


def geojson_bytes(features: list[tuple[dict, shapely.Geometry]], srid: int | None = None) -> bytes:
    """A GeoJSON FeatureCollection in UTF-8; `srid` other than 4326 is named in the (GDAL-read) "crs" member."""
    document = {"type": "FeatureCollection"}
    if srid and srid != 4326:
        document["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{srid}"}}
    document["features"] = [{"type": "Feature", "properties": properties,
                             "geometry": json.loads(shapely.to_geojson(geometry, indent=None))}
                            for properties, geometry in features]
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _ogr2ogr(*args: str) -> None:
    env = {**os.environ, "OGR_CURRENT_DATE": f"{FIXED_DATE.isoformat()}T00:00:00.000Z"}
    done = subprocess.run(["ogr2ogr", *args], capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(f"ogr2ogr {' '.join(args[:3])}…: {done.stderr.strip()}")


def legacy_shapefile_zip(features: list[tuple[dict, shapely.Geometry]], *, srid: int, encoding: str,
                         layer: str) -> bytes:
    """A zipped Shapefile whose .dbf text is in a legacy Vietnamese `encoding` (e.g. TCVN3), with a .prj and no
    .cpg, as an old office program leaves it: GDAL cannot know the encoding, the SDI's loader must be told."""
    encoded = [({k: encode(v, encoding).decode("latin-1") if isinstance(v, str) else v
                 for k, v in properties.items()}, geometry) for properties, geometry in features]
    with tempfile.TemporaryDirectory(prefix="sdi-sample-") as work:
        source, shp = Path(work, "source.geojson"), Path(work, f"{layer}.shp")
        source.write_bytes(geojson_bytes(encoded, srid))
        # ISO-8859-1 writes each character below 256 as the one byte it stands for: the legacy bytes, unchanged.
        _ogr2ogr("-f", "ESRI Shapefile", str(shp), str(source), "-a_srs", f"EPSG:{srid}", "-nln", layer,
                 "-nlt", "MULTIPOLYGON", "-lco", "ENCODING=ISO-8859-1")
        shp.with_suffix(".cpg").unlink(missing_ok=True)
        _as_legacy_dbf(shp.with_suffix(".dbf"))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
            for part in sorted(Path(work).glob(f"{layer}.*")):
                info = zipfile.ZipInfo(part.name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                bundle.writestr(info, part.read_bytes())
        return out.getvalue()


def _as_legacy_dbf(dbf: Path) -> None:
    """Fix the header's last-update date (bytes 1-3) and clear its language driver id (byte 29), which an old
    program leaves at 0 ("unknown"): GDAL wrote 0x57 (ISO-8859-1), which would be a lie about TCVN3 text."""
    with open(dbf, "r+b") as handle:
        handle.seek(1)
        handle.write(bytes([FIXED_DATE.year - 1900, FIXED_DATE.month, FIXED_DATE.day]))
        handle.seek(29)
        handle.write(b"\x00")


def geopackage(features: list[tuple[dict, shapely.Geometry]], *, layer: str) -> bytes:
    """A GeoPackage in WGS 84 (features in lon/lat) with one layer."""
    with tempfile.TemporaryDirectory(prefix="sdi-sample-") as work:
        source, gpkg = Path(work, "source.geojson"), Path(work, f"{layer}.gpkg")
        source.write_bytes(geojson_bytes(features))
        _ogr2ogr("-f", "GPKG", str(gpkg), str(source), "-nln", layer, "-nlt", "MULTIPOLYGON",
                 "-a_srs", "EPSG:4326")
        return gpkg.read_bytes()


def csv_points(rows: list[dict]) -> bytes:
    """A UTF-8 CSV (with header) of point rows carrying lon/lat columns."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
