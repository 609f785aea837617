"""One GeoJSON FeatureCollection written feature by feature, so paged sources never sit in memory whole.

GDAL's GeoJSONSeq driver (one feature a line) would be simpler to append to, but it is not in the upload
allow-list (layers.loading.gdal_safety); a FeatureCollection is, and the loader reads it as an upload.
"""
import json
from pathlib import Path


class FeatureCollectionWriter:
    """Append features from pages to `path`; `close()` ends the collection. Counts what it wrote."""

    def __init__(self, path: Path):
        self.path = path
        self.count = 0
        self._out = open(path, "w", encoding="utf-8")
        self._out.write('{"type":"FeatureCollection","features":[\n')

    def write(self, feature) -> None:
        self._out.write(",\n" if self.count else "")
        self._out.write(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
        self.count += 1

    def close(self) -> None:
        if not self._out.closed:
            self._out.write("\n]}\n")
            self._out.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def page_features(page, fail, where: str) -> list:
    """The features of a GeoJSON page, or a failure saying what the page is instead."""
    if not isinstance(page, dict) or page.get("type") != "FeatureCollection" or not isinstance(page.get("features"), list):
        kind = page.get("type") if isinstance(page, dict) else type(page).__name__
        raise fail(f"answered JSON that is not a GeoJSON FeatureCollection (type {kind!r})", where)
    for number, feature in enumerate(page["features"], 1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise fail(f"feature {number} of the page is not a GeoJSON Feature", where)
    return page["features"]
