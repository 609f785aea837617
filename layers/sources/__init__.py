"""Sources kept in sync: a dataset fed by a sector's own database or service, harvested on a schedule.

A source names where the data lives (another PostgreSQL/PostGIS database, a remote OGC API – Features
collection, a WFS 2.0 feature type, or a GeoJSON/CSV/zipped Shapefile at a URL) and the stable key its rows are
matched on. Each run reads the source into a staging table, puts it through the same checks as an upload,
and then writes only what changed into the published table, in one transaction, with a change log.
"""
