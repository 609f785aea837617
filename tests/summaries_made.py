"""Hand-made datasets for the summary tests, placed on the real district boundaries of the test database.

Geometries are built around the shared boundary of Ninh Kiều and Cái Răng (read from `cantho-districts`), so a
feature crosses it for certain; the expected figures are computed separately, on the geography type (the
ellipsoid), never through the summary's own SQL.
"""
import json
from pathlib import Path

from django.db import connection

from layers.registry.services import DatasetMetadata, import_vector_dataset

PREFIX = "t-sum-"
NINH_KIEU, CAI_RANG = "Quận Ninh Kiều", "Quận Cái Răng"


def metadata(access: str = "public") -> DatasetMetadata:
    return DatasetMetadata(title_vi="Thửa đất thử nghiệm", title_en="Test parcels", sector="land",
                           licence_name="CC BY 4.0", attribution="Sở Tài nguyên và Môi trường (test)",
                           access_level=access)


def _one(query: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()


def anchors() -> dict:
    """A point on the Ninh Kiều / Cái Răng boundary and a point inside each district (lon, lat)."""
    boundary = _one("""SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(ST_Intersection(ST_Boundary(a.geom),
                       ST_Boundary(b.geom))) p FROM sdi_data.cantho_districts a, sdi_data.cantho_districts b
                       WHERE a.name = %s AND b.name = %s) x""", [NINH_KIEU, CAI_RANG])
    inside = {}
    for name in (NINH_KIEU, CAI_RANG):
        inside[name] = _one("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p "
                            "FROM sdi_data.cantho_districts WHERE name = %s) x", [name])
    return {"boundary": boundary, "inside": inside}


def square(centre, half: float) -> dict:
    x, y = centre
    ring = [[x - half, y - half], [x + half, y - half], [x + half, y + half], [x - half, y + half], [x - half, y - half]]
    return {"type": "Polygon", "coordinates": [ring]}


def write(path: Path, features: list) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": properties, "geometry": geometry} for properties, geometry in features
    ]}, ensure_ascii=False), encoding="utf-8")
    return path


def parcels_features(points: dict) -> list:
    nk = points["inside"][NINH_KIEU]
    return [
        ({"ma_thua": 1, "loai": "ODT", "gia_tri": 1000.0}, square(points["boundary"], 0.001)),  # straddles
        ({"ma_thua": 2, "loai": "LUC", "gia_tri": 10.0}, square(nk, 0.0004)),
        ({"ma_thua": 3, "loai": "ODT", "gia_tri": 30.0}, square((nk[0] + 0.0002, nk[1]), 0.0003)),
    ]


def line_features(points: dict) -> list:
    nk, cr = points["inside"][NINH_KIEU], points["inside"][CAI_RANG]
    return [({"ten": "Đường thử", "lan_xe": 4}, {"type": "LineString", "coordinates": [list(nk), list(cr)]})]


def point_features(points: dict) -> list:
    nk, cr = points["inside"][NINH_KIEU], points["inside"][CAI_RANG]
    return [
        ({"ten": "Trạm 1", "giuong": 10}, {"type": "Point", "coordinates": list(nk)}),
        ({"ten": "Trạm 2", "giuong": 30}, {"type": "Point", "coordinates": [nk[0] + 0.0001, nk[1]]}),
        ({"ten": "Trạm 3", "giuong": 5}, {"type": "Point", "coordinates": list(cr)}),
    ]


def load(folder: Path, slug: str, features: list, access: str = "public", replace: bool = False):
    path = write(folder / f"{slug}.geojson", features)
    return import_vector_dataset(path, slug=slug, metadata=metadata(access), replace=replace).dataset


def expected_by_unit(dataset_table: str, units_table: str, code_field: str, kind: str,
                     attribute: str | None = None) -> dict:
    """{unit code: (size, apportioned sum, weighted mean)} on the ellipsoid (geography), independently of the
    summary's SQL; size is m² for polygons, m for lines."""
    size = "ST_Area" if kind == "polygon" else "ST_Length"
    value = f"p.{attribute}::float8" if attribute else "0"
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT code, sum(part), sum({value} * part / whole), sum({value} * part) / NULLIF(sum(part), 0)
            FROM (SELECT u."{code_field}"::text AS code, f.*,
                         {size}(ST_Intersection(f.geom, u.geom)::geography) AS part, {size}(f.geom::geography) AS whole
                  FROM sdi_data.{dataset_table} f JOIN sdi_data.{units_table} u ON ST_Intersects(f.geom, u.geom)) p
            GROUP BY code""")
        return {code: (part, apportioned, mean) for code, part, apportioned, mean in cursor.fetchall() if part > 0}
