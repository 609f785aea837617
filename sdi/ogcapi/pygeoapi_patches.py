"""Every change we make to pygeoapi 0.24's own behaviour, installed once (by sdi.ogcapi.views).

Each seam names the pygeoapi internals it relies on; `install()` refuses to start when one of them is gone,
and tests/test_api_robustness.py has a contract test per seam, so an upgrade that moves them fails loudly
instead of quietly bringing the old fault back.

1. Translated configuration per API object (pygeoapi.l10n._cfg_cache, l10n.translate_struct).
   pygeoapi caches the configuration it hands to the HTML templates per *locale* only, in a module global,
   on the first HTML page a worker renders. We build a new `API` whenever a dataset is published and one per
   base URL and visible set (sdi/ogcapi/api_cache.py), so every later HTML page saw the first one's
   resources and host name: a new dataset's HTML page answered 500 until restart. The global is made to keep
   nothing and the translation is cached here per (configuration object, locale) instead.
2. One log line per client error (API.get_exception, API.get_format_exception): see request_log.py.
3. Our bbox transform (pygeoapi.api.itemtypes.transform_bbox): see bbox.py.
4. filter-crs kept for the translator (pygeoapi.api.itemtypes.modify_pygeofilter): see layers/cql2/filter_crs.py.
"""
import functools
import inspect
import threading
from collections import OrderedDict

import pygeoapi.api.itemtypes as itemtypes_api
from pygeoapi import l10n
from pygeoapi.api import API

from layers.cql2 import keep_filter_crs
from sdi.ogcapi import bbox, request_log

MAX_TRANSLATED_CONFIGS = 64  # (API configuration, locale) pairs: api_cache's 32 APIs in vi and en


class NothingCached(dict):
    """Stands in for pygeoapi's `l10n._cfg_cache`: every lookup misses and nothing is stored."""

    def get(self, key, default=None):
        return default

    def __setitem__(self, key, value):
        pass


_stock_translate_struct = l10n.translate_struct
_translated: OrderedDict[tuple[int, str], tuple[dict, dict]] = OrderedDict()
_translated_lock = threading.Lock()


def translate_struct(struct, locale_, is_config: bool = False):
    """pygeoapi's translate_struct, with the translated configuration cached per configuration object."""
    if not is_config or not struct or not locale_:
        return _stock_translate_struct(struct, locale_, is_config)
    key = (id(struct), str(locale_))
    with _translated_lock:
        cached = _translated.get(key)
        if cached is not None and cached[0] is struct:  # the entry holds `struct`, so its id is not reused
            _translated.move_to_end(key)
            return cached[1]
    result = _stock_translate_struct(struct, locale_, True)
    with _translated_lock:
        _translated[key] = (struct, result)
        while len(_translated) > MAX_TRANSLATED_CONFIGS:
            _translated.popitem(last=False)
    return result


def forget_translations(config: dict) -> None:
    """Drop the translations of a configuration no longer served (sdi/ogcapi/api_cache.py replaced its API)."""
    with _translated_lock:
        for key in [key for key, (struct, _) in _translated.items() if struct is config]:
            del _translated[key]


def _client_errors_logged_once(handler):
    """Wrap API.get_exception / get_format_exception: while they answer a 4xx, pygeoapi's own log records
    (ERROR, with a traceback) are dropped; Django's request log line carries the description instead."""
    signature = inspect.signature(handler)

    @functools.wraps(handler)
    def wrapper(self, *args, **kwargs):
        call = signature.bind(self, *args, **kwargs).arguments
        status = call.get("status", 400)  # get_format_exception always answers 400
        note = f"{call['code']}: {call['description']}" if "description" in call else None
        with request_log.answering(status, note):
            return handler(self, *args, **kwargs)

    wrapper.sdi_patched = True
    return wrapper


def install() -> None:
    """Apply every seam (idempotent). Raises if pygeoapi no longer has what a seam relies on."""
    if not isinstance(getattr(l10n, "_cfg_cache", None), dict):
        raise RuntimeError("pygeoapi.l10n._cfg_cache is gone: review sdi/ogcapi/pygeoapi_patches.py seam 1")
    if "is_config" not in inspect.signature(_stock_translate_struct).parameters:
        raise RuntimeError("pygeoapi.l10n.translate_struct changed: review sdi/ogcapi/pygeoapi_patches.py seam 1")
    for name in ("get_exception", "get_format_exception"):
        if not callable(getattr(API, name, None)):
            raise RuntimeError(f"pygeoapi API.{name} is gone: review sdi/ogcapi/pygeoapi_patches.py seam 2")
    if not hasattr(itemtypes_api, "transform_bbox"):
        raise RuntimeError("pygeoapi.api.itemtypes.transform_bbox is gone: review sdi/ogcapi/bbox.py")
    if not hasattr(itemtypes_api, "modify_pygeofilter"):
        raise RuntimeError("pygeoapi.api.itemtypes.modify_pygeofilter is gone: review layers/cql2/filter_crs.py")

    l10n._cfg_cache = NothingCached()
    l10n.translate_struct = translate_struct  # render_j2_template calls it as l10n.translate_struct(...)
    if not getattr(API.get_exception, "sdi_patched", False):
        API.get_exception = _client_errors_logged_once(API.get_exception)
    if not getattr(API.get_format_exception, "sdi_patched", False):
        API.get_format_exception = _client_errors_logged_once(API.get_format_exception)
    itemtypes_api.transform_bbox = bbox.transform_bbox
    itemtypes_api.modify_pygeofilter = keep_filter_crs
