"""Benchmarks of the Cần Thơ SDI, one package per concern (bench/README.md lists the commands).

- `bench.data`: the synthetic data they run on (`bench.data.parcels` makes the parcels GeoPackage,
  `bench.data.parcels_1m` publishes the 1M table the servers read);
- `bench.imports`: loading a file, ours against plain ogr2ogr;
- `bench.peers`: the OGC API side by side with tipg and stock pygeoapi (set-up, configs, the command);
- `bench.load`: request shapes, answer checks, wrk, the whole-table walk, the PostgreSQL floor;
- `bench.profiling`: where a request's time goes (cProfile, py-spy, the SQL alone);
- `bench.report`: results kept between runs, and their markdown;
- `bench.sources`: harvest benchmarks of the sources kept in sync (issue 10);
- `bench.samples`: `manage.py sample_data`, the synthetic samples `make run` adds (issue 11);
- at the top: the benchmark database, our processes, and other processes' load on the shared machine.

Run every command from the repository root: `.venv/bin/python -m bench.<package> --help`.
"""
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"  # everything a benchmark writes (git-ignored)
