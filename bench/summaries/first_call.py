"""summarise() in this process, on the benchmark database: its first call (cache cleared) and a cached one."""
import os
import time

from bench.processes import ours_env


def setup_django() -> None:
    for key, value in ours_env().items():
        if key.startswith(("SDI_", "DATABASE_URL")):
            os.environ.setdefault(key, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdi.settings")
    import django
    django.setup()


def engine_sql(slug: str, units: str, category: str) -> str:
    """The engine's statement for this request, with the settings it runs under, as text for psql."""
    from django.db import connection

    from layers.models import Dataset
    from layers.summaries.compute import SummaryRequest, _plan, query_for
    dataset, unit_layer = Dataset.objects.get(slug=slug), Dataset.objects.get(slug=units)
    plan = _plan(SummaryRequest(slug, units=units, category=category), dataset, unit_layer)
    with connection.cursor() as cursor:
        return query_for(plan, dataset, unit_layer).as_string(cursor.connection)


def first_and_cached(slug: str, units: str, category: str) -> dict:
    from layers.summaries import cache
    from layers.summaries.compute import SummaryRequest, summarise
    request = SummaryRequest(slug, units=units, category=category)
    cache.clear()
    start = time.perf_counter()
    first = summarise(request, None)
    first_seconds = time.perf_counter() - start
    start = time.perf_counter()
    again = summarise(request, None)
    cached_ms = (time.perf_counter() - start) * 1000
    assert not first["cached"] and again["cached"] and again["rows"] == first["rows"]
    return {"first_s": round(first_seconds, 2), "cached_in_process_ms": round(cached_ms, 3),
            "rows": len(first["rows"]), "total_area_m2": round(first["totals"]["area_m2"], 1),
            "features_counted": first["totals"]["count"]}
