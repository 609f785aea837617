"""`manage.py sample_data` timed three ways, next to the floor, in one run:

- from scratch (`--reset`: delete, generate the five files, import each through the loader's checks);
- a second run (what every later `make run` pays: generate in memory, find the files and datasets unchanged);
- files only (`--no-import`, into an empty folder);
- the floor: a plain `ogr2ogr -f PostgreSQL` of the same five files (no checks, no decoding, no publishing).

    .venv/bin/python -m bench.samples --rounds 3

Uses DATABASE_URL (default: the local cluster, on SDI_PG_PORT as `make`). Nothing here is a test.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import dj_database_url

from bench import REPO
from bench.database import DATABASE_URL
from bench.processes import ours_env

PYTHON = sys.executable
SAMPLES = REPO / ".sdi" / "samples"
# how GDAL is told what the loader is told (the TCVN3 bytes are copied as Latin-1; the loader decodes them after)
FLOOR_OPTIONS = {"binh_thuy_hien_trang_su_dung_dat.zip": ["-oo", "ENCODING=ISO-8859-1", "-nlt", "PROMOTE_TO_MULTI"],
                 "tram_quan_trac_nuoc_mat.csv": ["-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat",
                                                 "-oo", "AUTODETECT_TYPE=YES"]}


def timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def floor(env: dict, target: str) -> float:
    start = time.perf_counter()
    for path in sorted(SAMPLES.iterdir()):
        source = f"/vsizip/{path}" if path.suffix == ".zip" else str(path)
        subprocess.run(["ogr2ogr", "-f", "PostgreSQL", target, source, "-nln", f"bench.sample_{path.stem}",
                        "-overwrite", "-lco", "GEOMETRY_NAME=geom", *FLOOR_OPTIONS.get(path.name, [])],
                       check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.samples", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    db = dj_database_url.parse(DATABASE_URL)
    env = ours_env(PGPASSWORD=db["PASSWORD"])
    target = f"PG:host={db['HOST']} port={db['PORT']} dbname={db['NAME']} user={db['USER']}"
    subprocess.run(["psql", DATABASE_URL.replace("postgis://", "postgresql://"), "-qc",
                    "CREATE SCHEMA IF NOT EXISTS bench"], check=True, env=env, stdout=subprocess.DEVNULL)
    command = [PYTHON, "manage.py", "sample_data", "-v", "0"]
    results = {"from scratch (--reset)": [], "second run": [], "files only (--no-import)": [],
               "floor: ogr2ogr of the 5 files": []}
    for round_ in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="bench-samples-") as empty:
            runs = (("from scratch (--reset)", lambda: timed(command + ["--reset"], env)),
                    ("second run", lambda: timed(command, env)),
                    ("files only (--no-import)", lambda: timed(command + ["--no-import"],
                                                               {**env, "SDI_SAMPLES_DIR": empty})),
                    ("floor: ogr2ogr of the 5 files", lambda: floor(env, target)))
            for name, run in runs:
                seconds = run()
                results[name].append(seconds)
                print(f"round {round_}: {name:32s} {seconds:6.2f} s", flush=True)
    subprocess.run(["psql", DATABASE_URL.replace("postgis://", "postgresql://"), "-qc",
                    "DROP TABLE IF EXISTS " + ", ".join(f"bench.sample_{p.stem}" for p in SAMPLES.iterdir())],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    medians = {name: statistics.median(values) for name, values in results.items()}
    sizes = sum(p.stat().st_size for p in SAMPLES.iterdir()) / 1e6
    print(f"\nmachine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"files: {len(list(SAMPLES.iterdir()))} in {SAMPLES} ({sizes:.1f} MB)")
    for name, value in medians.items():
        print(f"median {name:32s} {value:6.2f} s")
    ratio = medians["from scratch (--reset)"] / medians["floor: ogr2ogr of the 5 files"]
    print(f"ratio from scratch / floor: {ratio:.2f}×")


if __name__ == "__main__":
    main()
