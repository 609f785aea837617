"""Reading a remote source (a file at a URL, an OGC API – Features collection, a WFS 2.0 feature type) into a
local file that the upload pipeline (layers.loading) then reads with an allow-listed GDAL driver.

The network is read by us, never by GDAL: every read has a timeout and a size cap, and a source that hangs,
answers garbage or grows past the cap fails the run with a message naming the source.
"""
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RemoteLimits:
    connect_timeout: float = 10.0      # seconds to open a connection
    read_timeout: float = 60.0         # seconds of silence before a read is given up
    total_timeout: float = 1800.0      # seconds for the whole download (every page of it)
    max_bytes: int = 2 * 1024**3       # bytes in all, over every page
    max_pages: int = 100_000           # `next` links followed at most (a server that links forever)


@dataclass(frozen=True)
class Downloaded:
    path: Path                # a local file layers.loading.prepare_source can read (GeoJSON, CSV, .zip, GML)
    srid: int | None          # the CRS of the coordinates in that file, when the protocol says it (None: read it from the file)
    label: str                # how messages name the source (its URL without credentials)
    features: int | None = None  # features read, when counted on the way (OGC API pages)


def download(kind: str, url: str, workdir: Path, *, srid: int | None = None, limits: RemoteLimits = RemoteLimits(),
             on_progress=None) -> Downloaded:
    """Fetch a remote source of `kind` ('file', 'ogcapi' or 'wfs') into `workdir`.

    Raises layers.sources.errors.SourceFailed naming the source (URL without credentials) and what went wrong.
    """
    raise NotImplementedError("remote sources are being built (issue 10)")
