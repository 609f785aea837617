"""What the admin's upload form and the REST API share: check an import request cheaply, save the upload,
queue the job; edit a dataset's metadata.

Everything that can be refused without reading the data is refused here, synchronously, with one precise
sentence, so a bad request never reaches the queue. What needs the data (formats, geometries, the CRS a file
declares) is the import job's to check (`layers.registry.services.import_vector_dataset`).
"""
import re
import shutil
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from layers.crs import UnknownCRS, parse_crs
from layers.loading.known_crs import ensure_known
from layers.jobs.queue import submit_import
from layers.loading import ImportRefused
from layers.loading.gdal_safety import ARCHIVE_SUFFIXES, accepted_driver, check_local_path
from layers.loading.encodings import LEGACY_ENCODINGS
from layers.models import Dataset, ImportJob
from layers.registry.selectors import manageable_datasets
from layers.registry.services import (  # noqa: F401 (RequestRefused is re-exported for the API and admin)
    GIVEN_METADATA,
    METADATA_FIELDS,
    REQUIRED_METADATA,
    DatasetMetadata,
    PermissionRefused,
    RequestRefused,
    can_modify,
    check_metadata_values,
    check_request,
    registry_changed,
)

AUTO = ("", "auto", "detect")  # "let the loader find out", for the CRS and the encoding


class UploadTooLarge(RequestRefused):
    """The upload is larger than SDI_MAX_UPLOAD_BYTES."""


class LengthRequired(RequestRefused):
    """The upload was sent without a Content-Length (chunked): its size cannot be checked before it is read."""


@dataclass(frozen=True)
class CheckedRequest:
    """An import request that passed every check that does not need the data."""

    slug: str
    metadata: DatasetMetadata
    srid: int | None
    encoding: str | None
    replace: bool


def upload_limit_text() -> str:
    return _size(settings.SDI_MAX_UPLOAD_BYTES)


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} kB"
    return f"{size / 1024 / 1024:.1f} MB".replace(".0 MB", " MB")


def check_upload_size(size: int | None) -> None:
    """Refuse a body or file larger than the limit; None (size unknown yet) passes."""
    if size is not None and size > settings.SDI_MAX_UPLOAD_BYTES:
        raise UploadTooLarge(f"the upload is {_size(size)}, larger than the limit of {upload_limit_text()} "
                             f"(SDI_MAX_UPLOAD_MB); put the file on the server and use source_path", field="file")


def content_length(meta: dict) -> int | None:
    try:
        return int(meta.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def required_content_length(meta: dict) -> int:
    """The body's declared size. Django reads no body without one (a chunked upload would arrive empty and be
    refused for its first missing field), and the size limit could not be checked before reading it."""
    size = content_length(meta)
    if size is None:
        raise LengthRequired("send the upload with a Content-Length header: chunked transfer encoding is not "
                             "supported (curl -F and requests set Content-Length themselves)", field="file")
    return size


def parse_keywords(value) -> list[str]:
    """A list, or one comma-separated string (what a form or `curl -F keywords=a,b` sends)."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return [k.strip() for item in items for k in str(item or "").split(",") if k.strip()]


def check_import_request(*, slug: str, metadata: DatasetMetadata, crs: str | int | None = None,
                         encoding: str | None = None, replace: bool = False, user=None,
                         require_existing: bool = True) -> CheckedRequest:
    """Everything about an import request that can be checked without reading the data.

    Raises RequestRefused (a bad request) or PermissionRefused (replacing someone else's dataset).
    """
    srid, encoding = _check_crs(crs), _check_encoding(encoding)
    check_request(slug, metadata, replace=replace, user=user, require_existing=require_existing)  # the slug last
    return CheckedRequest(slug, metadata, srid, encoding, replace)


def _check_crs(crs) -> int | None:
    if crs is None or str(crs).strip().lower() in AUTO:
        return None
    try:
        return ensure_known(parse_crs(crs))
    except UnknownCRS as exc:
        raise RequestRefused(str(exc), field="crs") from None


def _check_encoding(encoding) -> str | None:
    name = str(encoding or "").strip().lower()
    if name in AUTO:
        return None
    if name not in LEGACY_ENCODINGS:
        raise RequestRefused(f"unknown encoding {encoding!r} (choose auto or one of {', '.join(LEGACY_ENCODINGS)})",
                             field="encoding")
    return name


def metadata_for_replace(dataset: Dataset, given: dict) -> DatasetMetadata:
    """A replacement keeps the dataset's current metadata except what the request gives."""
    current = vars(DatasetMetadata.of(dataset))
    return DatasetMetadata(**{**current, **{k: v for k, v in given.items() if k in GIVEN_METADATA}})


def check_source_path(source_path: str, user) -> Path:
    """A file already on the server: superusers only (it can name any file the service may read); user None is
    the system itself (the command line, run by whoever may read the server's files anyway)."""
    if user is not None and not user.is_superuser:
        raise PermissionRefused("source_path: only superusers may import a file that is already on the server")
    try:
        check_local_path(source_path)
    except ImportRefused as exc:
        raise RequestRefused(f"source_path: {exc}", field="source_path") from None
    path = Path(source_path)
    if not path.is_absolute():
        raise RequestRefused(f"source_path {source_path!r} must be an absolute path on the server",
                             field="source_path")
    if not path.exists():
        raise RequestRefused(f"source_path {source_path!r} does not exist on the server", field="source_path")
    return path


def check_upload_format(client_name: str) -> None:
    """Refuse, before saving anything, a file whose suffix names no accepted format (VRT, GML, TAB…)."""
    name = re.split(r"[\\/]", client_name or "")[-1]
    saved_as = Path(safe_filename(name))  # the loader goes by the suffix of the saved name
    if saved_as.suffix.lower() in ARCHIVE_SUFFIXES:
        return
    try:
        accepted_driver(saved_as, name)
    except ImportRefused as exc:
        raise RequestRefused(str(exc), field="file") from None


def safe_filename(name: str) -> str:
    """The basename of a client's file name, in ASCII letters, digits, '.', '-' and '_', extension kept
    ("C:\\Users\\Thửa đất.ZIP" → "Thua_dat.ZIP"): GDAL and the loader go by the extension."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKD", base.replace("đ", "d").replace("Đ", "D"))
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", "".join(c for c in base if not unicodedata.combining(c)))
    stem, _, ext = base.rpartition(".") if "." in base else (base, "", "")
    stem = stem.strip("._-")[:100] or "upload"
    ext = ext.strip("_-")[:10]
    return f"{stem}.{ext}" if ext else stem


def save_upload(uploaded: UploadedFile) -> Path:
    """Keep an upload until the worker has imported it: SDI_UPLOAD_DIR/<uuid4>/<safe name>.

    The worker removes that folder when the job ends (layers.jobs.cleanup.remove_upload).
    """
    folder = Path(settings.SDI_UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    target = folder / safe_filename(uploaded.name)
    if hasattr(uploaded, "temporary_file_path"):  # large uploads are already on disk: move, don't copy
        shutil.move(uploaded.temporary_file_path(), target)
    else:
        with open(target, "wb") as out:
            for chunk in uploaded.chunks():
                out.write(chunk)
    return target


def queue_import(checked: CheckedRequest, *, user, upload: UploadedFile | None = None,
                 source_path: Path | None = None, layer: str | None = None, repair: bool = False,
                 queue: bool = True) -> ImportJob:
    """Save the upload (or take the server path) and queue the import for the worker (queue=False: record it
    for the caller to run at once, as the command line does)."""
    if (upload is None) == (source_path is None):
        raise RequestRefused("send exactly one of file (an upload) or source_path (a file on the server)",
                             field="file")
    if upload is not None:
        check_upload_size(upload.size)
        check_upload_format(upload.name)
    path = save_upload(upload) if upload is not None else source_path
    source = f"upload: {upload.name}" if upload is not None else str(path)  # a replacement records its new file
    metadata = DatasetMetadata(**{**vars(checked.metadata), "source": source})
    try:
        with transaction.atomic():
            return submit_import(path, slug=checked.slug, metadata=metadata, user=user, layer=layer or None,
                                 srid=checked.srid, encoding=checked.encoding, replace=checked.replace,
                                 repair=repair, uploaded=upload is not None, queue=queue)
    except BaseException:
        if upload is not None:
            shutil.rmtree(path.parent, ignore_errors=True)
        raise


def request_import(*, user, slug: str, metadata: dict, upload: UploadedFile | None = None,
                   source_path: str | None = None, crs=None, encoding=None, layer: str | None = None,
                   replace: bool = False, repair: bool = False, queue: bool = True,
                   create_missing: bool = False) -> ImportJob:
    """Check an import request, save its upload and queue it: the one entry of the admin form, the REST API and
    the command line. Nothing is recorded unless every check passes.

    `metadata` holds DatasetMetadata fields; a new dataset needs the required ones, a replacement keeps the
    current value of each field not given. `create_missing` (the command line's --replace) makes a replacement
    of a slug that does not exist yet a new dataset instead of a refusal.
    """
    server_path = check_source_path(source_path, user) if source_path else None
    # A dataset the user may not see is treated as absent, so its metadata cannot shape the answer.
    datasets = Dataset.objects.all() if user is None else manageable_datasets(user)
    existing = datasets.filter(slug=slug).select_related("sector", "agency").first() if replace else None
    if existing:
        full = metadata_for_replace(existing, metadata)
    else:
        missing = [name for name in REQUIRED_METADATA if not metadata.get(name)]
        if missing:
            raise RequestRefused(f"{missing[0]} is required for a new dataset", field=missing[0])
        full = DatasetMetadata(**{k: v for k, v in metadata.items() if k in GIVEN_METADATA})
    checked = check_import_request(slug=slug, metadata=full, crs=crs, encoding=encoding, replace=replace, user=user,
                                   require_existing=not create_missing)
    return queue_import(checked, user=user, upload=upload, source_path=server_path, layer=layer, repair=repair,
                        queue=queue)


# --- metadata edits ---------------------------------------------------------------------------------------------

EDITABLE_FIELDS = (*GIVEN_METADATA, "published")  # never what the loader measured, nor where the data came from
EDITABLE_RELATIONS = ("owners", "allowed_users", "allowed_groups")


def check_can_modify(user, dataset: Dataset, action: str = "change") -> None:
    if not can_modify(user, dataset):
        raise PermissionRefused(f"dataset {dataset.slug!r}: only its owners or a superuser may {action} it")


def update_metadata(dataset: Dataset, user, changes: dict) -> Dataset:
    """Change what an admin says about a dataset (never what the loader measured), then tell every worker.

    `owners`/`allowed_users` are lists of users, `allowed_groups` a list of groups; each replaces the old list.
    """
    check_can_modify(user, dataset)
    unknown = set(changes) - set(EDITABLE_FIELDS) - set(EDITABLE_RELATIONS)
    if unknown:
        raise RequestRefused(f"cannot change {', '.join(sorted(unknown))} here (editable: "
                             f"{', '.join(EDITABLE_FIELDS + EDITABLE_RELATIONS)})", field=sorted(unknown)[0])
    given = {name: changes[name] for name in GIVEN_METADATA if name in changes}
    check_metadata_values(given)
    model_values = DatasetMetadata(**{**vars(DatasetMetadata.of(dataset)), **given}).model_values()
    values = {name: model_values[name] for name in given}  # sector and agency as rows
    if "published" in changes:
        values["published"] = changes["published"]
    with transaction.atomic():
        for name, value in values.items():
            setattr(dataset, name, value)
        dataset.save()
        for name in EDITABLE_RELATIONS:
            if name in changes:
                getattr(dataset, name).set(changes[name])
        registry_changed()
    return dataset
