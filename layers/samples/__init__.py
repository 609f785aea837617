"""Synthetic sample sector data that `make run` loads where no open real data exists (issue 11, part 3): land-use
parcels for Bình Thủy, Cái Răng and Phong Điền, each in the format, schema, code list, encoding and CRS of a
different office, and surface-water monitoring stations with monthly readings. Every dataset says it is
DỮ LIỆU MẪU / SYNTHETIC; only the district boundaries and river lines it is drawn from are real.

`land_use_codes` (the national list and each office's), `geometry` (real boundaries, grids), `parcels`,
`monitoring`, `files` (writers) and `catalogue` (what `manage.py sample_data` makes and imports).
"""
