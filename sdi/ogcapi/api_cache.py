"""pygeoapi `API` objects, one per (base URL, set of visible datasets), rebuilt only when the registry changes.

pygeoapi's own Django adapter builds a new API (deep-copying the whole configuration) on every request; we
build it once per registry version and check one small row per request, so a change made by any process is
served by every worker on its next request. Users who may see different datasets get different API objects,
so a restricted collection is absent from /collections, items, OpenAPI and HTML alike.
"""
import logging
import threading
from collections import OrderedDict

from pygeoapi.api import API
from pygeoapi.openapi import get_oas

from layers.models import Dataset
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


def get_api(base_url: str, user=None) -> API:
    version = current_registry_version()
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

