"""The request types sent to every server, and their paths drawn from fixed seeds, so every server gets the same
boxes, offsets and ids."""
import random
import urllib.parse

from bench.data.parcels_1m import COUNT
from bench.peers.servers import SERVERS

EPSG5897 = "http://www.opengis.net/def/crs/EPSG/0/5897"


# Request types: (key, title). Every server gets the same random boxes / offsets / ids (fixed seeds).
KINDS = [
    ("page1", "a. first page `limit=1000`"),
    ("deep_offset", "a. random deep page `limit=1000&offset=<0..999000>`"),
    ("deep_cursor", "a. random deep page, keyset `limit=1000&cursor=<id>` (ours only: what our next links use)"),
    ("bbox", "b. random ~1 km² `bbox` (CRS84) `&limit=100`"),
    ("prop_filter", "c. property equality `ma_loai_dat=ODT&limit=100`"),
    ("cql_filter", "c. CQL2 text `filter=ma_loai_dat='ODT'&limit=100`"),
    ("item", "d. `items/{id}`, random ids"),
    ("crs", "e. `crs=EPSG:5897&limit=1000` (storage CRS, no transformation)"),
]
PATHS_PER_KIND = 2000


def random_box(rng: random.Random) -> tuple[float, float, float, float]:
    lon, lat = rng.uniform(105.70, 105.80), rng.uniform(10.00, 10.08)
    half = 0.0045
    return (round(lon - half, 5), round(lat - half, 5), round(lon + half, 5), round(lat + half, 5))


def query_for(kind: str, rng: random.Random) -> tuple[str, dict]:
    """(path suffix, expectations) for one request of a kind; the same sequence for every server."""
    if kind == "page1":
        return "?limit=1000", {"count": 1000}
    if kind == "deep_offset":
        return f"?limit=1000&offset={rng.randint(0, 999_000)}", {"count": 1000}
    if kind == "deep_cursor":
        return f"?limit=1000&cursor={rng.randint(0, 999_000)}", {"count": 1000}
    if kind == "bbox":
        box = random_box(rng)
        return "?" + urllib.parse.urlencode({"bbox": ",".join(map(str, box)), "limit": 100}), {"max": 100}
    if kind == "prop_filter":
        return "?ma_loai_dat=ODT&limit=100", {"count": 100, "odt": True}
    if kind == "cql_filter":
        return "?" + urllib.parse.urlencode({"filter": "ma_loai_dat='ODT'", "limit": 100}), {"count": 100, "odt": True}
    if kind == "item":
        fid = rng.randint(1, COUNT)
        return f"/{fid}", {"feature": fid}
    if kind == "crs":
        return "?" + urllib.parse.urlencode({"crs": EPSG5897, "limit": 1000}), {"count": 1000, "projected": True}
    raise ValueError(kind)


def request_paths(name: str, kind: str) -> list[tuple[str, dict]]:
    rng = random.Random(f"{kind}-482")
    return [(SERVERS[name]["items"] + suffix, expect)
            for suffix, expect in (query_for(kind, rng) for _ in range(PATHS_PER_KIND))]
