"""Names for features that a person can find in their own file: its key column or the source's own feature id,
with GDAL's row number (1 = the first feature GDAL read, which is also the staging table's `fid`).

ogr2ogr numbers the staging rows in the order GDAL reads them, so a GeoJSON feature's integer `id` or a
GeoPackage's own fid is not kept; it is read back from the source for the few features a message names.
"""
import ctypes
from pathlib import Path

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.gdal.libgdal import lgdal
from django.db import connection
from psycopg import sql

from layers.loading import ImportRefused
from layers.loading.gdal_safety import network_off, open_vector
from layers.loading.inspect import SourceLayer

# Columns that usually identify a feature in the city's files, most telling first (matched ignoring case).
KEY_COLUMNS = ("id", "objectid", "fid", "ma_thua", "ma", "gid")
# Drivers whose feature id is the file's own (GeoJSON "id" members, a GeoPackage's primary key).
OWN_ID_DRIVERS = ("GeoJSON", "GPKG")

_set_next_by_index = lgdal.OGR_L_SetNextByIndex
_set_next_by_index.restype, _set_next_by_index.argtypes = ctypes.c_int, [ctypes.c_void_p, ctypes.c_int64]
_next_feature = lgdal.OGR_L_GetNextFeature
_next_feature.restype, _next_feature.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
_feature_fid = lgdal.OGR_F_GetFID
_feature_fid.restype, _feature_fid.argtypes = ctypes.c_int64, [ctypes.c_void_p]
_destroy_feature = lgdal.OGR_F_Destroy
_destroy_feature.restype, _destroy_feature.argtypes = None, [ctypes.c_void_p]
_fid_column = lgdal.OGR_L_GetFIDColumn
_fid_column.restype, _fid_column.argtypes = ctypes.c_char_p, [ctypes.c_void_p]


def key_column(columns: list[dict]) -> str | None:
    """The attribute column that identifies features, if the source has one of KEY_COLUMNS."""
    by_lower = {c["name"].lower(): c["name"] for c in columns}
    return next((by_lower[k] for k in KEY_COLUMNS if k in by_lower), None)


def _shown(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


class FeatureNames:
    """Names the rows of one staging table, e.g. "ma_thua 1002 (feature 7)", "id 42 (feature 2)", "feature 3"."""

    def __init__(self, table: sql.Composable, columns: list[dict], source: SourceLayer | None = None):
        self.table, self.key, self.source = table, key_column(columns), source

    def __call__(self, rows: list[int]) -> list[str]:
        own = self._key_values(rows) if self.key else self._source_ids(rows)
        return [f"{own[row]} (feature {row})" if own.get(row) else f"feature {row}" for row in rows]

    def _key_values(self, rows: list[int]) -> dict[int, str]:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("SELECT fid, {k} FROM {t} WHERE fid = ANY(%s) AND {k} IS NOT NULL").format(
                k=sql.Identifier(self.key), t=self.table), (list(rows),))
            return {fid: f"{self.key} {_shown(value)}" for fid, value in cursor.fetchall()}

    def _source_ids(self, rows: list[int]) -> dict[int, str]:
        """The source's own feature ids at these rows; a mere position (0- or 1-based) is no id of its own."""
        if self.source is None or self.source.driver not in OWN_ID_DRIVERS or not rows:
            return {}
        path = Path(self.source.path)
        found = {}
        with network_off():
            try:
                layer = open_vector(path, path.name, dict(self.source.open_options))[self.source.layer_name]
            except (ImportRefused, GDALException):  # it was read a moment ago; a name is not worth a new refusal
                return {}
            name = "id" if self.source.driver == "GeoJSON" else (_fid_column(layer.ptr) or b"fid").decode()
            for row in sorted(set(rows)):
                if _set_next_by_index(layer.ptr, row - 1) != 0:
                    break
                feature = _next_feature(layer.ptr)
                if not feature:
                    break
                fid = _feature_fid(feature)
                _destroy_feature(feature)
                if fid not in (row - 1, row):
                    found[row] = f"{name} {fid}"
        return found
