"""The sample sector database `make run` sets up: a clearly labelled SYNTHETIC land-parcel register of the Ninh
Kiều land office, in a PostgreSQL database of its own beside the SDI's, with the office's own column names,
land-use codes and CRS (VN-2000 / TM-3 zone 482, EPSG:5897).

It exists so that a new user sees a source kept in sync without a real sector system at hand: the SDI harvests
it like any sector database (through a read-only role of its own), and `change_parcels` edits it the way the
office would, so that the next run shows what moved. Nothing in it is real: parcels are a 50 m grid clipped to
the real Ninh Kiều boundary, their codes and uses drawn from a fixed seed.
"""
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.conf import settings
from psycopg import sql
import shapely
from shapely.geometry import shape

from layers.crs import CANTHO_DEFAULT_SRID
from layers.crs.transformers import transformer
from layers.samples.land_use_codes import national_name
from sdi.database import connection_kwargs

SCHEMA, TABLE = "dia_chinh", "thua_dat"
DISTRICT_NAME = "Quận Ninh Kiều"
DISTRICT_CODE = "916"  # GSO code of Ninh Kiều
PARCEL_METRES = 50
LABEL = ("DỮ LIỆU MẪU, KHÔNG CÓ THẬT — sổ địa chính mẫu của Văn phòng đăng ký đất đai Ninh Kiều, do Cần Thơ SDI "
         "sinh ra để minh hoạ việc đồng bộ nguồn dữ liệu / SYNTHETIC sample parcels, not real data")
# Land-use codes of the national classification (Thông tư 08/2024/TT-BTNMT), weighted for an urban district.
LAND_USES = [(code, national_name(code), weight) for code, weight in (
    ("ODT", 46), ("TMD", 12), ("CLN", 10), ("DGT", 9), ("DGD", 4), ("DYT", 2), ("DTL", 3), ("SON", 4), ("TSC", 3),
    ("DVH", 2), ("SKC", 3), ("CSD", 2))]


@dataclass(frozen=True)
class SampleSector:
    dsn: str  # the read-only role's connection string (holds its password: give it only to the sources service)
    table: str  # schema.table
    parcels: int


def database() -> str:
    """The sample database's name (SDI_SAMPLE_SECTOR_DB); its read-only role is named after it."""
    return settings.SDI_SAMPLE_SECTOR_DB


def reader_role() -> str:
    return f"{database()}_reader"


def _admin_connection(dbname: str, autocommit: bool = True) -> psycopg.Connection:
    """The SDI's own role (a superuser in the project-local cluster) on another database of the same server."""
    return psycopg.connect(**connection_kwargs(dbname=dbname, autocommit=autocommit,
                                               application_name="sdi-sample-sector"))


def _ninh_kieu_boundary_vn2000() -> bytes:
    features = json.loads(Path(settings.SDI_CONFIG_DIR, "data/cantho/admin/cantho_districts_gischinhphu.geojson")
                          .read_text(encoding="utf-8"))["features"]
    district = next(f for f in features if f["properties"]["name"] == DISTRICT_NAME)
    to_vn2000 = transformer("EPSG:4326", f"EPSG:{CANTHO_DEFAULT_SRID}")  # latitude first, as EPSG:4326 says
    return shapely.transform(shape(district["geometry"]), lambda lon, lat: to_vn2000.transform(lat, lon),
                             interleaved=False).wkb


def create_sample_sector(*, reset: bool = False) -> SampleSector:
    """Create the sample database and its read-only role (the role gets a new password each time); the parcels are
    made once and kept, edits included, unless `reset`."""
    name, role = database(), reader_role()
    with _admin_connection("postgres") as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(sql.Identifier(name)))
        password = secrets.token_urlsafe(24)
        exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        admin.execute(sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
            sql.SQL("ALTER" if exists else "CREATE"), sql.Identifier(role), sql.Literal(password)))
    with _admin_connection(name, autocommit=False) as db:
        db.execute("SET client_min_messages = warning")
        db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        db.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
        table = sql.Identifier(SCHEMA, TABLE)
        if reset:
            db.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        if db.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.{TABLE}",)).fetchone()[0] is None:
            _make_parcels(db, table)
        db.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(SCHEMA), sql.Identifier(role)))
        db.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(table, sql.Identifier(role)))
        parcels = db.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]
    kwargs = connection_kwargs(dbname=name)
    dsn = psycopg.conninfo.make_conninfo(host=kwargs["host"], port=kwargs["port"], dbname=name, user=role,
                                         password=password)
    return SampleSector(dsn=dsn, table=f"{SCHEMA}.{TABLE}", parcels=parcels)


def _make_parcels(db: psycopg.Connection, table: sql.Composable) -> None:
    """A 50 m grid clipped to the real Ninh Kiều boundary (only the cells on the boundary are cut)."""
    db.execute(sql.SQL("""
        CREATE TABLE {table} (
            ma_thua text PRIMARY KEY,            -- mã thửa: huyện-tờ-thửa
            so_to integer NOT NULL,              -- số tờ bản đồ địa chính
            so_thua integer NOT NULL,            -- số thửa trên tờ
            ma_loai_dat text NOT NULL,           -- mã loại đất (TT 08/2024/TT-BTNMT)
            ten_loai_dat text NOT NULL,
            dien_tich_m2 numeric(12, 1) NOT NULL,
            ngay_cap_nhat date NOT NULL DEFAULT current_date,
            geom geometry(MultiPolygon, {srid}) NOT NULL
        )""").format(table=table, srid=sql.Literal(CANTHO_DEFAULT_SRID)))
    db.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(table, sql.Literal(LABEL)))
    uses = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, {}, {}").format(sql.Literal(code), sql.Literal(name), sql.Literal(weight))
        for code, name, weight in LAND_USES)
    db.execute(sql.SQL("""
        WITH boundary AS (SELECT ST_GeomFromWKB(%(wkb)s, {srid}) AS geom),
        cells AS (
            SELECT g.i, g.j, CASE WHEN ST_Covers(b.geom, g.geom) THEN ST_Buffer(g.geom, -0.6)
                                  ELSE ST_Intersection(ST_Buffer(g.geom, -0.6), b.geom) END AS geom
              FROM boundary b, ST_SquareGrid({size}, b.geom) AS g
             WHERE ST_Intersects(g.geom, b.geom)),
        uses AS (SELECT code, name, sum(weight) OVER (ORDER BY code) AS upto, sum(weight) OVER () AS total
                   FROM ({uses}) AS u(code, name, weight)),
        numbered AS (
            SELECT (i / 10) * 1000 + (j / 10) AS sheet_key, i, j, geom,
                   abs(hashtext(i || ',' || j)) AS draw
              FROM cells WHERE ST_Area(geom) > 100)
        INSERT INTO {table} (ma_thua, so_to, so_thua, ma_loai_dat, ten_loai_dat, dien_tich_m2, ngay_cap_nhat, geom)
        SELECT format('%%s-%%s-%%s', {district}, lpad(sheet::text, 3, '0'), lpad(parcel::text, 4, '0')),
               sheet, parcel, u.code, u.name, round(ST_Area(n.geom)::numeric, 1),
               date '2025-01-01' + (n.draw %% 600)::integer, ST_Multi(ST_CollectionExtract(n.geom, 3))
          FROM (SELECT *, dense_rank() OVER (ORDER BY sheet_key) AS sheet,
                       row_number() OVER (PARTITION BY sheet_key ORDER BY j DESC, i) AS parcel
                  FROM numbered) AS n
          JOIN LATERAL (SELECT code, name FROM uses
                         WHERE n.draw %% total < upto ORDER BY upto LIMIT 1) AS u ON true
    """).format(table=table, srid=sql.Literal(CANTHO_DEFAULT_SRID), size=sql.Literal(PARCEL_METRES),
                uses=uses, district=sql.Literal(DISTRICT_CODE)), {"wkb": _ninh_kieu_boundary_vn2000()})
    db.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(table))


@dataclass(frozen=True)
class Edits:
    changed: int
    added: int
    removed: int


def change_parcels(count: int = 10, *, seed: int | None = None) -> Edits:
    """Edit the sample register as its land office would: re-classify `count` parcels, split one in five of
    that number in two (one new parcel each) and retire as many others, all dated today."""
    seed = secrets.randbelow(2**31) if seed is None else seed
    table = sql.Identifier(SCHEMA, TABLE)
    with _admin_connection(database(), autocommit=False) as db:
        db.execute("SELECT setseed(%s)", (seed / 2**31,))
        changed = db.execute(sql.SQL("""
            UPDATE {t} SET ma_loai_dat = 'TMD', ten_loai_dat = 'Đất thương mại, dịch vụ', ngay_cap_nhat = current_date
             WHERE ma_thua IN (SELECT ma_thua FROM {t} WHERE ma_loai_dat = 'ODT' AND ngay_cap_nhat < current_date
                                ORDER BY random() LIMIT %s)
        """).format(t=table), (count,)).rowcount
        splits = max(1, count // 5)
        added = db.execute(sql.SQL("""
            WITH chosen AS (SELECT ma_thua, so_to, geom FROM {t} WHERE ngay_cap_nhat < current_date
                            ORDER BY random() LIMIT %s),
            halves AS (
                SELECT c.ma_thua, c.so_to, ST_Multi(ST_Intersection(c.geom, ST_MakeEnvelope(
                           ST_XMin(c.geom), ST_YMin(c.geom), (ST_XMin(c.geom) + ST_XMax(c.geom)) / 2, ST_YMax(c.geom),
                           {srid}))) AS west,
                       ST_Multi(ST_Intersection(c.geom, ST_MakeEnvelope(
                           (ST_XMin(c.geom) + ST_XMax(c.geom)) / 2, ST_YMin(c.geom), ST_XMax(c.geom), ST_YMax(c.geom),
                           {srid}))) AS east
                  FROM chosen c),
            shrunk AS (UPDATE {t} t SET geom = h.west, dien_tich_m2 = round(ST_Area(h.west)::numeric, 1),
                                        ngay_cap_nhat = current_date
                         FROM halves h WHERE t.ma_thua = h.ma_thua RETURNING h.*)
            INSERT INTO {t} (ma_thua, so_to, so_thua, ma_loai_dat, ten_loai_dat, dien_tich_m2, geom)
            SELECT format('%%s-%%s-%%s', {district}, lpad(s.so_to::text, 3, '0'),
                          lpad((9000 + row_number() OVER () + (SELECT count(*) FROM {t} WHERE so_thua > 9000))::text,
                               4, '0')),
                   s.so_to, 9000 + row_number() OVER () + (SELECT count(*) FROM {t} WHERE so_thua > 9000),
                   'ODT', 'Đất ở tại đô thị', round(ST_Area(s.east)::numeric, 1), s.east
              FROM shrunk s
        """).format(t=table, srid=sql.Literal(CANTHO_DEFAULT_SRID), district=sql.Literal(DISTRICT_CODE)),
            (splits,)).rowcount
        removed = db.execute(sql.SQL("""
            DELETE FROM {t} WHERE ma_thua IN (SELECT ma_thua FROM {t} WHERE ma_loai_dat = 'CSD'
                                                ORDER BY random() LIMIT %s)
        """).format(t=table), (splits,)).rowcount
    return Edits(changed=changed, added=added, removed=removed)
