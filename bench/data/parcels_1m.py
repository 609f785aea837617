"""The 1,000,000 synthetic parcels published in the SDI, which every OGC API server of the side-by-side
benchmark reads: made by bench.data.parcels if missing, loaded once with `manage.py import_dataset`."""
import subprocess
import sys
import time

from bench import OUT, REPO
from bench.database import sql
from bench.processes import log, ours_env, run

GPKG = OUT / "parcels_1000000.gpkg"
SLUG = "bench-parcels-1m"
SCHEMA, TABLE = "sdi_data", "bench_parcels_1m"
COUNT = 1_000_000


def ensure_gpkg() -> None:
    ok = False
    if GPKG.exists():
        probe = subprocess.run(["ogrinfo", "-so", str(GPKG), "thua_dat"], capture_output=True, text=True, timeout=120)
        ok = probe.returncode == 0 and f"Feature Count: {COUNT}" in probe.stdout
    if ok:
        log(f"{GPKG.relative_to(REPO)}: {COUNT} features, ok")
        return
    log(f"making {GPKG.relative_to(REPO)} (missing or not {COUNT} features)")
    GPKG.unlink(missing_ok=True)
    run([sys.executable, "-m", "bench.data.parcels", "--count", str(COUNT)], cwd=REPO)


def prepare_table() -> None:
    """Same starting point for every server: table vacuumed and analysed (no autovacuum during a run), its
    heap and primary-key index read once so that the first server does not pay for a cold cache alone."""
    table = f'"{SCHEMA}"."{TABLE}"'
    sql(f"VACUUM (ANALYZE) {table}")
    sql(f"SELECT count(*), sum(ST_NPoints(geom)), sum(length(dia_chi)) FROM {table}")
    sql(f"SELECT count(*) FROM (SELECT fid FROM {table} ORDER BY fid) ordered")


def ensure_dataset(results: dict, reload: bool) -> None:
    rows = sql("SELECT feature_count, table_schema, table_name FROM layers_dataset WHERE slug = %s", SLUG)
    loaded = bool(rows) and rows[0][0] == COUNT and (rows[0][1], rows[0][2]) == (SCHEMA, TABLE)
    if loaded:
        (actual,) = sql(f'SELECT count(*) FROM "{SCHEMA}"."{TABLE}"')[0]
        loaded = actual == COUNT
    if loaded and not reload:
        log(f"dataset {SLUG} already published with {COUNT} features ({SCHEMA}.{TABLE}), not reloaded")
        return
    ensure_gpkg()
    log(f"loading {GPKG.name} with manage.py import_dataset (slug {SLUG}) ...")
    start = time.perf_counter()
    run([sys.executable, "manage.py", "import_dataset", str(GPKG.relative_to(REPO)), "--slug", SLUG,
         "--title", "Thửa đất giả lập 1M", "--sector", "land", "--replace"], cwd=REPO, env=ours_env())
    seconds = time.perf_counter() - start
    results["load"] = {"seconds": round(seconds, 1), "file_mb": round(GPKG.stat().st_size / 1e6),
                       "when": time.strftime("%Y-%m-%d %H:%M")}
    log(f"loaded in {seconds:.1f} s")
