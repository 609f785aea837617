"""Harvest benchmarks of issue 10, side by side in one run, on the synthetic parcels:

1. full harvest of an N-row PostgreSQL source (`manage.py harvest`) against `ogr2ogr` PG→PG of the same table
   and the PostgreSQL floor (binary COPY from one database into the other, plus the same indexes);
2. a re-harvest after 1 % of the source's rows changed: its time against the full harvest's, and how many rows
   the published table really had written (PostgreSQL's own counters);
3. a remote OGC API – Features source of M features (this SDI's own OGC API on another port): `manage.py
   harvest` against `ogr2ogr` reading the same collection through GDAL's OAPIF driver.

    .venv/bin/python -m bench.sources                       # 1,000,000 rows, 100,000 remote features, 2 rounds
    .venv/bin/python -m bench.sources --rows 100000 --remote-features 20000 --rounds 1

Results: bench/out/harvest-results.json, and a Markdown table on stdout.
"""
import argparse
import json
import signal
import statistics
import sys

from bench import OUT
from bench.processes import log, on_signal, stop_process
from bench.report.machine import machine_facts
from bench.sources.movers import (floor_copy, harvest, ogr2ogr_oapif, ogr2ogr_pg, published_writes,
                                  register_ogcapi_source, register_pg_source)
from bench.sources.remote import collection_url, start_remote_server
from bench.sources.sector import change_one_percent, ensure_parcels_table

SLUG, REMOTE_SOURCE_SLUG, REMOTE_SLUG = "bench-harvest", "bench-ogc-src", "bench-ogc-copy"


def postgres_rounds(table: str, rounds: int) -> dict:
    floor, ogr, full, again, runs, writes = [], [], [], [], [], []
    for n in range(1, rounds + 1):
        log(f"round {n}: PostgreSQL floor")
        floor.append(floor_copy(table))
        log(f"round {n}: ogr2ogr PG→PG")
        ogr.append(ogr2ogr_pg(table))
        log(f"round {n}: full harvest")
        register_pg_source(SLUG, table)
        seconds, run = harvest(SLUG)
        full.append(seconds)
        log(f"  {seconds:.1f} s: {run}")
        changed = change_one_percent(table, n)
        before = published_writes(SLUG)
        log(f"round {n}: re-harvest after {changed} rows changed at the source")
        seconds, run = harvest(SLUG)
        after = published_writes(SLUG)
        again.append(seconds)
        runs.append(run)
        writes.append({k: after[k] - before[k] for k in after} | {"changed_at_source": changed})
        log(f"  {seconds:.1f} s: {run}; written to the published table: {writes[-1]}")
    median = statistics.median
    return {"floor_seconds": floor, "ogr2ogr_seconds": ogr, "full_harvest_seconds": full,
            "reharvest_seconds": again, "reharvest_runs": runs, "reharvest_writes": writes,
            "full_vs_ogr2ogr": median(full) / median(ogr), "reharvest_vs_full": median(again) / median(full)}


def remote_rounds(features: int, rounds: int, page_size: int) -> dict:
    register_pg_source(REMOTE_SOURCE_SLUG, ensure_parcels_table(features))
    harvest(REMOTE_SOURCE_SLUG)
    server = start_remote_server()
    ogr, ours, runs = [], [], []
    try:
        url = collection_url(REMOTE_SOURCE_SLUG)
        for n in range(1, rounds + 1):
            log(f"round {n}: ogr2ogr OAPIF → PG ({features} features)")
            ogr.append(ogr2ogr_oapif(url, page_size))
            log(f"round {n}: harvest of the remote OGC API")
            register_ogcapi_source(REMOTE_SLUG, url)
            seconds, run = harvest(REMOTE_SLUG)
            ours.append(seconds)
            runs.append(run)
            log(f"  {seconds:.1f} s: {run}")
    finally:
        stop_process(server)
    median = statistics.median
    return {"features": features, "ogr2ogr_seconds": ogr, "harvest_seconds": ours, "runs": runs,
            "ogr2ogr_features_per_s": features / median(ogr), "harvest_features_per_s": features / median(ours)}


def markdown(r: dict) -> str:
    median, m, p = statistics.median, r["machine"], r["postgres"]
    lines = [f"{r['rows']:,} rows, {r['rounds']} rounds, medians. {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB; "
             f"PostgreSQL {m['postgresql']}, PostGIS {m['postgis']}, GDAL {m['gdal']}.", "",
             "| step | seconds | vs ogr2ogr | vs floor |", "|---|---:|---:|---:|"]
    for name, key in (("PostgreSQL floor (binary COPY + PK + GiST)", "floor_seconds"),
                      ("ogr2ogr PG→PG", "ogr2ogr_seconds"), ("harvest, full (first run)", "full_harvest_seconds"),
                      ("harvest after 1 % changed", "reharvest_seconds")):
        value = median(p[key])
        lines.append(f"| {name} | {value:.1f} | {value / median(p['ogr2ogr_seconds']):.2f}× | "
                     f"{value / median(p['floor_seconds']):.2f}× |")
    each = ", ".join(f"{again / full:.0%}" for again, full in zip(p["reharvest_seconds"], p["full_harvest_seconds"]))
    lines += ["", f"Re-harvest / full harvest: {p['reharvest_vs_full']:.0%} (medians; round by round: {each}). "
              f"Written to the published table per re-harvest: {p['reharvest_writes']}"]
    if "ogcapi" in r:
        o = r["ogcapi"]
        lines += ["", f"Remote OGC API ({o['features']:,} features): ogr2ogr {o['ogr2ogr_features_per_s']:,.0f} "
                  f"features/s, harvest {o['harvest_features_per_s']:,.0f} features/s "
                  f"({o['harvest_features_per_s'] / o['ogr2ogr_features_per_s']:.2f}×)"]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sources", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the PostgreSQL source (default %(default)s)")
    parser.add_argument("--remote-features", type=int, default=100_000,
                        help="features of the remote OGC API source (default %(default)s; 0 skips it)")
    parser.add_argument("--page-size", type=int, default=10_000,
                        help="page size GDAL's OAPIF driver asks for (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each measurement; medians are reported")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    results = {"machine": machine_facts({}, ""), "rows": args.rows, "rounds": args.rounds}
    results["postgres"] = postgres_rounds(ensure_parcels_table(args.rows), args.rounds)
    if args.remote_features:
        results["ogcapi"] = remote_rounds(args.remote_features, args.rounds, args.page_size)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "harvest-results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
