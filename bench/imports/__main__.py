"""Load benchmark: `manage.py import_dataset` (GDAL + staging + validation + atomic publish) next to a plain
`ogr2ogr -f PostgreSQL` of the same GeoPackage into the same database, alternating, in one run. Also times
the import service alone (what the import worker spends on a job, without starting a Python interpreter).

    .venv/bin/python -m bench.imports bench/out/parcels_100000.gpkg --rounds 3

Make the file first with `python -m bench.data.parcels --count 100000`. Uses DATABASE_URL (default: the local cluster, on SDI_PG_PORT as `make`).
Prints one line per run and a summary with the ratio; nothing here is a test.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import dj_database_url

from bench import REPO
from bench.database import DATABASE_URL
from bench.processes import ours_env

PYTHON = sys.executable


def pg_target(db: dict) -> tuple[str, dict]:
    conn = f"PG:host={db['HOST']} port={db['PORT']} dbname={db['NAME']} user={db['USER']}"
    return conn, ours_env(PGPASSWORD=db["PASSWORD"])  # with the checkout's signing key, as bench.peers


def timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gpkg", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = DATABASE_URL
    db = dj_database_url.parse(url)
    target, env = pg_target(db)
    env["DATABASE_URL"] = url
    subprocess.run(["psql", url.replace("postgis://", "postgresql://"), "-qc", "CREATE SCHEMA IF NOT EXISTS bench"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    plain = ["ogr2ogr", "-f", "PostgreSQL", target, str(args.gpkg), "-nln", "bench.plain_load", "-overwrite"]
    ours = [PYTHON, "manage.py", "import_dataset", str(args.gpkg), "--slug", "bench-load", "--replace",
            "--title", "Thửa đất giả lập (benchmark)", "--sector", "land"]
    job = [PYTHON, "-m", "bench.imports.job_timer", str(args.gpkg), "bench-load-job"]
    results = {"ogr2ogr": [], "import_dataset": [], "worker job": [], "worker job + indexes": []}
    for round_ in range(1, args.rounds + 1):
        for name, command in (("ogr2ogr", plain), ("import_dataset", ours)):
            seconds = timed(command, env)
            results[name].append(seconds)
            print(f"round {round_}: {name:15s} {seconds:6.2f} s", flush=True)
        indexed, published = map(float, subprocess.run(job, check=True, env=env, cwd=REPO, capture_output=True,
                                                         text=True).stdout.split()[-2:])
        results["worker job"].append(published)
        results["worker job + indexes"].append(indexed)
        print(f"round {round_}: {'worker job':15s} {published:6.2f} s to publish, {indexed:6.2f} s with attribute "
              "indexes  (the import service alone, as the worker runs it)", flush=True)
    for slug in ("bench-load", "bench-load-job"):
        subprocess.run([PYTHON, "manage.py", "delete_dataset", slug], env=env, cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["psql", url.replace("postgis://", "postgresql://"), "-qc", "DROP TABLE IF EXISTS bench.plain_load"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    plain_median = statistics.median(results["ogr2ogr"])
    ours_median = statistics.median(results["import_dataset"])
    print(f"\nmachine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"file: {args.gpkg.name} ({args.gpkg.stat().st_size / 1e6:.0f} MB)")
    print(f"median ogr2ogr -f PostgreSQL: {plain_median:.2f} s")
    job_median = statistics.median(results["worker job"])
    indexed_median = statistics.median(results["worker job + indexes"])
    print(f"median import_dataset (CLI, incl. ~0.75 s interpreter start): {ours_median:.2f} s")
    print(f"median worker job (service call):  {job_median:.2f} s to publish, {indexed_median:.2f} s with indexes")
    print(f"ratio import_dataset / ogr2ogr: {ours_median / plain_median:.2f}×")
    print(f"ratio worker job / ogr2ogr:     {job_median / plain_median:.2f}× to publish (target < 1.5×), "
          f"{indexed_median / plain_median:.2f}× with attribute indexes")


if __name__ == "__main__":
    main()
