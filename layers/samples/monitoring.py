"""Synthetic surface-water monitoring: ~20 stations by the real rivers and canals of Cần Thơ's 9 districts, each
with a reading a month for 2024–2025, so that `datetime=` selects a period on the OGC API.

Stations sit where the real river/canal lines (config/data/cantho/environment/, GSHHG WDB-II and Natural Earth)
cross a district, else inland in it; the values follow the delta's seasons (salinity in the dry season,
suspended solids in the flood season, low oxygen inland) from a fixed seed. `vuot_quy_chuan` compares each
reading with the column B1 limits of QCVN 08-MT:2015/BTNMT (irrigation water), the limits still quoted for
classing canal water; QCVN 08:2023/BTNMT replaced its columns with quality levels A–D.
"""
import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import shapely
from django.conf import settings
from shapely.geometry import shape

from layers.samples.geometry import district_codes, district_name, district_vn2000, to_vn2000, to_wgs84

RIVER_FILES = ("data/cantho/environment/cantho_gshhg_wdbii_rivers.geojson",
               "data/cantho/environment/cantho_ne10m_rivers.geojson")
RIVER_REACH_METRES = 150  # a river-side station stands this close to the line
EXTRA_STATIONS = {"916": 1, "919": 1}  # Ninh Kiều and Cái Răng get a third station (the city's busiest banks)
MONTHS = [(year, month) for year in (2024, 2025) for month in range(1, 13)]
VIETNAM = timezone(timedelta(hours=7))
SEED = 2024

# QCVN 08-MT:2015/BTNMT, Table 1, column B1.
B1_LIMITS = {"ph": (5.5, 9.0), "do_mg_l": (4.0, None), "bod5_mg_l": (None, 15.0), "cod_mg_l": (None, 30.0),
             "tss_mg_l": (None, 50.0)}
PARAMETER_NAMES = {"ph": "pH", "do_mg_l": "DO", "bod5_mg_l": "BOD5", "cod_mg_l": "COD", "tss_mg_l": "TSS"}


@dataclass(frozen=True)
class Station:
    code: str
    name: str
    district: str  # the district's name
    riverside: bool
    point: shapely.Point  # EPSG:5897


def _rivers_vn2000() -> shapely.Geometry:
    lines = []
    for name in RIVER_FILES:
        features = json.loads(Path(settings.SDI_CONFIG_DIR, name).read_text(encoding="utf-8"))["features"]
        lines += [to_vn2000(shape(f["geometry"])) for f in features]
    return shapely.union_all(lines)


def stations() -> list[Station]:
    """Two stations per district (three in Ninh Kiều and Cái Răng): by a river or canal where one crosses the
    district, inland otherwise."""
    rivers = _rivers_vn2000()
    found = []
    for code in district_codes():
        district = district_vn2000(code)
        wanted = 2 + EXTRA_STATIONS.get(code, 0)
        zone = shapely.intersection(district.buffer(-50), rivers.buffer(RIVER_REACH_METRES))
        riverside = sorted(shapely.get_parts(zone), key=lambda g: -g.area)[:wanted - 1] if not zone.is_empty else []
        points = [(True, part.point_on_surface()) for part in riverside]
        minx, miny, maxx, maxy = district.bounds
        inland = wanted - len(points)
        for k in range(inland):  # inland: the middle of equal slices of the district, west to east
            left = minx + (maxx - minx) * k / inland
            piece = shapely.intersection(district, shapely.box(left, miny, left + (maxx - minx) / inland, maxy))
            points.append((False, piece.point_on_surface()))
        name = district_name(code)
        for number, (by_river, point) in enumerate(points, start=1):
            kind = "ven sông, kênh" if by_river else "kênh nội đồng"
            found.append(Station(f"NM-{code}-{number:02d}", f"Điểm quan trắc nước mặt {kind} số {number}, {name}",
                                 name, by_river, point))
    return found


def _reading(station: Station, index: int, year: int, month: int, rng: random.Random) -> dict:
    dry = month in (2, 3, 4)
    flood = month in (8, 9, 10, 11)
    season = math.cos(2 * math.pi * (month - 3) / 12)  # 1 in March (driest), -1 in September
    urban = station.district.startswith("Quận")
    values = {
        "ph": round(rng.gauss(7.1, 0.3) - (1.2 if month in (5, 6) and not station.riverside and rng.random() < 0.3
                                            else 0), 2),
        "do_mg_l": round(max(1.5, rng.gauss(5.2, 0.6) - (1.0 if dry and not station.riverside else 0)
                             - (0.6 if urban and not station.riverside else 0)), 2),
        "bod5_mg_l": round(max(2.0, rng.gauss(9 + (4 if urban else 0) + 2 * season, 2.5)), 1),
        "tss_mg_l": round(max(5.0, rng.gauss(26 + (32 if flood else 0) + (8 if station.riverside else 0), 9)), 1),
        "do_man_permille": round(max(0.0, (0.9 if station.riverside else 0.25) * max(0.0, season) ** 2
                                     + rng.gauss(0.05, 0.03)), 2),
    }
    values["cod_mg_l"] = round(values["bod5_mg_l"] * rng.uniform(1.6, 2.2), 1)
    exceeded = [PARAMETER_NAMES[k] for k, (low, high) in B1_LIMITS.items()
                if (low is not None and values[k] < low) or (high is not None and values[k] > high)]
    taken = datetime(year, month, 15, 8, 0, tzinfo=VIETNAM) + timedelta(minutes=15 * index)
    return {"ma_tram": station.code, "ten_tram": station.name, "quan_huyen": station.district,
            "thoi_gian": taken.isoformat(), "ph": values["ph"], "do_mg_l": values["do_mg_l"],
            "bod5_mg_l": values["bod5_mg_l"], "cod_mg_l": values["cod_mg_l"], "tss_mg_l": values["tss_mg_l"],
            "do_man_permille": values["do_man_permille"], "vuot_quy_chuan": bool(exceeded),
            "thong_so_vuot": ", ".join(exceeded)}


def readings(found: list[Station]) -> list[tuple[dict, shapely.Geometry]]:
    """One feature per station per month (the 15th, from 08:00 Vietnam time, a station every 15 minutes), lon/lat."""
    rng = random.Random(SEED)
    points = {s.code: to_wgs84(s.point) for s in found}
    return [(_reading(station, index, year, month, rng), points[station.code])
            for year, month in MONTHS for index, station in enumerate(found)]


def station_rows(found: list[Station]) -> list[dict]:
    """One CSV row per station, with lon/lat columns."""
    rows = []
    for station in found:
        point = to_wgs84(station.point)
        rows.append({"ma_tram": station.code, "ten_tram": station.name, "quan_huyen": station.district,
                     "vi_tri": "ven sông, kênh" if station.riverside else "kênh nội đồng",
                     "lon": f"{point.x:.6f}", "lat": f"{point.y:.6f}"})
    return rows
