"""The issues' targets (how far ahead of each peer, p95, flat memory), each with met / not met."""
from bench.peers.servers import SERVERS


def targets(results: dict) -> list[str]:
    """The issue's targets, each with met / not met."""
    runs = results.get("runs", {})

    def rps(name, kind):
        return runs.get(name, {}).get("kinds", {}).get(kind, {}).get("wrk", {}).get("req_s")

    def p95(kind):
        return runs.get("ours", {}).get("kinds", {}).get(kind, {}).get("wrk", {}).get("p95_ms")

    def verdict(ok):
        return "**met**" if ok else "**not met**"

    lines = ["| target | measured | verdict |", "|---|---|---|"]
    for peer, factor in (("tipg", 1.5), ("pygeoapi", 5.0)):
        for kind, label, ours_kind in (("page1", "first page", "page1"),
                                       ("deep_offset", "random deep page, offset in both", "deep_offset"),
                                       ("deep_offset", "random deep page, our keyset next links vs their offset", "deep_cursor"),
                                       ("crs", "`crs=EPSG:5897` page", "crs")):
            ours, theirs = rps("ours", ours_kind), rps(peer, kind)
            if not ours or not theirs:
                continue
            got = ours / theirs
            lines.append(f"| limit=1000, {label}: ≥ {factor}× {SERVERS[peer]['label']} | {got:.2f}× "
                         f"({ours:.1f} vs {theirs:.1f} req/s) | {verdict(got >= factor)}"
                         + ("" if got >= factor else f", {(1 - got / factor):.0%} short") + " |")
    for kind, label in (("bbox", "bbox"), ("prop_filter", "ma_loai_dat=ODT"), ("cql_filter", "filter=ma_loai_dat='ODT'")):
        value = p95(kind)
        if value is not None:
            lines.append(f"| p95 < 100 ms at concurrency 8, {label} | {value:.1f} ms | {verdict(value < 100)} |")
    walk = runs.get("ours", {}).get("walk")
    if walk:
        growth = []
        for worker in walk["workers"]:
            series = worker.get("series_mb") or []
            if len(series) > 20:  # the peak of the second half of the walk against the peak of the first half
                half = len(series) // 2
                growth.append(max(series[half:]) - max(series[:half]))
            else:
                growth.append(worker["end_mb"] - worker["max_mb"])
        slower = walk["last5_s"] / walk["first5_s"] if walk["first5_s"] else 0
        ok = walk["complete"] and max(growth) < 5 and slower < 1.5
        peaks = "; ".join(f"{w['start_mb']:.0f} → {w['max_mb']:.0f} → {w['end_mb']:.0f}" for w in walk["workers"])
        lines.append(f"| memory flat paging 1M rows (limit=10000, 100 pages) | RSS per worker start → max → end: "
                     f"{peaks} MB; peak of the 2nd half of the walk vs the 1st: "
                     f"{', '.join(f'{g:+.1f}' for g in growth)} MB; s/page last 5 ÷ first 5: {slower:.2f} "
                     f"| {verdict(ok)} |")
    return lines
