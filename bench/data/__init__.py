"""The synthetic data the benchmarks run on: `parcels` makes the GeoPackage, `parcels_1m` publishes it."""
