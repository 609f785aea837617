"""A GeoJSON, CSV or zipped Shapefile at a URL, streamed to disk under the suffix the loader needs.

The suffix comes from the URL's path when it names one of these formats, else from the Content-Type (or a
Content-Disposition file name). The start of the file is then checked, so an HTML error page, a login page or
other garbage fails the run here with a message saying what came, instead of reaching GDAL.
"""
import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from layers.sources.remote.contract import Downloaded
from layers.sources.remote.http import HTML_TYPES, Fetcher, media_type

FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".csv": "CSV", ".zip": "a zipped Shapefile"}
SUFFIX_BY_TYPE = {
    "application/geo+json": ".geojson", "application/vnd.geo+json": ".geojson", "application/json": ".geojson",
    "text/csv": ".csv", "application/csv": ".csv",
    "application/zip": ".zip", "application/x-zip-compressed": ".zip", "application/x-zip": ".zip",
}
ACCEPT = "application/geo+json, application/json;q=0.9, text/csv;q=0.9, application/zip;q=0.9, */*;q=0.1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def download_file(fetcher: Fetcher, workdir: Path, srid: int | None) -> Downloaded:
    url_name = PurePosixPath(unquote(urlsplit(fetcher.source.url).path)).name
    partial = workdir / "download.part"
    response = fetcher.save(fetcher.source.url, ACCEPT, partial)
    media = media_type(response)
    suffix = _suffix(url_name, media, response.headers.get("Content-Disposition", ""))
    expected = FORMATS.get(suffix, "GeoJSON, CSV or a zipped Shapefile")
    if media in HTML_TYPES:
        raise fetcher.failure(f"answered {media}, not {expected}")
    if suffix is None:
        raise fetcher.failure(f"answered {media or 'no Content-Type'} and its URL names no .geojson, .json, .csv "
                              "or .zip file, so its format is unknown")
    problem = _content_problem(partial, suffix)
    if problem:
        raise fetcher.failure(f"{problem}, not {expected}")
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", PurePosixPath(url_name).stem).strip("._")[:80] or "source"
    path = workdir / f"{stem}{suffix}"
    partial.replace(path)
    return Downloaded(path, srid, fetcher.source.label)


def _suffix(url_name: str, media: str, disposition: str) -> str | None:
    suffix = PurePosixPath(url_name).suffix.lower()
    if suffix in FORMATS:
        return suffix
    named = re.search(r'filename="?([^";]+)"?', disposition)
    if named and PurePosixPath(named.group(1)).suffix.lower() in FORMATS:
        return PurePosixPath(named.group(1)).suffix.lower()
    return SUFFIX_BY_TYPE.get(media)


def _content_problem(path: Path, suffix: str) -> str | None:
    """What is wrong with the downloaded bytes for `suffix`, judged from the start and end of the file."""
    size = path.stat().st_size
    if size == 0:
        return "answered an empty file"
    with open(path, "rb") as f:
        head = f.read(4096)
        f.seek(max(0, size - 64))
        tail = f.read()
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    markup = start[:1] == b"<"
    if suffix == ".zip":
        if head.startswith(ZIP_MAGIC):
            return None
        return "answered HTML or XML" if markup else "answered a file that is not a zip archive"
    if suffix in (".geojson", ".json"):
        if markup:
            return "answered HTML or XML"
        if start[:1] != b"{":
            return "answered a file that is not a JSON object"
        if not tail.rstrip().endswith(b"}"):
            return "answered JSON that is cut off (it does not end with '}')"
        return None
    if markup and re.match(rb"<(!doctype|html|\?xml)", start[:20], re.IGNORECASE):
        return "answered HTML or XML"
    if b"\0" in head:
        return "answered binary data"
    return None
