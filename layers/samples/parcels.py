"""Synthetic land-use parcels for three districts, each with the schema, code list, encoding and CRS of a
different (imagined) office. Nothing here is real except the district boundaries the grids are cut to.

- Bình Thủy (918): full Vietnamese purpose names, TCVN3 .dbf, VN-2000; a strip reaches ~30 m into Ninh Kiều
  (a survey mismatch the merge must report) and one stretch of the border is left 25 m short (a gap).
- Cái Răng (919): an English code list, areas in hectares, a survey date, WGS 84.
- Phong Điền (926): the 2014 code list, numeric ids, rural-sized parcels, VN-2000.
Uses are drawn from a fixed seed per district, in blocks (a neighbourhood tends to share a use), so every run
gives the same parcels.
"""
import random
from dataclasses import dataclass
from datetime import date, timedelta

import shapely

from layers.samples import land_use_codes
from layers.samples.geometry import Cell, district_vn2000, grid_cells, multi, to_wgs84

NINH_KIEU, BINH_THUY, CAI_RANG, PHONG_DIEN = "916", "918", "919", "926"
STRIP_METRES = 30  # how far Bình Thủy's parcels reach into Ninh Kiều
GAP_METRES = 25  # how far short of the border they stop in the gap window
GAP_WINDOW_METRES = 400  # length of border left with a gap
BLOCK = 4  # cells per side of a block that shares a dominant use
KEEP_BLOCK_USE = 0.7

Feature = tuple[dict, shapely.Geometry]


@dataclass(frozen=True)
class Parcel:
    sheet: int  # số tờ: one map sheet per 10 x 10 cells
    number: int  # số thửa on that sheet
    use: str  # the district's own code or name
    geometry: shapely.Geometry  # EPSG:5897
    updated: date


def _draw_uses(cells: list[Cell], weights: dict[str, int], seed: int) -> list[str]:
    rng = random.Random(seed)
    names, counts = list(weights), list(weights.values())
    blocks: dict[tuple[int, int], str] = {}
    uses = []
    for cell in cells:
        block = (cell.row // BLOCK, cell.column // BLOCK)
        if block not in blocks:
            blocks[block] = rng.choices(names, counts)[0]
        uses.append(blocks[block] if rng.random() < KEEP_BLOCK_USE else rng.choices(names, counts)[0])
    return uses


def _parcels(area: shapely.Geometry, size: float, weights: dict[str, int], seed: int, dated: tuple[date, date],
             min_area: float) -> list[Parcel]:
    cells = grid_cells(area, size, min_area)
    uses = _draw_uses(cells, weights, seed)
    rng = random.Random(seed + 1)
    days = (dated[1] - dated[0]).days
    numbers: dict[int, int] = {}
    parcels = []
    for cell, use in zip(cells, uses):
        sheet = (cell.row // 10) * 100 + cell.column // 10 + 1
        numbers[sheet] = numbers.get(sheet, 0) + 1
        parcels.append(Parcel(sheet, numbers[sheet], use, cell.geometry, dated[0] + timedelta(rng.randrange(days))))
    renumbered = {s: i for i, s in enumerate(sorted(numbers), start=1)}  # sheets 1..n, as a land office numbers them
    return [Parcel(renumbered[p.sheet], p.number, p.use, p.geometry, p.updated) for p in parcels]


# --- Bình Thủy: Shapefile, TCVN3, VN-2000 -----------------------------------------------------------------------

BINH_THUY_WEIGHTS = {
    "Đất ở tại đô thị": 30, "Đất trồng cây lâu năm": 20, "Đất trồng lúa": 8, "Đất khu công nghiệp": 8,
    "Đất thương mại, dịch vụ": 6, "Đất giao thông": 8, "Đất quốc phòng": 4, "Đất cơ sở sản xuất phi nông nghiệp": 3,
    "Đất thủy lợi": 3, "Đất sông, ngòi, kênh, rạch": 4, "Đất nuôi trồng thủy sản": 2,
    "Đất xây dựng cơ sở giáo dục và đào tạo": 1, "Đất cơ sở tôn giáo": 1, "Đất chưa sử dụng": 2,
}
assert set(BINH_THUY_WEIGHTS) == set(land_use_codes.BINH_THUY)


def border_strip_and_gap() -> tuple[shapely.Geometry, shapely.Geometry]:
    """Where Bình Thủy's survey reaches into Ninh Kiều (the strip) and the Bình Thủy side of the border it leaves
    unsurveyed (the gap: a 400 m stretch, centred on the middle of the shared border), both in EPSG:5897."""
    binh_thuy, ninh_kieu = district_vn2000(BINH_THUY), district_vn2000(NINH_KIEU)
    strip = shapely.intersection(binh_thuy.buffer(STRIP_METRES), ninh_kieu)
    shared = shapely.intersection(binh_thuy.boundary, ninh_kieu.buffer(1))
    line = max(shapely.get_parts(shapely.line_merge(shared)) if shared.geom_type != "LineString" else [shared],
               key=lambda g: g.length)
    middle = line.interpolate(0.5, normalized=True)
    window = middle.buffer(GAP_WINDOW_METRES / 2, cap_style="square")
    gap = shapely.intersection(window, shapely.difference(ninh_kieu.buffer(GAP_METRES), ninh_kieu))
    return shapely.difference(strip, window), gap


def binh_thuy_features() -> list[Feature]:
    strip, gap = border_strip_and_gap()
    surveyed = shapely.difference(shapely.union(district_vn2000(BINH_THUY), strip), gap)
    parcels = _parcels(surveyed, 150, BINH_THUY_WEIGHTS, seed=918, dated=(date(2019, 1, 1), date(2024, 12, 31)),
                       min_area=200)
    return [({"SoHieu": f"BT-{p.sheet:03d}-{p.number:04d}", "MucDichSD": p.use,
              "DienTich": round(p.geometry.area, 1), "NgayCN": p.updated.isoformat()}, multi(p.geometry))
            for p in parcels]


# --- Cái Răng: GeoPackage, WGS 84 -------------------------------------------------------------------------------

CAI_RANG_WEIGHTS = {
    "RES-URBAN": 26, "RES-RURAL": 4, "RICE": 8, "ANNUAL": 4, "PERENNIAL": 20, "AQUACULTURE": 3, "WATER": 5,
    "ROAD": 8, "IRRIGATION": 3, "COMMERCIAL": 6, "INDUSTRY": 6, "MARKET": 1, "SCHOOL": 1, "HEALTH": 1,
    "CEMETERY": 1, "VACANT": 3,
}
assert set(CAI_RANG_WEIGHTS) == set(land_use_codes.CAI_RANG)


def cai_rang_features() -> list[Feature]:
    parcels = _parcels(district_vn2000(CAI_RANG), 150, CAI_RANG_WEIGHTS, seed=919,
                       dated=(date(2023, 1, 1), date(2025, 6, 30)), min_area=200)
    return [({"parcel_id": f"CR-{i:05d}", "landuse": p.use, "area_ha": round(p.geometry.area / 10_000, 4),
              "surveyed": p.updated.isoformat()}, multi(to_wgs84(p.geometry)))
            for i, p in enumerate(parcels, start=1)]


# --- Phong Điền: GeoJSON, VN-2000, 2014 codes -------------------------------------------------------------------

PHONG_DIEN_WEIGHTS = {
    "LUC": 22, "LUK": 8, "HNK": 6, "CLN": 34, "NTS": 5, "ONT": 8, "ODT": 2, "DGT": 4, "DTL": 3, "SON": 4,
    "DCH": 1, "DGD": 1, "TON": 1, "NTD": 1, "SKC": 1, "TMD": 1, "BCS": 1,
}
assert set(PHONG_DIEN_WEIGHTS) == set(land_use_codes.PHONG_DIEN_2014)


def phong_dien_features() -> list[Feature]:
    parcels = _parcels(district_vn2000(PHONG_DIEN), 250, PHONG_DIEN_WEIGHTS, seed=926,
                       dated=(date(2019, 1, 1), date(2019, 12, 31)), min_area=500)
    return [({"MA_THUA": int(PHONG_DIEN) * 10**9 + p.sheet * 10**5 + p.number, "SO_TO": p.sheet,
              "SO_THUA": p.number, "MA_LOAI": p.use, "DT": round(p.geometry.area, 1), "MA_HUYEN": int(PHONG_DIEN),
              "NAM_KK": 2019}, multi(p.geometry))
            for p in parcels]
