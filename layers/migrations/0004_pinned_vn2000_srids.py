"""VN-2000 in spatial_ref_sys: the TM-3 codes PostGIS 3.3 lacks (EPSG:9205–9218), and SRIDs 900000+X for every
VN-2000 code X whose proj4text carries the official EPSG:6960 datum shift.

Transforming through those SRIDs makes PostGIS use EPSG:6960 (not PROJ's own pick, EPSG:5194, 0.8 m away at
Cần Thơ) while keeping PostGIS's per-SRID PROJ cache. Writing spatial_ref_sys needs its owner (usually the
superuser who created the postgis extension).
"""
from django.db import migrations
from pyproj import CRS

from layers.crs.vn2000 import PINNED_SRID_OFFSET, VN2000

# EPSG:6960 in position-vector convention, as +towgs84 expects (EPSG gives coordinate-frame rotations).
TOWGS84_6960 = "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"


def tm3_proj4(code: int) -> str:
    params = {p.name: p.value for p in CRS.from_epsg(code).coordinate_operation.params}
    meridian = params["Longitude of natural origin"]
    return (f"+proj=tmerc +lat_0=0 +lon_0={meridian:g} +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
            f"+towgs84={TOWGS84_6960} +units=m +no_defs")


def forward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT srid FROM spatial_ref_sys WHERE srid = ANY(%s)", (sorted(VN2000),))
        present = {row[0] for row in cursor.fetchall()}
        for code in sorted(set(VN2000) - present):
            cursor.execute(
                "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) VALUES (%s, 'EPSG', %s, %s, %s)",
                (code, code, CRS.from_epsg(code).to_wkt("WKT1_GDAL"), tm3_proj4(code)),
            )
        cursor.execute(
            "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
            "SELECT %s + srid, 'SDI', %s + srid, NULL, proj4text FROM spatial_ref_sys WHERE srid = ANY(%s) "
            "ON CONFLICT (srid) DO UPDATE SET proj4text = EXCLUDED.proj4text",
            (PINNED_SRID_OFFSET, PINNED_SRID_OFFSET, sorted(VN2000)),
        )
        cursor.execute(
            "SELECT srid FROM spatial_ref_sys WHERE srid = ANY(%s) AND proj4text NOT LIKE %s",
            ([PINNED_SRID_OFFSET + c for c in VN2000], f"%+towgs84={TOWGS84_6960}%"),
        )
        wrong = [row[0] - PINNED_SRID_OFFSET for row in cursor.fetchall()]
        if wrong:
            raise RuntimeError(f"spatial_ref_sys has no EPSG:6960 +towgs84 for EPSG:{wrong}; check the PostGIS install")


def backward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM spatial_ref_sys WHERE auth_name = 'SDI' AND srid > %s", (PINNED_SRID_OFFSET,))


class Migration(migrations.Migration):
    dependencies = [("layers", "0003_access_metadata_import_jobs")]
    operations = [migrations.RunPython(forward, backward)]
