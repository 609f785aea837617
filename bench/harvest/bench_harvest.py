"""Harvest benchmarks of issue 10, side by side in one run, on synthetic parcels (bench/make_parcels.py):

1. full harvest of an N-row PostgreSQL source (`manage.py harvest`) against `ogr2ogr` PG→PG of the same table
   and the PostgreSQL floor (binary COPY out of one database into the other, plus the same indexes);
2. a re-harvest after 1 % of the source's rows changed: its time against the full harvest's, and how many rows
   the published table really had written (pg_stat_user_tables);
3. a remote OGC API – Features source of M features (this SDI's own OGC API on another port, as the remote
   server): `manage.py harvest` against `ogr2ogr` reading the same collection through GDAL's OAPIF driver.

Only the commands other tools rely on are used (add_source, harvest, source_runs, delete_dataset), so this
measures what an admin runs. Results: bench/out/harvest-results.json and a Markdown table on stdout.

    .venv/bin/python bench/harvest/bench_harvest.py                 # 1,000,000 rows, 100,000 remote features
    .venv/bin/python bench/harvest/bench_harvest.py --rows 100000 --remote-features 20000 --repeat 1
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "bench" / "out"
MAKE_PARCELS = REPO / "bench" / "make_parcels.py"
DATABASE_URL = os.environ.get("DATABASE_URL") or \
    f"postgis://sdi:sdi@127.0.0.1:{os.environ.get('SDI_PG_PORT', '54329')}/sdi"
SECTOR_DB = "bench_sector"
SCRATCH = "bench_scratch"  # schema in the SDI database for the peers' copies
SLUG, REMOTE_SOURCE_SLUG, REMOTE_SLUG = "bench-harvest", "bench-ogc-src", "bench-ogc-copy"
SERVER_PORT = 8791


def log(message: str) -> None:
    print(f"[bench-harvest {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def params(dbname: str | None = None) -> dict:
    parts = urllib.parse.urlsplit(DATABASE_URL)
    return {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432,
            "dbname": dbname or parts.path.lstrip("/"), "user": urllib.parse.unquote(parts.username or ""),
            "password": urllib.parse.unquote(parts.password or "")}


def connect(dbname: str | None = None) -> psycopg.Connection:
    return psycopg.connect(**params(dbname), autocommit=True)


def conninfo(dbname: str | None = None) -> str:
    return psycopg.conninfo.make_conninfo(**params(dbname))


def gdal_pg(dbname: str | None = None) -> str:
    p = params(dbname)
    return f"PG:host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']} password={p['password']}"


def manage(*args: str, check: bool = True, capture: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "SDI_LOG_LEVEL": "warning"}
    return subprocess.run([str(REPO / ".venv" / "bin" / "python"), "manage.py", *args], cwd=REPO, env=env,
                          check=check, text=True, capture_output=capture)


def timed(function, *args, **kwargs) -> float:
    started = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - started


# -- the sector database --------------------------------------------------------------------------------

def ensure_parcels_table(rows: int) -> str:
    """public.parcels_<rows> in the sector database, with a text key `ma_thua`, made once from the GeoPackage."""
    table = f"parcels_{rows}"
    with connect("postgres") as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (SECTOR_DB,)).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SECTOR_DB)))
    with connect(SECTOR_DB) as db:
        db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        present = db.execute("SELECT to_regclass(%s)", (f"public.{table}",)).fetchone()[0]
        if present and db.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0] == rows:
            log(f"sector table {SECTOR_DB}.public.{table}: {rows} rows, ok")
            return table
    gpkg = OUT / f"parcels_{rows}.gpkg"
    if not gpkg.exists():
        log(f"making {gpkg.relative_to(REPO)}")
        subprocess.run([sys.executable, str(MAKE_PARCELS), "--count", str(rows), "--out", str(gpkg)], cwd=REPO,
                       check=True)
    log(f"loading {gpkg.name} into {SECTOR_DB}.public.{table}")
    subprocess.run(["ogr2ogr", "-f", "PostgreSQL", gdal_pg(SECTOR_DB), str(gpkg), "thua_dat", "-nln", table,
                    "-overwrite", "-lco", "GEOMETRY_NAME=geom", "-lco", "FID=fid", "-lco", "SPATIAL_INDEX=GIST"],
                   check=True)
    with connect(SECTOR_DB) as db:
        t = sql.Identifier(table)
        db.execute(sql.SQL("ALTER TABLE {} ADD COLUMN ma_thua text").format(t))
        db.execute(sql.SQL("UPDATE {} SET ma_thua = 'CT-' || lpad(fid::text, 8, '0')").format(t))
        db.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN ma_thua SET NOT NULL").format(t))
        db.execute(sql.SQL("CREATE UNIQUE INDEX ON {} (ma_thua)").format(t))
        db.execute(sql.SQL("VACUUM (ANALYZE) {}").format(t))
    return table


def change_one_percent(table: str, round_number: int) -> int:
    """Change 1 % of the rows the way a land office would: land use re-classified and the date moved."""
    with connect(SECTOR_DB) as db:
        changed = db.execute(sql.SQL("""
            UPDATE {} SET ma_loai_dat = CASE WHEN ma_loai_dat = 'ODT' THEN 'TMD' ELSE 'ODT' END,
                          ngay_cap = ngay_cap + 1
             WHERE fid %% 100 = %s""").format(sql.Identifier(table)), (round_number % 100,)).rowcount
        db.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
    return changed


# -- the three movers -----------------------------------------------------------------------------------

def floor_copy(table: str) -> float:
    """Binary COPY out of the sector database straight into the SDI's, then the primary key and GiST index:
    nothing checked, nothing diffed — no harvest can be faster."""
    with connect() as target:
        target.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCRATCH)))
        target.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCRATCH, "floor_copy")))
    started = time.perf_counter()
    with connect(SECTOR_DB) as source, connect() as target:
        columns = source.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(sql.Identifier(table))).description
        types = {c.name: source.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                                        "WHERE attrelid = %s::regclass AND attname = %s",
                                        (table, c.name)).fetchone()[0] for c in columns}
        target.execute(sql.SQL("CREATE TABLE {} ({})").format(
            sql.Identifier(SCRATCH, "floor_copy"),
            sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in types.items())))
        with source.cursor().copy(sql.SQL("COPY {} TO STDOUT (FORMAT binary)").format(sql.Identifier(table))) as out, \
                target.cursor().copy(sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(
                    sql.Identifier(SCRATCH, "floor_copy"))) as into:
            for block in out:
                into.write(block)
        target.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (fid)").format(sql.Identifier(SCRATCH, "floor_copy")))
        target.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(sql.Identifier(SCRATCH, "floor_copy")))
    return time.perf_counter() - started


def ogr2ogr_pg(table: str) -> float:
    with connect() as target:
        target.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCRATCH)))
    return timed(subprocess.run, ["ogr2ogr", "-f", "PostgreSQL", gdal_pg(), gdal_pg(SECTOR_DB), table,
                                  "-nln", f"{SCRATCH}.ogr_copy", "-overwrite", "-lco", "SPATIAL_INDEX=GIST",
                                  "-lco", "GEOMETRY_NAME=geom"], check=True)


def ogr2ogr_oapif(url: str, page_size: int) -> float:
    return timed(subprocess.run, ["ogr2ogr", "-f", "PostgreSQL", gdal_pg(), f"OAPIF:{url}", "-oo",
                                  f"PAGE_SIZE={page_size}", "-nln", f"{SCRATCH}.ogr_oapif", "-overwrite",
                                  "-lco", "SPATIAL_INDEX=GIST", "-lco", "GEOMETRY_NAME=geom"], check=True)


def register_pg_source(slug: str, table: str) -> None:
    manage("delete_dataset", slug, check=False, capture=True)
    manage("add_source", slug, "--postgres", conninfo(SECTOR_DB), "--table", f"public.{table}", "--key", "ma_thua",
           "--title", "Thửa đất giả lập (benchmark)", "--sector", "land", capture=True)


def harvest(slug: str) -> tuple[float, dict]:
    seconds = timed(manage, "harvest", slug, capture=True)
    runs = json.loads(manage("source_runs", slug, "--json", capture=True).stdout)
    return seconds, runs[0]


def published_writes(slug: str) -> dict:
    with connect() as db:
        row = db.execute("SELECT table_schema, table_name FROM layers_dataset WHERE slug = %s", (slug,)).fetchone()
        db.execute("SELECT pg_sleep(1.2)")  # other backends' counters reach pg_stat within a second
        ins, upd, dele = db.execute("SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables "
                                    "WHERE schemaname = %s AND relname = %s", row).fetchone()
    return {"inserted": ins, "updated": upd, "deleted": dele}


# -- a remote OGC API -----------------------------------------------------------------------------------

def start_our_server() -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "SDI_BIND": f"127.0.0.1:{SERVER_PORT}",
           "SDI_LOG_LEVEL": "warning", "SDI_WORKERS": "2"}
    OUT.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([str(REPO / ".venv" / "bin" / "gunicorn"), "-c", str(REPO / "deploy" / "gunicorn.conf.py")],
                            cwd=REPO, env=env, stdout=open(OUT / "harvest-server.log", "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{SERVER_PORT}/ogcapi/collections?f=json", timeout=10):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"our server exited; see {OUT / 'harvest-server.log'}")
            time.sleep(1)
    raise SystemExit("our server did not answer within 120 s")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, 15)
    proc.wait(timeout=30)


# -- the run --------------------------------------------------------------------------------------------

def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    memory = next((int(line.split()[1]) // 1024 // 1024 for line in open("/proc/meminfo")
                   if line.startswith("MemTotal")), 0)
    with connect() as db:
        postgres = db.execute("SHOW server_version").fetchone()[0]
        postgis = db.execute("SELECT postgis_lib_version()").fetchone()[0]
    gdal = subprocess.run(["ogr2ogr", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory, "kernel": platform.release(),
            "postgres": postgres, "postgis": postgis, "gdal": gdal, "python": platform.python_version(),
            "when": time.strftime("%Y-%m-%d %H:%M %Z")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the PostgreSQL source (default %(default)s)")
    parser.add_argument("--remote-features", type=int, default=100_000,
                        help="features of the remote OGC API source (default %(default)s; 0 skips it)")
    parser.add_argument("--page-size", type=int, default=10_000,
                        help="OGC API page size GDAL's OAPIF driver asks for (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of each measurement; medians are reported")
    args = parser.parse_args()
    results = {"machine": machine(), "rows": args.rows, "rounds": args.repeat}

    table = ensure_parcels_table(args.rows)
    floor, ogr, full, again, runs, writes = [], [], [], [], [], []
    for round_number in range(1, args.repeat + 1):
        log(f"round {round_number}: PostgreSQL floor")
        floor.append(floor_copy(table))
        log(f"round {round_number}: ogr2ogr PG→PG")
        ogr.append(ogr2ogr_pg(table))
        log(f"round {round_number}: full harvest")
        register_pg_source(SLUG, table)
        seconds, run = harvest(SLUG)
        full.append(seconds)
        log(f"  {seconds:.1f} s, run {run}")
        changed = change_one_percent(table, round_number)
        before = published_writes(SLUG)
        log(f"round {round_number}: re-harvest after {changed} rows changed at the source")
        seconds, run = harvest(SLUG)
        after = published_writes(SLUG)
        again.append(seconds)
        runs.append(run)
        writes.append({k: after[k] - before[k] for k in after} | {"changed_at_source": changed})
        log(f"  {seconds:.1f} s, run {run}, published table writes {writes[-1]}")
    results["postgres"] = {
        "floor_seconds": floor, "ogr2ogr_seconds": ogr, "full_harvest_seconds": full,
        "reharvest_seconds": again, "reharvest_runs": runs, "reharvest_writes": writes,
        "full_vs_ogr2ogr": statistics.median(full) / statistics.median(ogr),
        "reharvest_vs_full": statistics.median(again) / statistics.median(full),
    }

    if args.remote_features:
        remote_table = ensure_parcels_table(args.remote_features)
        register_pg_source(REMOTE_SOURCE_SLUG, remote_table)
        harvest(REMOTE_SOURCE_SLUG)
        server = start_our_server()
        try:
            url = f"http://127.0.0.1:{SERVER_PORT}/ogcapi/collections/{REMOTE_SOURCE_SLUG}"
            ogr_remote, ours_remote, remote_runs = [], [], []
            for round_number in range(1, args.repeat + 1):
                log(f"round {round_number}: ogr2ogr OAPIF → PG ({args.remote_features} features)")
                ogr_remote.append(ogr2ogr_oapif(url, args.page_size))
                log(f"round {round_number}: harvest of the remote OGC API")
                manage("delete_dataset", REMOTE_SLUG, check=False, capture=True)
                manage("add_source", REMOTE_SLUG, "--url", url, "--kind", "ogcapi", "--key", "ma_thua",
                       "--title", "Thửa đất giả lập qua OGC API (benchmark)", "--sector", "land", capture=True)
                seconds, run = harvest(REMOTE_SLUG)
                ours_remote.append(seconds)
                remote_runs.append(run)
        finally:
            stop(server)
        n = args.remote_features
        results["ogcapi"] = {"features": n, "ogr2ogr_seconds": ogr_remote, "harvest_seconds": ours_remote,
                             "runs": remote_runs,
                             "ogr2ogr_features_per_s": n / statistics.median(ogr_remote),
                             "harvest_features_per_s": n / statistics.median(ours_remote)}

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "harvest-results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(markdown(results))
    return 0


def markdown(r: dict) -> str:
    med = statistics.median
    p = r["postgres"]
    lines = [f"{r['rows']:,} rows, {r['rounds']} rounds, medians; {r['machine']['cpu']}, {r['machine']['cores']} "
             f"cores, PostgreSQL {r['machine']['postgres']}, PostGIS {r['machine']['postgis']}, "
             f"{r['machine']['gdal']}.", "",
             "| step | seconds | vs ogr2ogr | vs floor |", "|---|---:|---:|---:|"]
    for name, key in (("PostgreSQL floor (binary COPY + PK + GiST)", "floor_seconds"),
                      ("ogr2ogr PG→PG", "ogr2ogr_seconds"), ("harvest, full (first run)", "full_harvest_seconds"),
                      ("harvest after 1 % changed", "reharvest_seconds")):
        value = med(p[key])
        lines.append(f"| {name} | {value:.1f} | {value / med(p['ogr2ogr_seconds']):.2f}× | "
                     f"{value / med(p['floor_seconds']):.2f}× |")
    lines += ["", f"Re-harvest / full harvest: {p['reharvest_vs_full']:.0%}; published table writes per re-harvest: "
              f"{p['reharvest_writes']}"]
    if "ogcapi" in r:
        o = r["ogcapi"]
        lines += ["", f"Remote OGC API ({o['features']:,} features): ogr2ogr {o['ogr2ogr_features_per_s']:,.0f} "
                  f"features/s, harvest {o['harvest_features_per_s']:,.0f} features/s "
                  f"({o['harvest_features_per_s'] / o['ogr2ogr_features_per_s']:.2f}×)"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
