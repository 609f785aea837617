"""Side-by-side OGC API – Features benchmark: the Cần Thơ SDI (our PostGIS provider behind our Django views)
against tipg and stock pygeoapi 0.24 (its SQLAlchemy PostgreSQL provider), all three on the same PostGIS
table of 1,000,000 synthetic parcels (EPSG:5897), 2 workers each, run one server at a time.

    .venv/bin/python -m bench.peers                      # everything (~30-45 min on 2 cores)
    .venv/bin/python -m bench.peers --only ours --duration 10 --no-walk

Steps: make/check bench/out/parcels_1000000.gpkg; load it once with `manage.py import_dataset` (slug
bench-parcels-1m, skipped when already published with 1,000,000 features; --reload forces it and times it);
install the peers into bench/out/peers-venv (never into .venv); then for each server: start it, check that
each request type returns a valid FeatureCollection, run `wrk -t2 -c8` for --duration seconds after a
--warmup per request type, walk the whole table by `next` links (limit=10000) sampling each worker's RSS,
stop it. Results are merged into bench/out/peers-results.json (so --only re-runs one server) and printed
as markdown (also written to bench/out/peers-results.md). Only loopback addresses are used.
"""
import argparse
import json
import signal
import subprocess
import sys

from bench import OUT, REPO
from bench.data.parcels_1m import ensure_dataset, prepare_table
from bench.load.bbox_agreement import bbox_truth
from bench.load.pg_floor import pgbench_floor
from bench.load.shapes import KINDS
from bench.load.wrk import ensure_wrk
from bench.peers.per_server import bench_server
from bench.peers.servers import SERVERS, WORKERS
from bench.peers.venv import ensure_peers
from bench.processes import Interrupted, log, on_signal, stop_all
from bench.profiling.cprofile_view import profile_ours
from bench.profiling.py_spy import py_spy_worker
from bench.profiling.sql_alone import sql_timings
from bench.report.machine import machine_facts
from bench.report.markdown import markdown
from bench.report.results import RESULTS_MD, load_results, save_results


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=list(SERVERS), action="append",
                        help="benchmark only this server (repeatable); earlier results of the others are kept")
    parser.add_argument("--duration", type=int, default=20, help="seconds of wrk per request type (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up, not measured (default 3)")
    parser.add_argument("--concurrency", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--noise-limit", type=float, default=0.10,
                        help="share of the machine other processes may use during a run before it is repeated "
                             "(default 0.10)")
    parser.add_argument("--retries", type=int, default=2, help="repeats of a disturbed run (default 2)")
    parser.add_argument("--quiet-wait", type=int, default=120,
                        help="seconds to wait for other processes to calm down before each run (default 120)")
    parser.add_argument("--walk-cap", type=int, default=600, help="seconds allowed for each whole-table walk")
    parser.add_argument("--no-walk", action="store_true", help="skip the whole-table walk")
    parser.add_argument("--reload", action="store_true", help="re-import the 1M GeoPackage even if loaded (timed)")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one request of ours per request type and time the bare SQL")
    parser.add_argument("--report", action="store_true", help="only print the markdown of the saved results")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip the PostgreSQL floor (pgbench on our items/{id} statement), run after ours")
    parser.add_argument("--py-spy", metavar="KIND", choices=[k for k, _ in KINDS],
                        help="only sample one worker of ours with py-spy while wrk sends KIND requests (e.g. item)")
    args = parser.parse_args()

    if args.report:
        print(markdown(load_results()))
        return 0
    # Ctrl-C, kill, a closed terminal: stop the servers we started, then exit (also when SIGINT was inherited
    # as ignored, as for a job started in the background by a non-interactive shell)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    OUT.mkdir(parents=True, exist_ok=True)
    results = load_results()
    results["commit"] = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True,
                                       text=True).stdout.strip()
    try:
        wrk_version = ensure_wrk()
        ensure_dataset(results, args.reload)
        save_results(results)
        peer_versions = ensure_peers()
        results["machine"] = machine_facts(peer_versions, wrk_version)
        results["settings"] = {"duration": args.duration, "warmup": args.warmup, "concurrency": args.concurrency,
                               "threads": args.threads, "workers": WORKERS}
        if args.py_spy:
            prepare_table()
            profile = py_spy_worker(args.py_spy, args)
            results.setdefault("py_spy", {})[args.py_spy] = profile
            save_results(results)
            print(f"\npy-spy, one worker of ours, {args.py_spy} ({profile['samples']} samples; {profile['wrk']}):")
            print("\n".join(profile["top"]))
            return 0
        for name in args.only or list(SERVERS):
            bench_server(name, args, results)
        if "ours" in (args.only or SERVERS) and not args.no_floor:
            log("PostgreSQL floor: pgbench on our items/{id} statement ...")
            results["floor"] = {"item": pgbench_floor(args.duration, args.concurrency, args.threads)}
            log(f"floor: {results['floor']['item'].get('req_s')} req/s")
            save_results(results)
        bbox_truth(results)
        save_results(results)
        if args.profile:
            results["profile"] = profile_ours(["page1", "bbox", "prop_filter", "item"])
            results["sql_ms"] = sql_timings()
            save_results(results)
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({exc or 'SIGINT'}); servers stopped")
        return 128 + getattr(exc, "signum", signal.SIGINT)
    finally:
        stop_all()
    report = markdown(results)
    RESULTS_MD.write_text(report)
    print("\n" + report)
    if args.profile:
        for kind, entry in results["profile"].items():
            print(f"\nprofile of ours, {kind} ({entry['path']}): {entry['wall_ms']} ms per request in-process")
            print("\n".join(entry["top"]))
        print("\nbare SQL (median of 5, ms):", json.dumps(results["sql_ms"], ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
