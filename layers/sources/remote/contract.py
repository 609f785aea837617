"""What `download()` takes (the limits of every remote read) and what it gives back (a local file to load)."""
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RemoteLimits:
    connect_timeout: float = 10.0      # seconds to open a connection
    read_timeout: float = 60.0         # seconds of silence before a read is given up
    total_timeout: float = 1800.0      # seconds for the whole download (every page of it)
    max_bytes: int = 2 * 1024**3       # bytes in all, over every page (counted after gzip is undone)
    max_pages: int = 100_000           # `next` links followed at most (a server that links forever)
    page_size: int = 10_000            # features asked per page (a server may send fewer; ours caps at 10,000)
    max_redirects: int = 5             # redirects followed per request, each one checked like the first URL


@dataclass(frozen=True)
class Downloaded:
    path: Path                # a local file layers.loading.prepare_source can read (GeoJSON, CSV, .zip)
    srid: int | None          # the CRS of the coordinates in that file, when the protocol says it (None: read it from the file)
    label: str                # how messages name the source (its URL without credentials)
    features: int | None = None  # features read, when counted on the way (OGC API and WFS pages)
