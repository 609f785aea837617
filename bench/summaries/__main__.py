"""Summaries benchmark of issue 11, side by side in one run: land-use area (by `ma_loai_dat`) of the 1,000,000
synthetic parcels per unit, by the 9 districts and by the 103 wards of 2025.

1. the bare SQL: the plain intersection query alone in psql (every parcel the index offers through
   ST_Intersects and ST_Intersection), and the engine's own statement alone in psql;
2. summarise()'s first call (its cache cleared), and a second, cached call in the same process;
3. cached calls over HTTP with wrk at concurrency 8 against gunicorn (2 workers, as the benchmarks start ours):
   GET /api/summaries/<dataset> as JSON and CSV, and POST /ogcapi/processes/summary/execution.

    .venv/bin/python -m bench.summaries
    .venv/bin/python -m bench.summaries --units cantho-districts --duration 5 --no-bare

Targets: first call ≤ 2× the bare SQL; cached calls ≥ 1000 req/s. Results: bench/out/summaries-results.json
and a Markdown table on stdout.
"""
import argparse
import json
import signal
import sys
import time

from bench import OUT
from bench.data.parcels_1m import SLUG, TABLE, ensure_dataset, prepare_table
from bench.processes import log, on_signal, stop_process
from bench.report.machine import machine_facts
from bench.summaries.first_call import engine_sql, first_and_cached, setup_django
from bench.summaries.http import fetch, start_gunicorn, wrk, wrk_version
from bench.summaries.queries import bare_sql, psql_seconds

UNITS = {"cantho-districts": ("cantho_districts", "level2_id"), "cantho-wards-2025": ("cantho_wards_2025", "code")}
CATEGORY = "ma_loai_dat"
EXECUTION = "/ogcapi/processes/summary/execution"
# A `Prefer: wait` header sends a cached execution through pygeoapi's execute_process (the process fast path,
# sdi/ogcapi/process_fast_path.py, leaves it alone: it adds a Preference-Applied header): the path every
# execution took before that fast path, measured in the same run.
PYGEOAPI_PATH = "Prefer: wait"
LABELS = ("json", "csv", "process", "process_pygeoapi")


def runs(query: str, body: dict) -> tuple:
    """(label, path, body, extra header) of each cached-call run."""
    return (("json", query, None, None), ("csv", query + "&format=csv", None, None),
            ("process", EXECUTION, body, None), ("process_pygeoapi", EXECUTION, body, PYGEOAPI_PATH))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.summaries", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", nargs="+", choices=list(UNITS), default=list(UNITS))
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run (default 10)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=8342, help="port of the gunicorn started (default 8342)")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare SQL (about a minute per layer)")
    parser.add_argument("--no-http", action="store_true", help="skip the cached calls over HTTP")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, on_signal)
    OUT.mkdir(exist_ok=True)

    results = {"when": time.strftime("%Y-%m-%d %H:%M"), "dataset": SLUG, "category": CATEGORY, "units": {}}
    ensure_dataset(results, reload=False)
    prepare_table()
    setup_django()
    for units in args.units:
        units_table, code = UNITS[units]
        entry = results["units"][units] = {}
        if not args.no_bare:
            log(f"{units}: bare SQL in psql ...")
            entry["bare_s"], rows = psql_seconds(bare_sql(TABLE, units_table, code))
            entry["bare_total_area_m2"] = round(sum(float(row[3]) for row in rows if row[3]), 1)
            log(f"  {entry['bare_s']:.1f} s, {len(rows)} rows, {entry['bare_total_area_m2']} m²")
        log(f"{units}: the engine's statement alone in psql ...")
        entry["engine_sql_s"], _ = psql_seconds(engine_sql(SLUG, units, CATEGORY),
                                                ("SET jit = off", "SET enable_memoize = off"))
        log(f"  {entry['engine_sql_s']:.1f} s")
        log(f"{units}: summarise(), first call (cache cleared) and a cached call ...")
        entry.update(first_and_cached(SLUG, units, CATEGORY))
        log(f"  first {entry['first_s']} s, cached {entry['cached_in_process_ms']} ms in process")
        if "bare_s" in entry:
            entry["first_over_bare"] = round(entry["first_s"] / entry["bare_s"], 3)
            entry["same_total_area"] = abs(entry["total_area_m2"] - entry["bare_total_area_m2"]) <= 1.0
            if not entry["same_total_area"]:
                log(f"  the totals differ: bare {entry['bare_total_area_m2']} m², summarise() {entry['total_area_m2']} m²")
        (OUT / "summaries-results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))

    if not args.no_http:
        results["wrk"] = wrk_version()
        server = start_gunicorn(args.port)
        base = f"http://127.0.0.1:{args.port}"
        try:
            for units in args.units:
                query = f"/api/summaries/{SLUG}?units={units}&category={CATEGORY}"
                body = {"inputs": {"dataset": SLUG, "units": units, "category": CATEGORY}}
                for label, path, post, header in runs(query, body):
                    url = base + path
                    # the first computes the figures if the in-process runs cleared them
                    fetch(url, post, timeout=600, header=header)
                    status, answer = fetch(url, post, header=header)
                    assert status == 200 and (label == "csv" or json.loads(answer)["cached"]), (label, status)
                    log(f"{units}: wrk {label} {path} {header or ''} ...")
                    measured = wrk(base, path, args.duration, args.concurrency, server.pid, post, header)
                    results["units"][units][f"http_{label}"] = measured
                    log(f"  {measured}")
        finally:
            stop_process(server)
    results["machine"] = machine_facts({}, results.get("wrk", ""))
    (OUT / "summaries-results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(markdown(results))
    return 0


def markdown(results: dict) -> str:
    lines = ["| units | bare SQL (psql) | engine SQL (psql) | summarise() first call | first ÷ bare | cached, in process |"
             " same total area |", "|---|---|---|---|---|---|---|"]
    for units, e in results["units"].items():
        bare = f"{e['bare_s']:.1f} s" if "bare_s" in e else "–"
        ratio = f"**{e['first_over_bare']:.2f}×**" if "first_over_bare" in e else "–"
        lines.append(f"| {units} ({e['rows']} rows) | {bare} | {e['engine_sql_s']:.1f} s | {e['first_s']:.1f} s | "
                     f"{ratio} | {e['cached_in_process_ms']:.2f} ms | {e.get('same_total_area', '–')} |")
    if "wrk" in results:
        lines += ["", "| units | endpoint | req/s | p50 / p99 ms | kB/answer | server CPU ms/req | "
                      "database CPU ms/req | other load |", "|---|---|---|---|---|---|---|---|"]
        for units, e in results["units"].items():
            for label in LABELS:
                m = e.get(f"http_{label}")
                if not m or "error" in m:
                    lines.append(f"| {units} | {label} | {m and m.get('error')} | | | | | |")
                    continue
                lines.append(f"| {units} | {label} | {m['req_s']:,.1f} | {m['p50_ms']} / {m['p99_ms']} | "
                             f"{m['kb_per_answer']} | {m['server_cpu_ms']} | {m['database_cpu_ms']} | "
                             f"{m['other_load']:.0%} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
