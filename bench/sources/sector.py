"""The benchmark's sector database `bench_sector`: public.parcels_<N> made once from the synthetic parcels
GeoPackage (bench.data.parcels), with a text key `ma_thua` as a land office would keep it, and an integer primary
key `gid` (not `fid`: a source may not have a column of that name, the SDI's feature id)."""
import subprocess
import sys

import psycopg
from psycopg import sql

from bench import OUT, REPO
from bench.database import db_params
from bench.processes import log

SECTOR_DB = "bench_sector"


def connect(dbname: str | None = None) -> psycopg.Connection:
    return psycopg.connect(**{**db_params(), **({"dbname": dbname} if dbname else {})}, autocommit=True)


def conninfo(dbname: str | None = None) -> str:
    return psycopg.conninfo.make_conninfo(**{**db_params(), **({"dbname": dbname} if dbname else {})})


def gdal_pg(dbname: str | None = None) -> str:
    p = {**db_params(), **({"dbname": dbname} if dbname else {})}
    return f"PG:host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']} password={p['password']}"


def ensure_parcels_table(rows: int) -> str:
    table = f"parcels_{rows}"
    with connect("postgres") as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (SECTOR_DB,)).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SECTOR_DB)))
    with connect(SECTOR_DB) as db:
        db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        present = db.execute("SELECT to_regclass(%s)", (f"public.{table}",)).fetchone()[0]
        keyed = db.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
                           "AND column_name = 'gid'", (table,)).fetchone()
        if present and keyed and db.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0] == rows:
            log(f"sector table {SECTOR_DB}.public.{table}: {rows} rows, ok")
            return table
    gpkg = OUT / f"parcels_{rows}.gpkg"
    if not gpkg.exists():
        log(f"making {gpkg.relative_to(REPO)}")
        subprocess.run([sys.executable, "-m", "bench.data.parcels", "--count", str(rows), "--out", str(gpkg)],
                       cwd=REPO, check=True)
    log(f"loading {gpkg.name} into {SECTOR_DB}.public.{table}")
    subprocess.run(["ogr2ogr", "-f", "PostgreSQL", gdal_pg(SECTOR_DB), str(gpkg), "thua_dat", "-nln", table,
                    "-overwrite", "-lco", "GEOMETRY_NAME=geom", "-lco", "FID=gid", "-lco", "SPATIAL_INDEX=GIST"],
                   check=True)
    with connect(SECTOR_DB) as db:
        t = sql.Identifier(table)
        db.execute(sql.SQL("ALTER TABLE {} ADD COLUMN ma_thua text").format(t))
        db.execute(sql.SQL("UPDATE {} SET ma_thua = 'CT-' || lpad(gid::text, 8, '0')").format(t))
        db.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN ma_thua SET NOT NULL").format(t))
        db.execute(sql.SQL("CREATE UNIQUE INDEX ON {} (ma_thua)").format(t))
        db.execute(sql.SQL("VACUUM (ANALYZE) {}").format(t))
    return table


def change_one_percent(table: str, round_number: int) -> int:
    """Change 1 % of the rows as a land office would: land use re-classified and the date moved."""
    with connect(SECTOR_DB) as db:
        changed = db.execute(sql.SQL("""
            UPDATE {} SET ma_loai_dat = CASE WHEN ma_loai_dat = 'ODT' THEN 'TMD' ELSE 'ODT' END,
                          ngay_cap = ngay_cap + 1
             WHERE gid %% 100 = %s""").format(sql.Identifier(table)), (round_number % 100,)).rowcount
        db.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
    return changed
