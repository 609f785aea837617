"""Is an answer valid for its request? A request type whose first answers are not is not load-tested."""
import json
import time

from bench.load.fetch import http_get
from bench.load.shapes import request_paths
from bench.peers.servers import base_url


def check_response(status: int, headers: dict, body: bytes, expect: dict) -> tuple[bool, str, dict]:
    """Is this a valid answer for the request? Returns (ok, note, facts)."""
    if status != 200:
        return False, f"HTTP {status}: {body[:160].decode(errors='replace')}", {}
    try:
        doc = json.loads(body)
    except ValueError:
        return False, "not JSON", {}
    if "feature" in expect:
        ok = doc.get("type") == "Feature" and str(doc.get("id")) == str(expect["feature"])
        return ok, "" if ok else f"not Feature {expect['feature']}: {str(doc)[:120]}", {}
    if doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        return False, f"not a FeatureCollection: {str(doc)[:160]}", {}
    features = doc["features"]
    facts = {"returned": len(features), "numberMatched": doc.get("numberMatched"),
             "numberReturned": doc.get("numberReturned"), "ids": [f.get("id") for f in features],
             "content_crs": headers.get("Content-Crs") or headers.get("content-crs")}
    if "count" in expect and len(features) != expect["count"]:
        return False, f"{len(features)} features, expected {expect['count']}", facts
    if "max" in expect and not 0 < len(features) <= expect["max"]:
        return False, f"{len(features)} features, expected 1..{expect['max']}", facts
    if expect.get("odt") and any(f["properties"].get("ma_loai_dat") != "ODT" for f in features):
        return False, "features with ma_loai_dat != ODT (filter ignored?)", facts
    if expect.get("projected"):
        first = features[0]["geometry"]["coordinates"][0][0]
        if abs(first[0]) < 1000:
            return False, f"not supported (coordinates still lon/lat: {first})", facts
    return True, "", facts


def verify(name: str, kind: str) -> dict:
    """Send the first few requests of a kind one by one; a kind that fails is not load-tested."""
    outcome = {"ok": True, "note": "", "single_ms": []}
    for path, expect in request_paths(name, kind)[:4]:
        start = time.perf_counter()
        try:
            status, headers, body = http_get(base_url(name) + path, timeout=120)
        except OSError as exc:
            return {"ok": False, "note": f"request failed: {exc}", "single_ms": []}
        outcome["single_ms"].append(round((time.perf_counter() - start) * 1000, 1))
        ok, note, facts = check_response(status, headers, body, expect)
        if not ok:
            return {"ok": False, "note": note, "single_ms": outcome["single_ms"], "path": path}
        if facts:
            outcome["numberMatched"] = facts["numberMatched"]
            outcome["content_crs"] = facts["content_crs"]
    return outcome
