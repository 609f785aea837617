"""A real second PostgreSQL database playing a sector's own database (the Ninh Kiều land office's parcels).

`sdi_test_sector` is created in the test cluster, with PostGIS; each test gets a table of its own in EPSG:9210
(VN-2000 / TM-3 105°45', Cần Thơ) with the office's own Vietnamese column names.
"""
import uuid

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

SECTOR_DB = "sdi_test_sector"
PARCELS = 20


def admin_kwargs(dbname: str) -> dict:
    db = settings.DATABASES["default"]
    return dict(host=db["HOST"] or "127.0.0.1", port=int(db["PORT"]), user=db["USER"], password=db["PASSWORD"],
                dbname=dbname, autocommit=True)


def sector_dsn(password: str | None = None) -> str:
    db = settings.DATABASES["default"]
    return (f"host={db['HOST'] or '127.0.0.1'} port={db['PORT']} dbname={SECTOR_DB} user={db['USER']} "
            f"password={password if password is not None else db['PASSWORD']}")


@pytest.fixture(scope="session")
def sector_database(django_db_setup):
    with psycopg.connect(**admin_kwargs("postgres")) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(SECTOR_DB)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SECTOR_DB)))
    with psycopg.connect(**admin_kwargs(SECTOR_DB)) as conn:
        conn.execute("SET client_min_messages = warning")
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("CREATE SCHEMA dia_chinh")
    yield SECTOR_DB
    with psycopg.connect(**admin_kwargs("postgres")) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(SECTOR_DB)))


class SectorTable:
    """One parcels table in the sector database; `sql()` runs statements on it as the land office would."""

    def __init__(self):
        self.name = f"thua_dat_{uuid.uuid4().hex[:8]}"
        self.qualified = f"dia_chinh.{self.name}"
        self.conn = psycopg.connect(**admin_kwargs(SECTOR_DB))
        self.sql(
            "CREATE TABLE {t} (ma_thua text PRIMARY KEY, \"chủ_sử_dụng\" text, \"diện_tích\" numeric(12, 2), "
            "\"loại_đất\" varchar(10), \"ngày_cấp\" date, hinh geometry(Polygon, 9210))")
        self.sql(
            "INSERT INTO {t} SELECT 'NK-' || lpad(i::text, 4, '0'), 'Nguyễn Văn ' || i, 100 + i, "
            "CASE WHEN i %% 2 = 0 THEN 'ODT' ELSE 'CLN' END, date '2020-01-01' + i, "
            "ST_MakeEnvelope(502000 + (i %% 5) * 30, 1108000 + (i / 5) * 30, 502020 + (i %% 5) * 30, "
            "1108020 + (i / 5) * 30, 9210) FROM generate_series(1, %s) i", (PARCELS,))

    def sql(self, statement: str, params=()):
        cursor = self.conn.execute(sql.SQL(statement).format(t=sql.SQL(self.qualified)), params)
        return cursor.fetchall() if cursor.description else None

    def close(self):
        self.conn.execute(sql.SQL("DROP TABLE IF EXISTS {t}").format(t=sql.SQL(self.qualified)))
        self.conn.close()


@pytest.fixture
def parcels(sector_database):
    table = SectorTable()
    yield table
    table.close()


def forget_sources(prefix: str) -> None:
    """Delete the datasets (with their sources, runs and change logs) and the sources a test module made."""
    from layers.models import Dataset
    from layers.registry.services import delete_dataset
    from layers.sources.models import Source

    for slug in Dataset.objects.filter(slug__startswith=prefix).values_list("slug", flat=True):
        delete_dataset(slug)
    Source.objects.filter(slug__startswith=prefix).delete()
