"""One server's turn in the side-by-side benchmark: start it, check and load each request type, walk the table,
stop it, save its results."""
import time

from bench.data.parcels_1m import prepare_table
from bench.foreign_load import ForeignLoad, cpu_busy_fraction, wait_for_quiet
from bench.load.bbox_agreement import bbox_ids
from bench.load.checks import verify
from bench.load.shapes import KINDS
from bench.load.walk import walk
from bench.load.wrk import run_wrk
from bench.peers.servers import start_server
from bench.processes import log, stop_process
from bench.report.results import save_results


def bench_server(name: str, args, results: dict) -> None:
    run_entry = {"kinds": {}, "when": time.strftime("%Y-%m-%d %H:%M"), "commit": results.get("commit")}
    prepare_table()
    busy = cpu_busy_fraction()
    run_entry["cpu_busy_before"] = round(busy, 2)
    if busy > 0.15:
        log(f"warning: the machine is {busy:.0%} busy before starting {name} (other processes); numbers will suffer")
    proc = start_server(name)
    try:
        kinds = [k for k, _ in KINDS if k != "deep_cursor" or name == "ours"]
        for kind in kinds:
            outcome = verify(name, kind)
            run_entry["kinds"][kind] = outcome
            if not outcome["ok"]:
                log(f"{name} {kind}: NOT measured: {outcome['note']}")
                continue
            log(f"{name} {kind}: valid ({outcome['single_ms']} ms one by one); wrk {args.duration} s ...")
            attempts = []
            for attempt in range(1 + args.retries):
                quiet = wait_for_quiet(proc.pid, args.noise_limit, args.quiet_wait)
                if quiet >= args.noise_limit:
                    log(f"  other processes still use {quiet:.0%} of the machine; measuring anyway")
                w = run_wrk(name, kind, args.duration, args.warmup, args.concurrency, args.threads, proc.pid)
                attempts.append(w)
                log(f"{name} {kind}: {w.get('req_s')} req/s, p50 {w.get('p50_ms')} p95 {w.get('p95_ms')} "
                    f"p99 {w.get('p99_ms')} ms, errors {w.get('errors')}, other load {w.get('foreign_cpu', 0):.0%}")
                if w.get("foreign_cpu", 0) < args.noise_limit:
                    break
            # keep the attempt least disturbed by other processes
            outcome["wrk"] = w = min(attempts, key=lambda a: a.get("foreign_cpu", 1))
            outcome["attempts"] = len(attempts)
            if w.get("errors", {}).get("status"):
                outcome["note"] = f"{w['errors']['status']} non-2xx responses under load"
        run_entry["bbox_ids"] = bbox_ids(name)
        if not args.no_walk:
            log(f"{name}: walking the whole table by next links (cap {args.walk_cap} s) ...")
            with ForeignLoad(proc.pid) as foreign:
                run_entry["walk"] = walk(name, proc, args.walk_cap)
            run_entry["walk"]["foreign_cpu"] = round(foreign.share, 3)
            w = run_entry["walk"]
            log(f"{name} walk: {w['pages']} pages, {w['features']} features in {w['seconds']} s; "
                f"{w['first5_s']} s/page first 5, {w['last5_s']} s/page last 5; {w['failed'] or 'complete'}")
        else:
            previous = results.get("runs", {}).get(name, {}).get("walk")
            if previous:
                run_entry["walk"] = previous
    finally:
        stop_process(proc)
        log(f"{name} stopped")
    results.setdefault("runs", {})[name] = run_entry
    save_results(results)
