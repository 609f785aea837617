"""filter-crs: keep a filter's coordinates as the client wrote them, with the CRS they are written in.

pygeoapi 0.24 (`pygeoapi.crs.modify_pygeofilter`) transforms geometry literals into the storage CRS in Python,
with the operation PROJ picks (EPSG:5194 at Cần Thơ, 0.8 m from the official EPSG:6960 that `bbox=` uses), and
ignores filter-crs for BBOX numbers. `keep_filter_crs` is installed in its place (sdi.ogcapi.adapter, seam 10):
it hands the filter on untouched, with its filter-crs, and the translator transforms every literal in PostGIS
through the pinned SRIDs (layers.crs.sql), so a box selects the same features as filter or as bbox.
"""
from dataclasses import dataclass

from layers.crs import CRS84_URI


@dataclass(frozen=True)
class FilterInCRS:
    """A parsed CQL2 filter and the CRS its coordinates are in (the filter-crs parameter; CRS84 by default).
    A literal that names its own CRS (EWKT `SRID=…;`, the 6th argument of BBOX) keeps it."""

    filter: object
    crs: str = CRS84_URI

    def __str__(self) -> str:
        return f"{self.filter} (filter-crs {self.crs})"


def keep_filter_crs(ast_tree, *, filter_crs_uri: str | None = None, storage_crs_uri: str | None = None,
                    geometry_column_name: str | None = None) -> FilterInCRS:
    """Same call as pygeoapi.crs.modify_pygeofilter. The storage CRS and geometry column are the provider's
    own business (the translator reads `geometry` as the geometry column)."""
    return FilterInCRS(ast_tree, filter_crs_uri or CRS84_URI)
