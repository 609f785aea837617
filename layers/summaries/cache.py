"""Summaries cached per dataset version: rows in PostgreSQL (`SummaryCache`) and a small per-process memo.

The key is (dataset id, its version, units id, its version, the normalised parameters); a version is the
dataset's `updated` timestamp, which a replacement, a harvest or a merge moves on. A cached call must cost at
most one small query, so each process also keeps the answers it has seen under (registry version, slugs,
parameters): the registry version changes with every publish, harvest and edit, so a memo entry of an older
registry is never used.
"""
import threading
from collections import OrderedDict

from django.db import IntegrityError, transaction

from layers.summaries.models import SummaryCache

MEMO_SIZE = 128  # answers of up to ~100 kB (103 wards × categories): at most ~13 MB a worker
_memo: OrderedDict[tuple, dict] = OrderedDict()
_lock = threading.Lock()


def memo_get(key: tuple) -> dict | None:
    with _lock:
        entry = _memo.get(key)
        if entry is not None:
            _memo.move_to_end(key)
        return entry


def memo_put(key: tuple, entry: dict) -> None:
    with _lock:
        _memo[key] = entry
        _memo.move_to_end(key)
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)


def memo_clear() -> None:
    with _lock:
        _memo.clear()


def stored(dataset, units, parameters: str, key_order: tuple = ()) -> dict | None:
    """The stored answer, its keys back in `key_order` (jsonb keeps them in its own order)."""
    row = SummaryCache.objects.filter(dataset=dataset, dataset_version=dataset.updated, units=units,
                                      units_version=units.updated, parameters=parameters).values("result").first()
    if row is None:
        return None
    return _ordered(row["result"], key_order)


ROW_ORDER = ("unit_code", "unit_name", "category", "count", "length_m", "area_m2", "value")


def _ordered(result: dict, key_order: tuple) -> dict:
    ordered = {key: result[key] for key in key_order if key in result}
    ordered.update((key, value) for key, value in result.items() if key not in ordered)
    if isinstance(ordered.get("rows"), list):
        ordered["rows"] = [{key: row[key] for key in ROW_ORDER if key in row} for row in ordered["rows"]]
    return ordered


def store(dataset, units, parameters: str, result: dict, computed_at, seconds: float) -> None:
    """Keep `result`, and drop every row of an older version of this dataset or these units."""
    try:
        with transaction.atomic():
            SummaryCache.objects.filter(dataset=dataset).exclude(dataset_version=dataset.updated).delete()
            SummaryCache.objects.filter(units=units).exclude(units_version=units.updated).delete()
            SummaryCache.objects.filter(dataset=units).exclude(dataset_version=units.updated).delete()
            SummaryCache.objects.filter(units=dataset).exclude(units_version=dataset.updated).delete()
            SummaryCache.objects.create(dataset=dataset, dataset_version=dataset.updated, units=units,
                                        units_version=units.updated, parameters=parameters, result=result,
                                        computed_at=computed_at, seconds=seconds)
    except IntegrityError:
        pass  # another worker stored the same figures first


def clear() -> None:
    """Forget every summary (the benchmark's first call; an operator's reset)."""
    SummaryCache.objects.all().delete()
    memo_clear()
