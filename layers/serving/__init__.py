"""Serving features to pygeoapi: the provider plugin and the SQL it runs. Free of Django, URLs and query strings
(the web layer, sdi/ogcapi/, parses those), so it can be used and tested on its own; its errors are pygeoapi's
provider exceptions, which pygeoapi turns into OGC exception answers.

- `provider.py`   PostGISProvider, the class pygeoapi loads (definition in, collections out)
- `hints.py`      what the web layer tells the provider about a request (PageHint) and what comes back
- `page_sql.py`   the SQL of one page: WHERE, ORDER BY and the GeoJSON of a feature
- `counting.py`   numberMatched: the registry's count, an exact count, or none
- `database.py`   the per-process connection pool and the one retried read
- `options.py`    the provider's tuning (ServingOptions), set in sdi/settings.py
- `crs_uris.py`   output CRS URIs → SRID and axis order
"""
