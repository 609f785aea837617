"""Unpack uploaded archives safely: no path traversal, no zip bombs, and say what is missing."""
import zipfile
from pathlib import Path, PurePosixPath

from django.conf import settings

from layers.loading import ImportRefused

VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".kml", ".csv", ".fgb", ".gml", ".tab", ".mif")
MAX_COMPRESSION_RATIO = 200  # real shapefiles compress ~3-20×; a bomb compresses thousands of times


def unpack_zip(archive: Path, into: Path) -> Path:
    """Extract `archive` into `into` and return the one vector file it holds (or refuse, saying why)."""
    label = archive.name
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = [m for m in bundle.infolist() if not m.is_dir()]
            _check_members(label, members)
            for member in members:
                target = into / PurePosixPath(member.filename)
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source, open(target, "wb") as sink:
                    _copy_bounded(source, sink, member, label)
    except zipfile.BadZipFile as exc:
        raise ImportRefused(f"{label}: not a readable zip archive ({exc})") from None
    return _single_vector_file(label, into)


def _check_members(label: str, members: list[zipfile.ZipInfo]) -> None:
    limit = settings.SDI_MAX_UNCOMPRESSED_BYTES
    total = 0
    for member in members:
        path = PurePosixPath(member.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or member.filename.startswith(("/", "\\")) or ":" in path.parts[0]:
            raise ImportRefused(f"{label}: refused, entry {member.filename!r} would be written outside the upload folder")
        if member.compress_size and member.file_size / member.compress_size > MAX_COMPRESSION_RATIO:
            raise ImportRefused(f"{label}: refused, entry {member.filename!r} expands {member.file_size // member.compress_size}× "
                                "(zip bomb?)")
        total += member.file_size
    if total > limit:
        raise ImportRefused(f"{label}: refused, it expands to {total / 1e6:.0f} MB, over the {limit / 1e6:.0f} MB limit "
                            "(SDI_MAX_UNCOMPRESSED_MB)")


def _copy_bounded(source, sink, member: zipfile.ZipInfo, label: str) -> None:
    """Copy, trusting the data, not the header: stop when more comes out than the entry declared."""
    written = 0
    while chunk := source.read(1 << 20):
        written += len(chunk)
        if written > member.file_size:
            raise ImportRefused(f"{label}: refused, entry {member.filename!r} is larger than its header says")
        sink.write(chunk)


def _single_vector_file(label: str, folder: Path) -> Path:
    found = sorted(p for p in folder.rglob("*") if p.suffix.lower() in VECTOR_SUFFIXES and p.is_file())
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    shapefile_parts = [p for p in folder.rglob("*") if p.suffix.lower() in (".dbf", ".shx", ".prj")]
    if not found:
        if shapefile_parts:
            raise ImportRefused(f"{label}: has no .shp file (found: {', '.join(names[:8])}); a shapefile needs .shp, .shx and .dbf")
        raise ImportRefused(f"{label}: holds no vector file GDAL can load (found: {', '.join(names[:8]) or 'nothing'})")
    if len(found) > 1:
        raise ImportRefused(f"{label}: holds several datasets ({', '.join(p.name for p in found[:8])}); upload one per archive")
    return found[0]
