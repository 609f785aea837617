"""CQL2 filters, as parsed by pygeofilter 0.4, translated into a PostgreSQL/PostGIS WHERE fragment.

``translate(node, fields=..., geometry_column=..., storage_srid=...)`` returns ``(fragment, params)``: a
``psycopg.sql.Composable`` to put after ``WHERE`` and the list of values for its ``%s`` placeholders, in order.

Rules that keep it safe and predictable:

* every value written by the client (strings, numbers, dates, geometries, LIKE patterns, list items) is a
  bound parameter; only property names reach the SQL text, through ``sql.Identifier``, and only when they are
  queryables (``fields`` or the geometry column);
* values are converted in Python to the property's declared type (``fields[name]``: JSON Schema ``type`` and
  ``format``) so that PostgreSQL compares like with like and can use the column's index; a value that does not
  fit is refused with ``FilterError`` (a ``ValueError``: the provider answers 400, never 500);
* coordinates are transformed in PostGIS from the filter-crs with the same pinned operation as everything else
  (layers.crs), never in Python.

Free of Django on purpose, like the provider that uses it. The modules: translator (entry point and dispatch),
values, comparison, spatial, temporal, functions, filter_crs (pygeoapi's filter-crs seam), conformance.
"""
from layers.serving.cql2.conformance import SUPPORTED_CONFORMANCE  # noqa: F401
from layers.serving.cql2.filter_crs import FilterInCRS, keep_filter_crs  # noqa: F401
from layers.serving.cql2.translator import translate  # noqa: F401
from layers.serving.cql2.values import FilterError  # noqa: F401
