"""Loading vector data into PostGIS through GDAL: inspect the source, copy it to a staging table, check it."""


class ImportRefused(Exception):
    """A source or request the SDI will not load; the message says why, in one line, for the admin."""
