"""The nine real district boundaries, projected to EPSG:5897, with their (real) ward names and profiles."""
import json
import math
import unicodedata
from dataclasses import dataclass

import numpy as np
import shapely
import shapely.geometry
from pyproj.transformer import Transformer

from bench import REPO
from bench.data.parcels.crs import transform_geom
from bench.data.parcels.landuse import OWNERS, PROFILES, Profile

DISTRICTS_GEOJSON = REPO / "config/data/cantho/admin/cantho_districts_gischinhphu.geojson"


# Ward names per GSO district code (administrative units before 1 July 2025).  The first
# one is put at the seed nearest the district centroid; the others are placed at random,
# so the *location* of a ward in this data set is fictional.
WARDS: dict[int, list[str]] = {
    916: ["Phường Tân An", "Phường Cái Khế", "Phường An Hòa", "Phường Thới Bình",
          "Phường An Nghiệp", "Phường An Cư", "Phường An Phú", "Phường Xuân Khánh",
          "Phường Hưng Lợi", "Phường An Khánh", "Phường An Bình"],
    917: ["Phường Châu Văn Liêm", "Phường Thới Hòa", "Phường Thới Long", "Phường Long Hưng",
          "Phường Thới An", "Phường Phước Thới", "Phường Trường Lạc"],
    918: ["Phường Bình Thuỷ", "Phường Trà An", "Phường Trà Nóc", "Phường Thới An Đông",
          "Phường An Thới", "Phường Bùi Hữu Nghĩa", "Phường Long Hòa", "Phường Long Tuyền"],
    919: ["Phường Lê Bình", "Phường Thường Thạnh", "Phường Phú Thứ", "Phường Tân Phú",
          "Phường Ba Láng", "Phường Hưng Phú", "Phường Hưng Thạnh"],
    923: ["Phường Thốt Nốt", "Phường Thới Thuận", "Phường Thuận An", "Phường Tân Lộc",
          "Phường Trung Nhứt", "Phường Thạnh Hòa", "Phường Trung Kiên", "Phường Tân Hưng",
          "Phường Thuận Hưng"],
    924: ["Thị trấn Vĩnh Thạnh", "Thị trấn Thạnh An", "Xã Thạnh Thắng", "Xã Thạnh Lợi",
          "Xã Thạnh Quới", "Xã Thạnh Lộc", "Xã Thạnh Mỹ", "Xã Thạnh Tiến", "Xã Thạnh An",
          "Xã Vĩnh Trinh", "Xã Vĩnh Bình"],
    925: ["Thị trấn Cờ Đỏ", "Xã Trung An", "Xã Trung Thạnh", "Xã Trung Hưng", "Xã Thạnh Phú",
          "Xã Thới Hưng", "Xã Đông Hiệp", "Xã Đông Thắng", "Xã Thới Đông", "Xã Thới Xuân"],
    926: ["Thị trấn Phong Điền", "Xã Nhơn Ái", "Xã Giai Xuân", "Xã Tân Thới", "Xã Trường Long",
          "Xã Mỹ Khánh", "Xã Nhơn Nghĩa"],
    927: ["Thị trấn Thới Lai", "Xã Thới Thạnh", "Xã Tân Thạnh", "Xã Xuân Thắng", "Xã Đông Bình",
          "Xã Đông Thuận", "Xã Thới Tân", "Xã Trường Thắng", "Xã Định Môn", "Xã Trường Thành",
          "Xã Trường Xuân", "Xã Trường Xuân A", "Xã Trường Xuân B"],
}


PROFILE_OF = {916: "urban", 918: "semi", 919: "semi", 917: "town", 923: "town",
              924: "rural", 925: "rural", 927: "rural", 926: "orchard"}


assert all(unicodedata.is_normalized("NFC", s) for s in [*OWNERS, *sum(WARDS.values(), [])])


@dataclass
class District:
    code: int
    name: str
    geom: object            # shapely (Multi)Polygon in EPSG:5897
    profile: Profile
    theta: float            # grid orientation (rad)
    blocks: dict | None = None
    capacity: int = 0


def load_districts(tr: Transformer, seed: int) -> list[District]:
    with open(DISTRICTS_GEOJSON, encoding="utf-8") as f:
        fc = json.load(f)
    out = []
    for feat in fc["features"]:
        code = int(feat["properties"]["level2_id"])
        name = unicodedata.normalize("NFC", feat["properties"]["name"])
        geom = shapely.make_valid(transform_geom(shapely.geometry.shape(feat["geometry"]), tr))
        shapely.prepare(geom)
        rng = np.random.default_rng([seed, code, 0])
        # The canal grid of the delta roughly follows the Hậu river (NW -> SE).
        theta = math.radians(-40 + rng.uniform(-12, 12))
        out.append(District(code, name, geom, PROFILES[PROFILE_OF[code]], theta))
    out.sort(key=lambda d: d.code)
    assert [d.code for d in out] == sorted(WARDS), [d.code for d in out]
    return out
