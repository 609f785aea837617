"""Harvest benchmarks of the sources kept in sync (layers/sources/, issue 10) belong here, beside bench.imports:
one module per concern (the remote source it sets up on loopback, the load, the command in `__main__`), reusing
bench.database, bench.processes and bench.report. Nothing is measured here yet."""
