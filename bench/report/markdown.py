"""The results as the markdown tables of docs/benchmarks.md."""
from bench.load.shapes import KINDS
from bench.peers.servers import SERVERS, WORKERS
from bench.report.targets import targets


def fmt(value, digits=1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def ratio(a, b) -> str:
    if not a or not b:
        return "–"
    return f"{a / b:.2f}×"


def markdown(results: dict) -> str:
    lines = []
    m = results.get("machine", {})
    if m:
        lines += [f"Machine: {m['cores']} cores ({m['cpu']}), {m['ram_gb']} GB RAM; PostgreSQL {m['postgresql']}, "
                  f"PostGIS {m['postgis']}, GDAL {m['gdal']}, Python {m['python']}; {m['wrk']}.",
                  f"Ours: pygeoapi {m['ours'].get('pygeoapi')} + Django {m['ours'].get('Django')} + gunicorn "
                  f"{m['ours'].get('gunicorn')} (sync, {WORKERS} workers). tipg {m['peers'].get('tipg')} on uvicorn "
                  f"{m['peers'].get('uvicorn')} with uvloop {m['peers'].get('uvloop')} and httptools "
                  f"{m['peers'].get('httptools')} ({WORKERS} workers). Stock pygeoapi {m['peers'].get('pygeoapi')} "
                  f"(SQLAlchemy {m['peers'].get('SQLAlchemy')}, GeoAlchemy2 {m['peers'].get('GeoAlchemy2')}) on gunicorn "
                  f"{m['peers'].get('gunicorn')} (sync, {WORKERS} workers).", ""]
    if "load" in results:
        lines += [f"Load of the 1M GeoPackage ({results['load']['file_mb']} MB) with `manage.py import_dataset`: "
                  f"{results['load']['seconds']} s ({results['load']['when']}).", ""]
    runs = results.get("runs", {})
    if runs:
        lines += ["Runs (one server at a time; share of the 2 cores busy with other processes just before each "
                  "start): " + "; ".join(f"{SERVERS[n]['label']} {runs[n]['when']} at commit {runs[n].get('commit')}, "
                                         f"{runs[n].get('cpu_busy_before', 0):.0%} busy"
                                         for n in SERVERS if n in runs) + ".", ""]
    settings = results.get("settings", {})
    if settings:
        lines += [f"wrk -t{settings['threads']} -c{settings['concurrency']}, {settings['duration']} s per request type "
                  f"after a {settings['warmup']} s warm-up; latencies in ms.", ""]
    for kind, title in KINDS:
        ours_rps = runs.get("ours", {}).get("kinds", {}).get(kind, {}).get("wrk", {}).get("req_s")
        rows = []
        for name in SERVERS:
            entry = runs.get(name, {}).get("kinds", {}).get(kind)
            if entry is None:
                continue
            w = entry.get("wrk") or {}
            if not entry.get("ok"):
                rows.append(f"| {SERVERS[name]['label']} | not measured: {entry.get('note', '')[:100]} | | | | | | | | | |")
                continue
            matched = entry.get("numberMatched")
            errors = sum((w.get("errors") or {}).values())
            rel = "" if name == "ours" else ratio(ours_rps, w.get("req_s"))
            if name != "ours" and kind == "deep_offset":
                cursor = runs.get("ours", {}).get("kinds", {}).get("deep_cursor", {}).get("wrk", {}).get("req_s")
                rel = f"{rel} (our keyset: {ratio(cursor, w.get('req_s'))})"
            rows.append(f"| {SERVERS[name]['label']} | {fmt(w.get('req_s'))} | {fmt(w.get('p50_ms'))} | "
                        f"{fmt(w.get('p95_ms'))} | {fmt(w.get('p99_ms'))} | {fmt(w.get('server_cpu_ms'), 2)} | "
                        f"{fmt(w.get('database_cpu_ms'), 2)} | {errors or 0} | "
                        f"{'no' if matched is None else format(matched, ',')} | "
                        f"{'' if w.get('foreign_cpu') is None else format(w['foreign_cpu'], '.0%')} | {rel} |")
        floor = results.get("floor", {}).get(kind)
        if rows and floor and floor.get("req_s"):
            rows.append(f"| PostgreSQL alone ({floor['mode']}, our statement) | {fmt(floor['req_s'])} | "
                        f"{fmt(floor['latency_ms'], 2)} (mean) | | | | {fmt(floor.get('database_cpu_ms'), 3)} | 0 | | "
                        f"{format(floor['foreign_cpu'], '.0%')} | {ratio(ours_rps, floor['req_s'])} |")
        if rows:
            lines += [f"**{title}**", "",
                      "| server | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req | database CPU ms/req | errors "
                      "| numberMatched | other load | ours ÷ this |",
                      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", *rows, ""]
    walks = [(name, runs[name]["walk"]) for name in SERVERS if runs.get(name, {}).get("walk")]
    if walks:
        lines += ["Whole-table walk by `next` links, `limit=10000` (RSS of each worker in MB: before / after page 1 / "
                  "max / end):", "",
                  "| server | pages | features | total s | s/page first 5 | s/page last 5 | worker RSS | other load | outcome |",
                  "|---|---:|---:|---:|---:|---:|---|---:|---|"]
        for name, w in walks:
            rss = "; ".join(f"{x['start_mb']:.0f} / {x['after_page1_mb']:.0f} / {x['max_mb']:.0f} / {x['end_mb']:.0f}"
                            for x in w["workers"])
            outcome = "complete, all ids distinct" if w["complete"] else (w["failed"] or "incomplete")
            lines.append(f"| {SERVERS[name]['label']} | {w['pages']} | {w['features']:,} | {w['seconds']} | "
                         f"{w['first5_s']} | {w['last5_s']} | {rss} | {w.get('foreign_cpu', 0):.0%} | {outcome} |")
        lines.append("")
    comparison = bbox_comparison(results)
    if comparison:
        lines += comparison + [""]
    if runs.get("ours"):
        lines += ["Targets (issue 4):", ""] + targets(results) + [""]
    if results.get("sql_ms"):
        lines += ["The same SQL shapes in PostgreSQL alone (median of 5, ms): " + "; ".join(
            f"{label}: {ms}" for label, ms in results["sql_ms"].items()) + ".", ""]
    return "\n".join(lines)


def bbox_comparison(results: dict) -> list[str]:
    runs = results.get("runs", {})
    have = {name: runs[name]["bbox_ids"] for name in SERVERS if runs.get(name, {}).get("bbox_ids")}
    if len(have) < 2:
        return []
    lines = ["Same 5 bboxes on each server (ids compared with ours):", ""]
    reference = have.get("ours")
    for name, boxes in have.items():
        if name == "ours" or reference is None:
            continue
        same_sets = sum(1 for a, b in zip(reference, boxes) if isinstance(b["all"], list) and set(a["all"]) == set(b["all"]))
        same_pages = sum(1 for a, b in zip(reference, boxes) if a["page"] == b["page"])
        same_sorted = sum(1 for a, b in zip(reference, boxes) if a["page"] == b.get("sorted"))
        diffs = [len(set(a["all"]) ^ set(b["all"])) for a, b in zip(reference, boxes) if isinstance(b["all"], list)]
        lines.append(f"- {SERVERS[name]['label']}: complete id sets equal in {same_sets}/5 boxes (ids in one set "
                     f"only: {diffs}); first 100 in the same order {same_pages}/5; with sortby=fid {same_sorted}/5.")
    truth = results.get("bbox_truth")
    if truth:
        lines.append(f"- Against PostGIS ({truth['features']} parcels really intersect the 5 lon/lat boxes, geometries "
                     f"taken to WGS 84 with the pinned EPSG:6960 operation): " + "; ".join(
                         f"{SERVERS[n]['label']} misses {v['missing']}, adds {v['extra']}"
                         for n, v in truth["servers"].items()) + ".")
    return lines
