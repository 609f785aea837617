"""The SQL shapes behind the request types, timed in PostgreSQL alone."""
import time

from bench.data.parcels_1m import SCHEMA, TABLE
from bench.database import db_params


def sql_timings() -> dict:
    """What the database alone needs for the SQL shapes behind the request types (median of 5, ms, one
    connection with JIT off like our provider's, JSON fetched as text)."""
    import psycopg
    table = f'"{SCHEMA}"."{TABLE}"'
    feature = ("json_build_object('type','Feature','id',t.fid,'geometry',ST_AsGeoJSON({geom},{digits},0)::json,"
               "'properties',(SELECT row_to_json(p) FROM (SELECT t.so_to,t.so_thua,t.ma_loai_dat,t.dien_tich,t.loai_chu,"
               "t.ma_huyen,t.ten_huyen,t.dia_chi,t.ngay_cap) p))")
    # the same pinned VN-2000 -> WGS 84 transformation as layers.crs.transform_sql (EPSG:6960)
    transformed = "ST_Transform(ST_SetSRID(t.geom, 905897), 4326)"
    page = "SELECT json_agg({f})::text FROM (SELECT * FROM {table} t ORDER BY fid LIMIT 1000{offset}) t"
    queries = {
        "count(*) WHERE ma_loai_dat='ODT' (363,045 rows)": f"SELECT count(*) FROM {table} t WHERE ma_loai_dat = 'ODT'",
        "first 1000 rows as GeoJSON, storage CRS": page.format(f=feature.format(geom="t.geom", digits=3), table=table,
                                                               offset=""),
        "first 1000 rows as GeoJSON, ST_Transform to CRS84": page.format(
            f=feature.format(geom=transformed, digits=8), table=table, offset=""),
        "1000 rows at OFFSET 500000, SELECT * then JSON (our provider's shape)": page.format(
            f=feature.format(geom=transformed, digits=8), table=table, offset=" OFFSET 500000"),
        "1000 ids at OFFSET 500000 (index-only scan)": f"SELECT fid FROM {table} ORDER BY fid LIMIT 1000 OFFSET 500000",
        "1000 ids after fid > 500000 (keyset)": f"SELECT fid FROM {table} WHERE fid > 500000 ORDER BY fid LIMIT 1000",
    }
    p = db_params()
    out = {}
    with psycopg.connect(host=p["host"], port=p["port"], dbname=p["dbname"], user=p["user"], password=p["password"],
                         autocommit=True, options="-c jit=off -c max_parallel_workers_per_gather=0") as conn:
        for label, query in queries.items():
            times = []
            for _ in range(5):
                start = time.perf_counter()
                conn.execute(query).fetchall()
                times.append((time.perf_counter() - start) * 1000)
            out[label] = round(sorted(times)[2], 1)
    return out
