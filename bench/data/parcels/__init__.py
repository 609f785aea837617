"""A SYNTHETIC land-parcel layer ("thửa đất") for Cần Thơ, for benchmarks.

Nothing in the output is real cadastral data.  Only the nine district boundaries
come from a real source (config/data/cantho/admin/cantho_districts_gischinhphu.geojson);
every parcel, number, owner type, date and the placement of the ward names inside a
district is invented by a seeded random generator.  See bench/data/README.md.

How the layer is built (per district):

* The district boundary is projected from EPSG:4326 to VN-2000 / TM-3 zone 482
  (EPSG:5897) through the EPSG:6960 datum transformation "VN-2000 to WGS 84 (2)"
  (PROJ's default at Cần Thơ would be EPSG:5194, "VN-2000 to WGS 84 (1)").
* A rotated, jittered grid of "blocks" (rows of varying height, blocks of varying
  length, roads/ditches as gaps between them) is laid over the district; blocks
  whose four corners are not all inside the district are dropped.
* Fictional ward (phường / thị trấn / xã) areas are Voronoi cells around k-means
  seeds; the distance to a ward centre gives an "urbanity" that mixes a core and a
  periphery land-use distribution of the district's profile (urban, semi-urban,
  town, rural, orchard).
* Each block gets one land-use class and is subdivided by it: narrow house lots for
  ODT/ONT, larger fields for LUC/CLN/NTS, a single parcel for public land; some blocks
  also get a road / irrigation / river strip (DGT / DTL / SON) along one edge.
* Every parcel is a slightly perturbed rectangle with 4, 5 or 6 vertices lying
  inside its block, so parcels practically never overlap.
* Counts per district are proportional to the district's capacity (its area times
  its parcel density, so Ninh Kiều, Bình Thuỷ and Cái Răng are denser).  If --count
  is below the total capacity, whole blocks are drawn at random (the layer is a
  sparse sample with realistic parcel sizes); if it is above, all blocks shrink.
* Map sheets (so_to) are square tiles of the TM-3 grid (250 m / 500 m / 1000 m,
  i.e. 1:500 / 1:1000 / 1:2000 sheets) numbered per ward from north-west; parcels
  (so_thua) are numbered inside each sheet from north-west.

The rows are formatted as CSV with WKT geometry in batches and streamed into
`ogr2ogr -append ... CSV:/vsistdin/` (Python and GDAL then run on both cores), or with
--via-csv written to a file and converted by one ogr2ogr run.  The result is a
GeoPackage with an R-tree spatial index.  --check validates it.

The command: `python -m bench.data.parcels` (`__main__`); one module per step: `crs`, `landuse`, `districts`,
`blocks`, `lots`, `gpkg`, `check`.
"""
