"""The SQL side: the bare intersection query an analyst would type into psql, and the engine's own statement,
each run by psql itself (same session settings as the SDI's connections: jit off)."""
import subprocess
import time

from bench.database import db_params

# Every parcel the index offers that intersects a unit goes through ST_Intersection; units transformed once
# (through the pinned VN-2000 SRID, as the SDI does), grouped by unit and land-use code.
BARE_SQL = """
WITH u AS MATERIALIZED (
    SELECT {code}::text AS code, ST_SetSRID(ST_Transform(geom, 905897), 5897) AS g FROM sdi_data.{units_table}
)
SELECT u.code, d.ma_loai_dat, count(*), sum(ST_Area(ST_Intersection(u.g, d.geom)))
FROM u JOIN sdi_data.{table} d ON ST_Intersects(u.g, d.geom)
GROUP BY 1, 2
"""


def psql_seconds(statement: str, settings: tuple[str, ...] = ("SET jit = off",)) -> tuple[float, list[list[str]]]:
    """Wall time of `statement` run by psql (the settings first, in the same session), and its rows."""
    p = db_params()
    command = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", p["host"], "-p", str(p["port"]),
               "-U", p["user"], "-d", p["dbname"]]
    script = "".join(f"{s};\n" for s in settings) + statement.strip() + ";\n"
    env = {"PGPASSWORD": p["password"], "PATH": "/usr/bin:/bin:/usr/local/bin"}
    start = time.perf_counter()
    done = subprocess.run(command, input=script, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - start, [line.split("|") for line in done.stdout.splitlines() if line.strip()]


def bare_sql(table: str, units_table: str, code_field: str) -> str:
    return BARE_SQL.format(table=table, units_table=units_table, code=f'"{code_field}"')
