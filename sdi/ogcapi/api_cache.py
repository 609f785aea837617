"""pygeoapi `API` objects, one per (base URL, set of visible datasets), rebuilt only when the registry changes.

pygeoapi's own Django adapter builds a new API (deep-copying the whole configuration) on every request; we
build it once per registry version and check one small row per request, so a change made by any process is
served by every worker on its next request. Users who may see different datasets get different API objects,
so a restricted collection is absent from /collections, items, OpenAPI and HTML alike.
"""
import logging
import threading
from collections import OrderedDict

import psycopg
from django.db import connection
from psycopg import sql
from pygeoapi.api import API
from pygeoapi.openapi import get_oas

from layers.models import Dataset, RegistryVersion
from layers.registry.selectors import visible_slugs
from layers.registry.services import current_registry_version
from sdi.ogcapi.adapter import adapt_openapi, forget_translations
from sdi.ogcapi.config import build_config

log = logging.getLogger(__name__)
_lock = threading.Lock()  # guards _apis: held only to look up and store, never while building
_build_lock = threading.Lock()  # one build at a time, so concurrent first requests build a key once
_apis: OrderedDict[tuple, tuple[int, API]] = OrderedDict()
_anonymous_slugs: dict[int, frozenset[str]] = {}
MAX_CACHED_APIS = 32  # base URLs × distinct visibility sets; least recently used are dropped
# What layers.registry.services.current_registry_version reads, as one scalar expression.
REGISTRY_VERSION_SQL = sql.SQL("(SELECT coalesce(max(value), 0) FROM {} WHERE id = 1)").format(
    sql.Identifier(RegistryVersion._meta.db_table)).as_string(None)


def get_api(base_url: str, user=None, *, version: int | None = None) -> API:
    """`version`: the registry version this request has already read (spares a round trip)."""
    if version is None:
        version = registry_version()
    key = (base_url, _visible(user, version))
    if (api := _cached(key, version)) is not None:
        return api
    with _build_lock:
        if (api := _cached(key, version)) is not None:  # built by the request we waited for
            return api
        api = build_api(base_url, key[1])
        _store(key, version, api)
    log.info("pygeoapi configuration built for %s (registry version %d, %d collections)",
             base_url, version, len(api.config["resources"]))
    return api


def registry_version() -> int:
    """current_registry_version in one round trip, where it took two on every request.

    Django tests a connection kept from an earlier request with a round trip of its own (CONN_HEALTH_CHECKS)
    before the request's first query, and the ORM query came after it: together 16% of a worker's time on a
    1000-feature page. Here the query is that test, as in item_fast_path.py. When it fails (a connection that
    died since the last request: a database restart), the ORM reads the version the ordinary way, whose own
    check closes the dead connection and reconnects, or meets the outage, and the request answers 503
    (sdi.middleware) as every other page."""
    raw = connection.connection
    if raw is not None and connection.health_check_enabled and not connection.health_check_done \
            and not connection.in_atomic_block:
        try:
            with psycopg.Cursor(raw) as cursor:
                cursor.execute(f"SELECT {REGISTRY_VERSION_SQL}")
                (version,) = cursor.fetchone()
        except (psycopg.OperationalError, psycopg.InterfaceError):
            pass
        else:
            connection.health_check_done = True  # the query was the check
            return version
    return current_registry_version()


def _cached(key: tuple, version: int) -> API | None:
    with _lock:
        cached = _apis.get(key)
        if cached and cached[0] == version:
            _apis.move_to_end(key)
            return cached[1]
    return None


def _store(key: tuple, version: int, api: API) -> None:
    with _lock:
        replaced = [_apis[key][1]] if key in _apis else []
        _apis[key] = (version, api)
        _apis.move_to_end(key)
        while len(_apis) > MAX_CACHED_APIS:
            replaced.append(_apis.popitem(last=False)[1][1])
    for old in replaced:
        forget_translations(old.tpl_config)


def _visible(user, version: int) -> frozenset[str]:
    if user is not None and user.is_authenticated:
        return visible_slugs(user)
    slugs = _anonymous_slugs.get(version)
    if slugs is None:
        slugs = visible_slugs(None)
        _anonymous_slugs.clear()
        _anonymous_slugs[version] = slugs
    return slugs


def build_api(base_url: str, slugs: frozenset[str]) -> API:
    datasets = Dataset.objects.filter(slug__in=slugs).order_by("slug")
    config = build_config(list(datasets), base_url)
    openapi = get_oas(config, fail_on_invalid_collection=False)
    adapt_openapi(openapi, config["server"]["limits"])
    return API(config, openapi)

