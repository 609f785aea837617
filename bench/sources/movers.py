"""What moves the rows: the PostgreSQL floor, ogr2ogr (PG→PG and OAPIF→PG), and ours through the admin's own
commands (add_source, harvest, source_runs, delete_dataset)."""
import json
import subprocess
import time

from psycopg import sql

from bench import REPO
from bench.processes import ours_env
from bench.sources.sector import SECTOR_DB, conninfo, connect, gdal_pg

SCRATCH = "bench_scratch"  # schema in the SDI database for the peers' copies


def timed(function, *args, **kwargs) -> float:
    started = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - started


def _scratch() -> None:
    with connect() as target:
        target.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCRATCH)))


def floor_copy(table: str) -> float:
    """Binary COPY out of the sector database straight into the SDI's, then the primary key and GiST index:
    nothing checked, nothing diffed — no harvest can be faster."""
    _scratch()
    target_table = sql.Identifier(SCRATCH, "floor_copy")
    with connect() as target:
        target.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target_table))
    started = time.perf_counter()
    with connect(SECTOR_DB) as source, connect() as target:
        types = source.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                               "%s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (table,)).fetchall()
        target.execute(sql.SQL("CREATE TABLE {} ({})").format(target_table, sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(type_)) for name, type_ in types)))
        with source.cursor().copy(sql.SQL("COPY {} TO STDOUT (FORMAT binary)").format(sql.Identifier(table))) as out, \
                target.cursor().copy(sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(target_table)) as into:
            for block in out:
                into.write(block)
        target.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (gid)").format(target_table))
        target.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(target_table))
    return time.perf_counter() - started


def ogr2ogr_pg(table: str) -> float:
    _scratch()
    return timed(subprocess.run, ["ogr2ogr", "-f", "PostgreSQL", gdal_pg(), gdal_pg(SECTOR_DB), table,
                                  "-nln", f"{SCRATCH}.ogr_copy", "-overwrite", "-lco", "SPATIAL_INDEX=GIST",
                                  "-lco", "GEOMETRY_NAME=geom"], check=True)


def ogr2ogr_oapif(url: str, page_size: int) -> float:
    _scratch()
    return timed(subprocess.run, ["ogr2ogr", "-f", "PostgreSQL", gdal_pg(), f"OAPIF:{url}", "-oo",
                                  f"PAGE_SIZE={page_size}", "-nln", f"{SCRATCH}.ogr_oapif", "-overwrite",
                                  "-lco", "SPATIAL_INDEX=GIST", "-lco", "GEOMETRY_NAME=geom"], check=True)


def manage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """One of the admin's commands; a failure stops the benchmark with the command's own words."""
    done = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "manage.py", *args], cwd=REPO,
                          env=ours_env(SDI_LOG_LEVEL="warning"), text=True, capture_output=True)
    if check and done.returncode:
        raise SystemExit(f"manage.py {' '.join(args[:2])} failed (exit {done.returncode}):\n"
                         f"{done.stderr.strip()[-2000:]}")
    return done


def register_pg_source(slug: str, table: str) -> None:
    manage("delete_dataset", slug, check=False)
    manage("add_source", slug, "--postgres", conninfo(SECTOR_DB), "--table", f"public.{table}", "--key", "ma_thua",
           "--title", "Thửa đất giả lập (benchmark)", "--sector", "land")


def register_ogcapi_source(slug: str, url: str) -> None:
    manage("delete_dataset", slug, check=False)
    manage("add_source", slug, "--url", url, "--kind", "ogcapi", "--key", "ma_thua",
           "--title", "Thửa đất giả lập qua OGC API (benchmark)", "--sector", "land")


def harvest(slug: str) -> tuple[float, dict]:
    seconds = timed(manage, "harvest", slug)
    return seconds, json.loads(manage("source_runs", slug, "--json").stdout)[0]


def published_writes(slug: str) -> dict:
    """Rows inserted, updated and deleted in the dataset's published table so far (PostgreSQL's own counters)."""
    with connect() as db:
        table = db.execute("SELECT table_schema, table_name FROM layers_dataset WHERE slug = %s", (slug,)).fetchone()
        db.execute("SELECT pg_sleep(1.2)")  # other sessions' counters reach pg_stat within a second
        inserted, updated, deleted = db.execute("SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables "
                                                "WHERE schemaname = %s AND relname = %s", table).fetchone()
    return {"inserted": inserted, "updated": updated, "deleted": deleted}
