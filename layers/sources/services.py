"""Registering, changing, deleting and running sources: the one service behind the admin, REST and command line.

Like layers.registry.registration: everything that can be refused without reaching the source is refused here,
first, in one precise sentence naming the field; only then is anything recorded.
"""
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from layers.crs import UnknownCRS, parse_crs
from layers.loading.known_crs import ensure_known
from layers.models import Dataset
from layers.registry.services import (GIVEN_METADATA, DatasetMetadata, PermissionRefused, RequestRefused,
                                      can_modify, check_metadata_values, check_slug)
from layers.sources import credentials
from layers.sources.remote.http import public_url  # a URL as it may be shown: no password, no token
from layers.sources.models import Source, SourceRun

EVERY_RE = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
EVERY_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
IDENTIFIER_RE = re.compile(r"^[^\x00\"]{1,63}$")
DEFAULT_LICENCE = "Giấy phép của đơn vị cung cấp dữ liệu / the providing agency's licence"
EDITABLE = ("url", "dsn", "table", "key_field", "every", "srid", "enabled", "metadata")


@dataclass(frozen=True)
class CheckedSource:
    """A source request that passed every check that does not need the source itself."""

    slug: str
    kind: str
    url: str
    dsn: str
    secret: str
    table: str
    key_field: str
    every: timedelta | None
    srid: int | None
    metadata: dict


def can_manage_sources(user) -> bool:
    """Superusers, and users given the add or change source permission (user None: the command line)."""
    return user is None or user.is_superuser or user.has_perm("layers.add_source") or \
        user.has_perm("layers.change_source")


def check_can_manage(user) -> None:
    if not can_manage_sources(user):
        raise PermissionRefused("only superusers and users with the add/change source permission may register or "
                                "run sources")


def parse_every(value) -> timedelta | None:
    """'15m', '1h', '1d' (empty: no schedule, runs only by hand)."""
    if value in (None, ""):
        return None
    if isinstance(value, timedelta):
        every = value
    else:
        match = EVERY_RE.match(str(value))
        if not match:
            raise RequestRefused(f"every {value!r}: write a duration like 15m, 1h or 1d", field="every")
        every = timedelta(**{EVERY_UNITS[match.group(2)]: int(match.group(1))})
    if every < timedelta(minutes=1):
        raise RequestRefused(f"every {value!r}: a source runs at most once a minute", field="every")
    return every


def format_every(every: timedelta | None) -> str:
    if every is None:
        return ""
    minutes = int(every.total_seconds() // 60)
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def parse_table(value: str) -> tuple[str, str]:
    """'schema.table' (or a bare table, in public) → (schema, table); quoted names are not needed."""
    schema, _, table = (value or "").strip().rpartition(".")
    schema = schema or "public"
    if not table or not IDENTIFIER_RE.match(schema) or not IDENTIFIER_RE.match(table):
        raise RequestRefused(f"table {value!r}: write SCHEMA.TABLE (the table or view to read)", field="table")
    return schema, table


def _check_srid(crs) -> int | None:
    if crs in (None, ""):
        return None
    try:
        return ensure_known(parse_crs(crs))
    except UnknownCRS as exc:
        raise RequestRefused(str(exc), field="crs") from None


def _check_url(url: str, kind: str) -> str:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RequestRefused(f"url: a {kind} source needs an http:// or https:// URL", field="url")
    return url


def check_source_request(*, user, slug: str, kind: str | None = None, url: str = "", dsn: str = "",
                         table: str = "", key: str = "", every=None, crs=None, metadata: dict | None = None) -> CheckedSource:
    """Everything about a new source that can be checked without reaching it. Raises RequestRefused naming the
    field, or PermissionRefused."""
    check_can_manage(user)
    check_slug(slug)
    kind = kind or (Source.Kind.POSTGRES if dsn else Source.Kind.FILE)
    if kind not in Source.Kind.values:
        raise RequestRefused(f"kind {kind!r}: choose one of {', '.join(Source.Kind.values)}", field="kind")
    secret = ""
    if kind == Source.Kind.POSTGRES:
        if url:
            raise RequestRefused("a PostgreSQL source takes --postgres DSN and --table, not a URL", field="url")
        if not dsn:
            raise RequestRefused("dsn: a PostgreSQL source needs a connection string", field="dsn")
        schema, name = parse_table(table)
        table = f"{schema}.{name}"
        dsn, password = credentials.split_dsn(dsn)
        secret = credentials.encrypt(password)
    else:
        if dsn or table:
            raise RequestRefused(f"a {kind} source takes a URL, not a PostgreSQL connection", field="dsn")
        url = _check_url(url, kind)
    if key and not IDENTIFIER_RE.match(key):
        raise RequestRefused(f"key {key!r} is not a column name", field="key")
    every, srid = parse_every(every), _check_srid(crs)
    metadata = _check_metadata(slug, metadata or {}, user)
    if Source.objects.filter(slug=slug).exists():
        raise RequestRefused(f"dataset {slug!r} already has a source (change or delete that one)", field="slug")
    return CheckedSource(slug, kind, url, dsn, secret, table, key, every, srid, metadata)


def _check_metadata(slug: str, given: dict, user) -> dict:
    unknown = sorted(set(given) - set(GIVEN_METADATA))
    if unknown:
        raise RequestRefused(f"unknown metadata field {unknown[0]!r}", field=unknown[0])
    values = {k: v for k, v in given.items() if v not in (None, "")}
    existing = Dataset.objects.filter(slug=slug).first()
    if existing is not None:
        if not can_modify(user, existing):  # a dataset someone else owns is not fed by your source
            raise RequestRefused(f"slug {slug!r} is already taken: choose another slug", field="slug")
        return values
    if "title_vi" in values or "title_en" in values:
        values.setdefault("title_vi", values.get("title_en"))
        values.setdefault("title_en", values.get("title_vi"))
    if not values.get("sector"):
        raise RequestRefused("sector is required for a new dataset (e.g. --sector land)", field="sector")
    values.setdefault("title_vi", slug)
    values.setdefault("title_en", values["title_vi"])
    values.setdefault("licence_name", DEFAULT_LICENCE)
    check_metadata_values(values)
    DatasetMetadata(**{"attribution": "", **values})  # every required field is there
    return values


def register_source(*, user, enabled: bool = True, **request) -> Source:
    """Check the request, then record the source; a scheduled one is due at once (the scheduler picks it up
    within its next tick)."""
    checked = check_source_request(user=user, **request)
    with transaction.atomic():
        return Source.objects.create(
            slug=checked.slug, kind=checked.kind, url=checked.url, dsn=checked.dsn, secret=checked.secret,
            table=checked.table, key_field=checked.key_field, every=checked.every, srid=checked.srid,
            metadata=checked.metadata, enabled=enabled, created_by=user,
            dataset=Dataset.objects.filter(slug=checked.slug).first(),
            next_run_at=timezone.now() if checked.every else None)


def update_source(source: Source, user, changes: dict) -> Source:
    """Change a source; a new DSN's password is encrypted like a new source's."""
    check_can_manage(user)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise RequestRefused(f"cannot change {unknown[0]!r} here (editable: {', '.join(EDITABLE)})", field=unknown[0])
    values = dict(changes)
    if "dsn" in values:
        if source.kind != Source.Kind.POSTGRES:
            raise RequestRefused(f"a {source.kind} source has no connection string", field="dsn")
        values["dsn"], password = credentials.split_dsn(values["dsn"])
        values["secret"] = credentials.encrypt(password)
    if "table" in values:
        values["table"] = ".".join(parse_table(values["table"]))
    if "url" in values:
        values["url"] = _check_url(values["url"], source.kind)
    if "every" in values:
        values["every"] = parse_every(values["every"])
        values["next_run_at"] = timezone.now() if values["every"] else None
    if "srid" in values:
        values["srid"] = _check_srid(values["srid"])
    if "metadata" in values:
        values["metadata"] = _check_metadata(source.slug, {**source.metadata, **values["metadata"]}, user)
    for name, value in values.items():
        setattr(source, name, value)
    source.save()
    return source


def delete_source(source: Source, user) -> None:
    """Stop syncing: the source and its runs go; the dataset it fed and its change log stay."""
    check_can_manage(user)
    source.delete()


def request_run(source: Source, user) -> bool:
    """Queue one run now ("run now"); False when one is already queued."""
    check_can_manage(user)
    from layers.jobs.deferral import defer_harvest

    return defer_harvest(source.pk)


def source_label(source: Source) -> str:
    """How messages name a source: its slug and where it reads, never a password."""
    if source.kind == Source.Kind.POSTGRES:
        return f"source {source.slug} ({credentials.label(source.dsn)} {source.table})"
    return f"source {source.slug} ({public_url(source.url)})"


def run_summary(run: SourceRun) -> dict:
    """What `source_runs --json` and the REST API show of a run."""
    return {"id": run.pk, "source": run.source.slug, "status": run.status,
            "started": run.started.isoformat() if run.started else None,
            "finished": run.finished.isoformat() if run.finished else None,
            "added": run.added, "changed": run.changed, "removed": run.removed, "error": run.error,
            "report": run.report}
