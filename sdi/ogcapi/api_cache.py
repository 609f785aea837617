"""One pygeoapi `API` object per (registry version, base URL), rebuilt only when the registry changes.

pygeoapi's own Django adapter builds a new API (deep-copying the whole configuration) on every request;
we build it once and check one small row per request to notice registry changes made by any process.
"""
import logging
import threading

from pygeoapi.api import API
from pygeoapi.openapi import get_oas

from layers.selectors import visible_datasets
from layers.services import current_registry_version
from sdi.ogcapi.config import build_config

log = logging.getLogger(__name__)
_lock = threading.Lock()
_cache: dict[str, tuple[int, API]] = {}
MAX_BASE_URLS = 8  # host names a deployment answers to; bounded so odd Host headers cannot grow memory


def get_api(base_url: str) -> API:
    version = current_registry_version()
    cached = _cache.get(base_url)
    if cached and cached[0] == version:
        return cached[1]
    with _lock:
        cached = _cache.get(base_url)
        if cached and cached[0] == version:
            return cached[1]
        api = build_api(base_url)
        if len(_cache) >= MAX_BASE_URLS:
            _cache.clear()
        _cache[base_url] = (version, api)
        log.info("pygeoapi configuration built for %s (registry version %d, %d collections)",
                 base_url, version, len(api.config["resources"]))
        return api


def build_api(base_url: str) -> API:
    config = build_config(list(visible_datasets()), base_url)
    openapi = get_oas(config, fail_on_invalid_collection=False)
    advertise_limit_parameter(openapi, config["server"]["limits"])
    return API(config, openapi)


def advertise_limit_parameter(openapi: dict, limits: dict) -> None:
    """QGIS reads its page size from components.parameters.limit (else it pages by 100)."""
    openapi.setdefault("components", {}).setdefault("parameters", {})["limit"] = {
        "name": "limit",
        "in": "query",
        "description": "The optional limit parameter limits the number of items that are presented in the response document.",
        "required": False,
        "style": "form",
        "explode": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": limits["max_items"], "default": limits["default_items"]},
    }
