"""--check: the GeoPackage has what bench/data/README.md promises (count, types, SRS, index, a sample of valid
parcels inside their district)."""
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import shapely
import shapely.geometry
from pyproj.transformer import Transformer

from bench.data.parcels.crs import TARGET_EPSG, transform_geom
from bench.data.parcels.districts import DISTRICTS_GEOJSON
from bench.data.parcels.gpkg import FIELDS


def _gpkg_blob_to_wkb(blob: bytes) -> tuple[bytes, int]:
    assert blob[:2] == b"GP", blob[:4]
    flags = blob[3]
    env = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 7]
    srs_id = int.from_bytes(blob[4:8], "little" if flags & 1 else "big", signed=True)
    return blob[8 + env:], srs_id


def check(out: Path, layer: str, tr: Transformer, sample: int = 5000, seed: int = 0) -> None:
    """ogrinfo summary + geometry / attribute checks on a random sample of parcels."""
    import sqlite3

    info = subprocess.run(["ogrinfo", "-ro", "-so", str(out), layer], capture_output=True,
                          text=True, check=True).stdout
    n = int(re.search(r"^Feature Count: (\d+)", info, re.M)[1])
    srs = re.search(r'ID\["EPSG",(\d+)\]\]\s*\nData axis', info)
    fields = dict(re.findall(r"^(\w+): (\w+) \(", info, re.M))
    gtype = re.search(r"^Geometry: (.+)$", info, re.M)[1]
    print(f"ogrinfo: {n} features, geometry {gtype}, SRS EPSG:{srs and srs[1]}, fields: "
          + ", ".join(f"{k} {v}" for k, v in fields.items()))
    assert gtype == "Polygon", gtype
    assert srs and srs[1] == str(TARGET_EPSG), "SRS is not EPSG:5897"
    assert fields == FIELDS, fields
    assert "SYNTHETIC" in info

    con = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
    q = lambda sql, *a: con.execute(sql, a).fetchall()      # noqa: E731
    assert q("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = ?", layer)[0][0] == n
    assert q(f'SELECT COUNT(*) FROM "rtree_{layer}_geom"')[0][0] == n, "spatial index incomplete"
    assert "SYNTHETIC" in q("SELECT description FROM gpkg_contents WHERE table_name = ?", layer)[0][0]

    rng = np.random.default_rng(seed)
    fids = rng.choice(np.arange(1, n + 1), size=min(sample, n), replace=False).tolist()
    rows = []
    for i in range(0, len(fids), 900):
        part = fids[i:i + 900]
        rows += q(f'SELECT fid, ma_huyen, dien_tich, geom FROM "{layer}" WHERE fid IN '
                  f'({",".join("?" * len(part))})', *part)
    wkb, srs_ids = zip(*(_gpkg_blob_to_wkb(r[3]) for r in rows))
    geoms = shapely.from_wkb(list(wkb))
    code = np.array([r[1] for r in rows])
    dt = np.array([r[2] for r in rows])
    nv = shapely.get_num_coordinates(geoms) - 1
    assert set(srs_ids) == {TARGET_EPSG}, set(srs_ids)
    assert shapely.is_valid(geoms).all(), "invalid parcel geometry"
    assert ((nv >= 4) & (nv <= 6)).all(), np.unique(nv)
    assert (np.abs(shapely.area(geoms) - dt) <= 0.05 + 1e-6).all(), "dien_tich != area"

    # back to EPSG:4326 through the same EPSG:6960 operation, against the source polygons
    back = transform_geom(geoms, tr, inverse=True)
    with open(DISTRICTS_GEOJSON, encoding="utf-8") as f:
        src = {int(ft["properties"]["level2_id"]): shapely.geometry.shape(ft["geometry"])
               for ft in json.load(f)["features"]}
    inside = np.array([src[c].contains(g) for c, g in zip(code.tolist(), back)])
    print(f"sample of {len(rows)}: all valid, 4-6 vertices, dien_tich = area, SRS id 5897; "
          f"{inside.sum()}/{len(rows)} inside their district after EPSG:5897 -> 4326 (EPSG:6960)")
    assert inside.all()

    print("per district: parcels, median m², top land-use codes")
    for c, name, cnt in q(f'SELECT ma_huyen, ten_huyen, COUNT(*) FROM "{layer}" GROUP BY 1, 2 ORDER BY 1'):
        areas = np.array([r[0] for r in q(f'SELECT dien_tich FROM "{layer}" WHERE ma_huyen = ?', c)])
        top = q(f'SELECT ma_loai_dat, COUNT(*) FROM "{layer}" WHERE ma_huyen = ? '
                'GROUP BY 1 ORDER BY 2 DESC LIMIT 4', c)
        print(f"  {c} {name:<18} {cnt:>8} {np.median(areas):>7.0f}  "
              + " ".join(f"{k} {100 * v / cnt:.0f}%" for k, v in top))
    con.close()
