"""Do the servers select the same parcels for the same box, and the parcels that really intersect it?"""
import json
import random
import urllib.parse

from bench.data.parcels_1m import SCHEMA, TABLE
from bench.database import sql
from bench.load.fetch import http_get
from bench.load.shapes import random_box
from bench.peers.servers import SERVERS, base_url


def bbox_ids(name: str, boxes: int = 5) -> list[dict]:
    """ids of the first boxes, as returned (limit=100) and as complete sets (limit=10000)."""
    rng = random.Random("bbox-482")
    out = []
    for _ in range(boxes):
        box = ",".join(map(str, random_box(rng)))
        entry = {"bbox": box}
        for key, extra in (("page", {"limit": 100}), ("all", {"limit": 10000}),
                           ("sorted", {"limit": 100, "sortby": "fid"})):
            url = base_url(name) + SERVERS[name]["items"] + "?" + urllib.parse.urlencode({"bbox": box, **extra})
            status, _, body = http_get(url, timeout=120)
            entry[key] = [int(f["id"]) for f in json.loads(body)["features"]] if status == 200 else f"HTTP {status}"
        out.append(entry)
    return out


def bbox_truth(results: dict) -> None:
    """Which parcels really intersect each test box (lon/lat box, geometries taken to WGS 84 through the pinned
    EPSG:6960 VN-2000 transformation, as our output does), and what each server missed or added."""
    runs = results.get("runs", {})
    boxes = next((runs[n]["bbox_ids"] for n in SERVERS if runs.get(n, {}).get("bbox_ids")), None)
    if not boxes:
        return
    truth = []
    for entry in boxes:
        box = [float(v) for v in entry["bbox"].split(",")]
        envelope = "ST_MakeEnvelope(%s, %s, %s, %s, 4326)"
        rows = sql(f'SELECT fid FROM "{SCHEMA}"."{TABLE}" t WHERE t.geom && ST_Expand(ST_SetSRID(ST_Transform('
                   f"{envelope}, 905897), 5897), 20) AND ST_Intersects(ST_Transform(ST_SetSRID(t.geom, 905897), 4326), "
                   f"{envelope})", *box, *box)
        truth.append({"bbox": entry["bbox"], "ids": sorted(r[0] for r in rows)})
    summary = {}
    for name in SERVERS:
        got = runs.get(name, {}).get("bbox_ids")
        if not got:
            continue
        missing = extra = 0
        for expected, answer in zip(truth, got):
            if isinstance(answer["all"], list):
                missing += len(set(expected["ids"]) - set(answer["all"]))
                extra += len(set(answer["all"]) - set(expected["ids"]))
        summary[name] = {"missing": missing, "extra": extra}
    results["bbox_truth"] = {"features": sum(len(t["ids"]) for t in truth), "servers": summary}
