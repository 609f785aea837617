"""The one rule for letting GDAL read a file we did not make (uploads, server paths; later rasters and harvests).

GDAL picks its driver from a file's content, and many drivers follow what the file says: a VRT opens any
datasource (`PG:` connection strings, `CSV:/etc/…`, `/vsicurl/http://…`), GML fetches schemas, a GeoJSON
"link" CRS is fetched over HTTP. So a file is read only under three rules:

1. Its suffix names the ONE driver allowed to open it (`VECTOR_DRIVERS`); GDAL may not try any other.
   Formats that can reference other files, databases or URLs (VRT, GML, MapInfo TAB views and seamless
   tables…) have no entry, so they are refused.
2. The path is a plain local path: never `/vsi…`, never a `DRIVER:` connection prefix.
3. GDAL's network access is off while it reads (`NETWORK_OFF`), and a GeoPackage's views and triggers may not
   call OGR's SQL functions.

In-process reads go through `open_vector`: GDALOpenEx with an allowed-driver list, called through the libgdal
Django has already loaded. The GDAL Python bindings would do the same but come from PyPI only as a source
package that must be compiled against the exact system GDAL at every install, for the few calls we need.
`ogr2ogr` in Debian's GDAL 3.6 has no `-if`, so `subprocess_env` hides every other driver from it with
GDAL_SKIP, which GDAL applies when it registers its drivers.
"""
import ctypes
import re
from contextlib import contextmanager
from pathlib import Path

from django.contrib.gis.gdal import DataSource, Driver, GDALException
from django.contrib.gis.gdal.libgdal import lgdal
from django.contrib.gis.gdal.prototypes import ds as capi

from layers.loading import ImportRefused

VECTOR_DRIVERS = {  # suffix -> the only GDAL driver that may open it
    ".shp": "ESRI Shapefile",
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".kml": "LIBKML",  # see KML below
    ".kmz": "LIBKML",
    ".csv": "CSV",
    ".fgb": "FlatGeobuf",
    ".mif": "MapInfo File",  # MIF/MID is plain text; a .tab can be a view or seamless table over other files
}
# KML and KMZ are read by LIBKML: GDAL 3.6's plain KML driver drops every attribute (ExtendedData). LIBKML
# follows a KMZ's NetworkLinks only to files inside that same archive (read from the zip, never from disk),
# and on a .kml it follows none and fetches no style. A KMZ is first unpacked by our own checked unzipper
# (layers.loading.archive: no traversal, links or bombs) before LIBKML may open it, and network access is
# off (tests/test_upload_security.py checks all of this).
ARCHIVE_SUFFIXES = (".zip",)  # unpacked by layers.loading.archive, never opened by GDAL
CHECKED_ARCHIVE_SUFFIXES = (".kmz",)  # unpacked by us as a check, then opened by its driver
ACCEPTED_FORMATS = ("zipped Shapefile (.zip), GeoPackage (.gpkg), GeoJSON (.geojson, .json), KML (.kml), "
                    "KMZ (.kmz), CSV (.csv), FlatGeobuf (.fgb), MapInfo MIF/MID (.mif)")
OUTPUT_DRIVER = "PostgreSQL"  # what ogr2ogr writes to

BLOCKED_PROXY = "blocked://gdal-network-access-is-off"  # curl refuses an unknown proxy scheme before connecting
NETWORK_OFF = {
    "GDAL_HTTP_PROXY": BLOCKED_PROXY,
    "GDAL_HTTPS_PROXY": BLOCKED_PROXY,
    "GDAL_HTTP_MAX_RETRY": "0",
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/nonexistent/gdal-network-access-is-off",  # no /vsicurl/, /vsis3/ … file
    "CPL_ALLOW_VSISTDIN": "NO",
    "ALLOW_OGR_SQL_FUNCTIONS_FROM_TRIGGER_AND_VIEW": "NO",  # GPKG: views calling ogr_* functions are refused
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",  # GDAL >= 3.7's switch for VirtualOGR & co (the default, made sure)
    "PROJ_NETWORK": "OFF",  # no CDN grid downloads
    "LIBKML_RESOLVE_STYLE": "NO",  # the default: styleUrl links are not followed
}
BYPASS_ENV = ("no_proxy", "NO_PROXY")  # curl would skip the blocking proxy for the hosts they list
CONNECTION_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_ .-]*:")  # PG:, CSV:, GPKG:, WFS:, http:, C: …


def accepted_driver(path: Path, label: str) -> str:
    """The one driver allowed to read `path`, or a refusal naming the file and the accepted formats."""
    driver = VECTOR_DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise ImportRefused(f"{label}: {path.suffix or 'a file without a suffix'} is not an accepted format "
                            f"(accepted: {ACCEPTED_FORMATS}; formats that can reference other files, databases "
                            "or URLs, such as .vrt, .gml or MapInfo .tab, are refused)")
    return driver


def check_local_path(path: str | Path) -> None:
    """Refuse a GDAL virtual file system path or a connection string: only plain local files are read.

    The string is not echoed back: a connection string can hold a password.
    """
    text = str(path)
    if text.lower().startswith("/vsi") or CONNECTION_PREFIX.match(text) or "\0" in text:
        raise ImportRefused("the source must be a plain file or folder on this server (no /vsi… paths, "
                            "connection strings such as PG: or CSV:, or URLs)")


def public_message(text: str) -> str:
    """GDAL's words without server paths: every absolute path is cut to its file name."""
    return re.sub(r"(?<![\w:])/(?:[^\s'\"`(),;]+/)+([^\s'\"`(),;/]*)", r"\1", text)


# --- in-process reading ---------------------------------------------------------------------------------------

class _HTTPResult(ctypes.Structure):
    """GDAL's CPLHTTPResult (cpl_http.h), so the fetch callback can answer "failed" instead of fetching."""
    _fields_ = [("nStatus", ctypes.c_int), ("pszContentType", ctypes.c_void_p), ("pszErrBuf", ctypes.c_void_p),
                ("nDataLen", ctypes.c_int), ("nDataAlloc", ctypes.c_int), ("pabyData", ctypes.c_void_p),
                ("papszHeaders", ctypes.c_void_p), ("nMimePartCount", ctypes.c_int), ("pasMimePart", ctypes.c_void_p)]


_FETCH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p,
                                   ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_calloc = lgdal.CPLCalloc
_calloc.restype, _calloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t, ctypes.c_size_t]
_strdup = lgdal.CPLStrdup
_strdup.restype, _strdup.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
_set_local_config = lgdal.CPLSetThreadLocalConfigOption
_set_local_config.restype, _set_local_config.argtypes = None, [ctypes.c_char_p, ctypes.c_char_p]
_get_local_config = lgdal.CPLGetThreadLocalConfigOption
_get_local_config.restype, _get_local_config.argtypes = ctypes.c_char_p, [ctypes.c_char_p, ctypes.c_char_p]
_push_fetch = lgdal.CPLHTTPPushFetchCallback
_push_fetch.restype, _push_fetch.argtypes = ctypes.c_int, [_FETCH_CALLBACK, ctypes.c_void_p]
_pop_fetch = lgdal.CPLHTTPPopFetchCallback
_pop_fetch.restype, _pop_fetch.argtypes = ctypes.c_int, []
_last_error = lgdal.CPLGetLastErrorMsg
_last_error.restype, _last_error.argtypes = ctypes.c_char_p, []
_reset_error = lgdal.CPLErrorReset
_reset_error.restype, _reset_error.argtypes = None, []


@_FETCH_CALLBACK
def _refuse_fetch(url, options, progress, progress_arg, write, write_arg, user_data):
    """Every CPLHTTPFetch in this thread fails at once (a NULL answer would let GDAL fetch after all)."""
    result = _calloc(1, ctypes.sizeof(_HTTPResult))  # GDAL frees it with CPLHTTPDestroyResult
    answer = _HTTPResult.from_address(result)
    answer.nStatus = 1
    answer.pszErrBuf = _strdup(b"network access is off while reading an uploaded file")
    return result


@contextmanager
def network_off():
    """GDAL calls made by this thread inside the block cannot reach the network (see NETWORK_OFF)."""
    previous = {key: _get_local_config(key.encode(), None) for key in NETWORK_OFF}
    for key, value in NETWORK_OFF.items():
        _set_local_config(key.encode(), value.encode())
    _push_fetch(_refuse_fetch, None)
    try:
        yield
    finally:
        _pop_fetch()
        for key, value in previous.items():
            _set_local_config(key.encode(), value)


def open_vector(path: Path, label: str, open_options: dict | None = None) -> DataSource:
    """Open `path` read-only with the one driver its suffix allows; call inside `network_off()`."""
    check_local_path(path)
    driver = accepted_driver(path, label)
    allowed = (ctypes.c_char_p * 2)(driver.encode(), None)
    pairs = [f"{key}={value}".encode() for key, value in (open_options or {}).items()]
    options = (ctypes.c_char_p * (len(pairs) + 1))(*pairs, None)
    Driver.ensure_registered()
    _reset_error()
    try:
        handle = capi.open_ds(str(path).encode(), capi.GDAL_OF_VECTOR | capi.GDAL_OF_READONLY, allowed, options, None)
    except GDALException:
        said = (_last_error() or b"").decode("utf-8", "replace").strip().splitlines()
        reason = public_message(said[0]) if said else "unreadable"
        raise ImportRefused(f"{label}: GDAL cannot read it as {driver} data ({reason})") from None
    source = DataSource(handle, ds_driver=capi.get_dataset_driver(handle))
    if source.driver.name != driver:  # cannot happen with the allow-list; checked because it is the whole point
        raise ImportRefused(f"{label}: was opened by GDAL's {source.driver.name} driver, not {driver}; refused")
    return source


# --- ogr2ogr --------------------------------------------------------------------------------------------------

def subprocess_env(base: dict, input_driver: str) -> dict:
    """The environment for an ogr2ogr/ogrinfo reading with `input_driver`: every other driver skipped, network off."""
    Driver.ensure_registered()
    keep = {input_driver, OUTPUT_DRIVER}
    skipped = [Driver(i).name for i in range(capi.get_driver_count())]
    env = {key: value for key, value in base.items() if key not in BYPASS_ENV}
    env.update(NETWORK_OFF)
    env["GDAL_SKIP"] = ",".join(name for name in skipped if name not in keep)  # commas: names hold spaces
    return env
