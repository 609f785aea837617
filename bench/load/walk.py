"""The whole-table walk: follow `next` links to the end, timing pages and sampling each worker's memory."""
import json
import subprocess
import time

from bench.data.parcels_1m import COUNT
from bench.load.fetch import http_get
from bench.peers.servers import SERVERS, base_url
from bench.processes import log, rss_mb, worker_pids


def walk(name: str, proc: subprocess.Popen, cap_seconds: float) -> dict:
    """Follow `next` links from limit=10000 to the end (or the cap), timing pages and sampling worker RSS."""
    url = base_url(name) + SERVERS[name]["items"] + "?limit=10000&skipGeometry=false"
    workers = worker_pids(proc.pid)
    rss_start = {pid: rss_mb(pid) for pid in workers}
    rss_max = dict(rss_start)
    pages, seen, total, failed = [], set(), 0, None
    started = time.monotonic()
    while url:
        remaining = cap_seconds - (time.monotonic() - started)
        if remaining <= 0:
            failed = f"stopped at the {cap_seconds:.0f} s cap after page {len(pages)}"
            break
        t0 = time.perf_counter()
        try:
            status, _, body = http_get(url, timeout=min(300.0, remaining))
        except OSError as exc:
            failed = f"page {len(pages) + 1} failed after {time.perf_counter() - t0:.0f} s: {exc}"
            break
        seconds = time.perf_counter() - t0
        if status != 200:
            failed = f"page {len(pages) + 1}: HTTP {status} {body[:120]!r}"
            break
        doc = json.loads(body)
        features = doc["features"]
        total += len(features)
        seen.update(f["id"] for f in features)
        sample = {pid: rss_mb(pid) for pid in workers}
        for pid, value in sample.items():
            if value is not None:
                rss_max[pid] = max(rss_max.get(pid) or 0, value)
        pages.append({"seconds": round(seconds, 3), "returned": len(features), "rss": sample})
        if len(pages) % 10 == 0:
            log(f"  {name} walk: page {len(pages)}, {total} features, {seconds:.2f} s/page, "
                f"RSS {', '.join(f'{v:.0f}' for v in sample.values() if v)} MB")
        url = next((link["href"] for link in doc.get("links", []) if link.get("rel") == "next"), None)
        if not features:
            break
    rss_end = {pid: rss_mb(pid) for pid in workers}
    per_page = [p["seconds"] for p in pages if p["returned"]]
    return {
        "pages": len(pages), "features": total, "distinct_ids": len(seen), "complete": total == COUNT == len(seen),
        "failed": failed, "seconds": round(time.monotonic() - started, 1),
        "first5_s": round(sum(per_page[:5]) / max(1, len(per_page[:5])), 3),
        "last5_s": round(sum(per_page[-5:]) / max(1, len(per_page[-5:])), 3),
        "page_seconds": per_page,
        "workers": [{"pid": pid, "start_mb": round(rss_start[pid] or 0, 1), "max_mb": round(rss_max[pid] or 0, 1),
                     "end_mb": round(rss_end[pid] or 0, 1),
                     "after_page1_mb": round((pages[0]["rss"].get(pid) or 0) if pages else 0, 1),
                     "series_mb": [round(p["rss"].get(pid) or 0, 1) for p in pages]}
                    for pid in workers],
    }
