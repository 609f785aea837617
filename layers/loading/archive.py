"""Unpack uploaded archives safely: no path traversal, no symbolic links, no zip bombs, and say what is missing."""
import stat
import zipfile
from pathlib import Path, PurePosixPath

from django.conf import settings

from layers.loading import ImportRefused
from layers.loading.gdal_safety import ACCEPTED_FORMATS, CHECKED_ARCHIVE_SUFFIXES, VECTOR_DRIVERS

# What may be loaded from inside an archive or a folder (no archive inside an archive).
VECTOR_SUFFIXES = tuple(suffix for suffix in VECTOR_DRIVERS if suffix not in CHECKED_ARCHIVE_SUFFIXES)
MAX_COMPRESSION_RATIO = 200  # real shapefiles compress ~3-20×; a bomb compresses thousands of times


def unpack_zip(archive: Path, into: Path) -> Path:
    """Extract `archive` into `into` and return the one vector file it holds (or refuse, saying why)."""
    extract_zip(archive, into)
    return _single_vector_file(archive.name, into)


def extract_zip(archive: Path, into: Path) -> None:
    """Extract `archive` into `into`, refusing traversal, symbolic links and bombs (measured, not trusted)."""
    label = archive.name
    try:
        with zipfile.ZipFile(archive) as bundle:
            _refuse_links(label, bundle.infolist())
            members = [m for m in bundle.infolist() if not m.is_dir()]
            _check_members(label, members)
            for member in members:
                _extract(bundle, member, into, label)
    except zipfile.BadZipFile as exc:
        raise ImportRefused(f"{label}: not a readable zip archive ({exc})") from None


def _refuse_links(label: str, members: list[zipfile.ZipInfo]) -> None:
    """A symbolic link entry would point GDAL at files outside the upload, so the archive is refused."""
    for member in members:
        if stat.S_ISLNK(member.external_attr >> 16):
            raise ImportRefused(f"{label}: refused, entry {member.filename!r} is a symbolic link; "
                                "put the files themselves in the archive")


def _extract(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, into: Path, label: str) -> None:
    target = into / PurePosixPath(member.filename)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with bundle.open(member) as source, open(target, "wb") as sink:
            _copy_bounded(source, sink, member, label)
    except OSError as exc:  # e.g. an entry named like a file that another entry needs as a folder
        raise ImportRefused(f"{label}: refused, entry {member.filename!r} cannot be unpacked "
                            f"({exc.strerror or exc.__class__.__name__})") from None


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
        raise ImportRefused(f"{label}: holds no file in an accepted format (found: {', '.join(names[:8]) or 'nothing'}; "
                            f"accepted: {ACCEPTED_FORMATS})")
    if len(found) > 1:
        raise ImportRefused(f"{label}: holds several datasets ({', '.join(p.name for p in found[:8])}); upload one per archive")
    return found[0]
