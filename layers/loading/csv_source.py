"""CSV with lon/lat or WKT columns → a comma-separated copy and the CSV driver's open options that read it.

GDAL alone turns a coordinate cell holding text into a NULL geometry without a word; we read the columns
first so the admin is told which row and column are wrong. The CSV is read by GDAL's own CSV driver (never
through a VRT, which GDAL refuses for uploads: layers.loading.gdal_safety). The copy is comma-separated
because GDAL detects only comma, semicolon and tab, while people also send "|".
"""
import csv
from dataclasses import dataclass
from pathlib import Path

from layers.loading import ImportRefused

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "kinh_do", "kinhdo", "kinh do", "easting")
LAT_NAMES = ("lat", "latitude", "y", "vi_do", "vido", "vi do", "northing")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "shape")


@dataclass(frozen=True)
class CsvSource:
    path: Path  # the comma-separated UTF-8 copy GDAL reads
    open_options: dict  # the CSV driver's: which columns hold the geometry, and guessed column types


def csv_for_gdal(csv_path: Path, workdir: Path) -> CsvSource:
    """Check `csv_path` (UTF-8) and write the copy GDAL reads as a point or WKT layer; refuse bad coordinates."""
    label = csv_path.name
    target = workdir / "csv" / csv_path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, encoding="utf-8-sig", newline="") as handle, \
            open(target, "w", encoding="utf-8", newline="") as out:
        sample = handle.read(64 * 1024)
        handle.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(handle, dialect)
        writer = csv.writer(out, lineterminator="\n")
        header = next(reader, None)
        if not header:
            raise ImportRefused(f"{label}: is empty")
        writer.writerow(header)
        columns = {name.strip().lower(): name for name in header}
        wkt = next((columns[n] for n in WKT_NAMES if n in columns), None)
        lon = next((columns[n] for n in LON_NAMES if n in columns), None)
        lat = next((columns[n] for n in LAT_NAMES if n in columns), None)
        if not wkt and not (lon and lat):
            raise ImportRefused(f"{label}: no coordinate columns; name them lon/lat (or x/y, kinh_do/vi_do) or wkt "
                                f"(columns found: {', '.join(header[:12])})")
        check = None if wkt else (header.index(lon), header.index(lat), lon, lat)
        for row_number, row in enumerate(reader, start=2):
            if check:
                _check_numeric(label, row_number, row, *check)
            writer.writerow(row)
    if wkt:
        # The WKT column becomes the geometry and is not kept as text (as the VRT did before).
        options = {"GEOM_POSSIBLE_NAMES": wkt, "KEEP_GEOM_COLUMNS": "NO"}
    else:
        options = {"X_POSSIBLE_NAMES": lon, "Y_POSSIBLE_NAMES": lat, "KEEP_GEOM_COLUMNS": "YES"}
    return CsvSource(target, {**options, "AUTODETECT_TYPE": "YES"})


def _check_numeric(label, row_number, row, lon_index, lat_index, lon, lat):
    if not any(cell.strip() for cell in row):
        return
    for index, name in ((lon_index, lon), (lat_index, lat)):
        value = row[index].strip() if index < len(row) else ""
        try:
            float(value)
        except ValueError:
            raise ImportRefused(f"{label}: row {row_number}, column {name}: {value!r} is not a number") from None
