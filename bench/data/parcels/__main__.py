"""Generate the SYNTHETIC parcels GeoPackage: `python -m bench.data.parcels --help` (bench/data/README.md)."""
import argparse
import shutil
import sys
import time
from pathlib import Path

from bench import OUT
from bench.data.parcels.blocks import plan
from bench.data.parcels.check import check
from bench.data.parcels.crs import wgs84_to_tm3
from bench.data.parcels.districts import load_districts
from bench.data.parcels.gpkg import write_streaming, write_via_csv

DEFAULT_COUNT = 1_000_000
DEFAULT_SEED = 482
DEFAULT_LAYER = "thua_dat"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.data.parcels",
        description="Generate a SYNTHETIC land-parcel (thửa đất) GeoPackage for Cần Thơ in\n"
                    "VN-2000 / TM-3 zone 482 (EPSG:5897, via the EPSG:6960 datum transformation),\n"
                    "for benchmarks and tests. Parcels lie inside the real district boundaries;\n"
                    "everything else is invented (seeded, reproducible). See bench/data/README.md.",
        epilog="examples:\n"
               "  .venv/bin/python -m bench.data.parcels --count 100000 --check\n"
               "  .venv/bin/python -m bench.data.parcels            # 1,000,000 parcels\n"
               "  .venv/bin/python -m bench.data.parcels --check-only --out bench/out/parcels_1000000.gpkg",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=DEFAULT_COUNT, metavar="N",
                    help="number of parcels (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=None, metavar="PATH",
                    help="output GeoPackage, overwritten (default: bench/out/parcels_<N>.gpkg)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    ap.add_argument("--layer", default=DEFAULT_LAYER, help="layer name (default: %(default)s)")
    ap.add_argument("--via-csv", action="store_true",
                    help="write <out>.csv + .csvt first and convert it with one ogr2ogr run "
                         "(single core) instead of streaming the CSV into ogr2ogr")
    ap.add_argument("--keep-csv", action="store_true", help="with --via-csv: keep the CSV")
    ap.add_argument("--batch", type=int, default=50_000, metavar="ROWS",
                    help="rows formatted per CSV batch (default: %(default)s)")
    ap.add_argument("--check", action="store_true",
                    help="validate the result (ogrinfo summary, sample of parcels inside their district)")
    ap.add_argument("--check-only", action="store_true", help="only validate an existing --out")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    a = ap.parse_args(argv)
    if a.count < 1:
        ap.error("--count must be >= 1")
    for tool in ("ogr2ogr", "ogrinfo"):
        if shutil.which(tool) is None:
            ap.error(f"{tool} (GDAL) not found on PATH")
    out = a.out or OUT / f"parcels_{a.count}.gpkg"
    tr = wgs84_to_tm3()
    if a.check_only:
        check(out, a.layer, tr)
        return 0

    out.parent.mkdir(parents=True, exist_ok=True)
    for p in (out, Path(f"{out}-journal"), Path(f"{out}-wal")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    districts = load_districts(tr, a.seed)
    scale, counts = plan(districts, a.count, a.seed)
    t_plan = time.perf_counter() - t0
    try:
        if a.via_csv:
            t_csv = write_via_csv(out, a.layer, districts, counts, a.seed, a.batch,
                                  not a.no_progress, a.keep_csv)
        else:
            write_streaming(out, a.layer, districts, counts, a.seed, a.batch, not a.no_progress)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    t_all = time.perf_counter() - t0
    print(f"{out}: {a.count} parcels, {out.stat().st_size / 1e6:.0f} MB, block scale {scale:.3f}; "
          + ", ".join(f"{d.code}: {n}" for d, n in zip(districts, counts)), file=sys.stderr)
    split = (f"generate+CSV {t_csv - t0 - t_plan:.1f} s, ogr2ogr {t_all - (t_csv - t0):.1f} s"
             if a.via_csv else "generate || ogr2ogr")
    print(f"time: plan {t_plan:.1f} s, {split}, total {t_all:.1f} s", file=sys.stderr)
    if a.check:
        check(out, a.layer, tr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
