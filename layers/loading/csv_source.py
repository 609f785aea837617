"""CSV with lon/lat or WKT columns → a GDAL VRT, after checking that the coordinates are numbers.

GDAL alone turns a coordinate cell holding text into a NULL geometry without a word; we read the columns
first so the admin is told which row and column are wrong.
"""
import csv
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from layers.loading import ImportRefused

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "kinh_do", "kinhdo", "kinh do", "easting")
LAT_NAMES = ("lat", "latitude", "y", "vi_do", "vido", "vi do", "northing")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "shape")


def csv_as_vrt(csv_path: Path, srid: int, workdir: Path) -> Path:
    """Write a VRT that reads `csv_path` (UTF-8) as a point or WKT layer in `srid`; refuse bad coordinates."""
    label = csv_path.name
    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        sample = handle.read(64 * 1024)
        handle.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(handle, dialect)
        header = next(reader, None)
        if not header:
            raise ImportRefused(f"{label}: is empty")
        columns = {name.strip().lower(): name for name in header}
        wkt = next((columns[n] for n in WKT_NAMES if n in columns), None)
        lon = next((columns[n] for n in LON_NAMES if n in columns), None)
        lat = next((columns[n] for n in LAT_NAMES if n in columns), None)
        if not wkt and not (lon and lat):
            raise ImportRefused(f"{label}: no coordinate columns; name them lon/lat (or x/y, kinh_do/vi_do) or wkt "
                                f"(columns found: {', '.join(header[:12])})")
        if not wkt:
            _check_numeric(label, reader, header.index(lon), header.index(lat), lon, lat)
    layer = csv_path.stem
    if wkt:
        geometry = f'<GeometryField encoding="WKT" field={quoteattr(wkt)} reportSrcColumn="false"/>'
    else:
        geometry = f'<GeometryField encoding="PointFromColumns" x={quoteattr(lon)} y={quoteattr(lat)}/>'
    vrt = workdir / f"{layer}.vrt"
    vrt.write_text(
        "<OGRVRTDataSource>\n"
        f"  <OGRVRTLayer name={quoteattr(layer)}>\n"
        f"    <SrcDataSource relativeToVRT=\"0\">{escape(str(csv_path))}</SrcDataSource>\n"
        "    <OpenOptions><OOI key=\"AUTODETECT_TYPE\">YES</OOI><OOI key=\"GEOM_POSSIBLE_NAMES\">-</OOI></OpenOptions>\n"
        f"    <SrcLayer>{escape(layer)}</SrcLayer>\n"
        f"    <LayerSRS>EPSG:{srid}</LayerSRS>\n"
        f"    {geometry}\n"
        "  </OGRVRTLayer>\n"
        "</OGRVRTDataSource>\n",
        encoding="utf-8",
    )
    return vrt


def _check_numeric(label, reader, lon_index, lat_index, lon, lat):
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        for index, name in ((lon_index, lon), (lat_index, lat)):
            value = row[index].strip() if index < len(row) else ""
            try:
                float(value)
            except ValueError:
                raise ImportRefused(f"{label}: row {row_number}, column {name}: {value!r} is not a number") from None
