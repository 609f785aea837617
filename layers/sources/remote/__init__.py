"""Reading a remote source (a file at a URL, an OGC API – Features collection, a WFS 2.0 feature type) into a
local file that the upload pipeline (layers.loading) then reads with an allow-listed GDAL driver.

The network is read by us, never by GDAL: every read has a timeout and a size cap, and a source that hangs,
answers garbage or grows past the cap fails the run with a message naming the source. One module per job:
`http` (every request: schemes, redirects, limits, secrets), `files`, `ogcapi`, `wfs` (one per kind) and
`collection` (the GeoJSON file that paged kinds write into). docs/sources-remote.md says what each does.
"""
import logging
from pathlib import Path

from layers.sources.errors import SourceFailed
from layers.sources.remote.contract import Downloaded, RemoteLimits
from layers.sources.remote.files import download_file
from layers.sources.remote.http import Fetcher, Progress, SourceUnreachable, parse_source_url
from layers.sources.remote.ogcapi import download_collection
from layers.sources.remote.wfs import download_feature_type

__all__ = ["Downloaded", "RemoteLimits", "SourceUnreachable", "download", "KINDS"]

log = logging.getLogger("layers.sources.remote")

KINDS = {"file": download_file, "ogcapi": download_collection, "wfs": download_feature_type}


def download(kind: str, url: str, workdir: Path, *, srid: int | None = None, limits: RemoteLimits = RemoteLimits(),
             on_progress: Progress | None = None) -> Downloaded:
    """Fetch a remote source of `kind` ('file', 'ogcapi' or 'wfs') into `workdir`.

    `srid` is the CRS wanted (ogcapi, wfs: asked for when the server offers it) or declared (file: passed on).
    `on_progress(done, total, unit)` is called as data arrives: bytes ("B") for a file, features ("features",
    total = numberMatched when the server says it) for paged kinds. The caller owns `workdir` and removes it.
    Raises layers.sources.errors.SourceFailed naming the source (URL without credentials) and what went wrong;
    its subclass SourceUnreachable when the network failed (refused, cut, timed out), which may pass later.
    """
    source = parse_source_url(url)
    if kind not in KINDS:
        raise SourceFailed(f"{source.label}: unknown kind of source {kind!r} (choose {', '.join(KINDS)})")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    fetcher = Fetcher(source, limits, on_progress)
    log.info("reading the %s source %s", kind, source.label)
    try:
        result = KINDS[kind](fetcher, workdir, srid)
    except SourceFailed as exc:
        log.warning("%s", exc)
        raise
    finally:
        fetcher.close()
    log.info("read %s: %d bytes%s", source.label, fetcher.bytes_read,
             f", {result.features} features" if result.features is not None else "")
    return result
