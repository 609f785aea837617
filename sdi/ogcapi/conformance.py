"""The conformance classes the SDI really implements, each backed by tests.

pygeoapi declares every class its feature API *can* support (CQL2, create-replace-delete…) as soon as one
feature collection exists; QGIS then pushes filters to a server that cannot run them. We declare only what
our provider does (served in place of pygeoapi's list by sdi/ogcapi/adapter.py).
"""
from layers.serving.cql2 import SUPPORTED_CONFORMANCE

OGC = "http://www.opengis.net/spec"
CONFORMANCE_CLASSES = sorted([
    f"{OGC}/ogcapi-common-1/1.0/conf/core",
    f"{OGC}/ogcapi-common-1/1.0/conf/landing-page",
    f"{OGC}/ogcapi-common-1/1.0/conf/json",
    f"{OGC}/ogcapi-common-1/1.0/conf/html",
    f"{OGC}/ogcapi-common-1/1.0/conf/oas30",
    f"{OGC}/ogcapi-common-2/1.0/conf/collections",
    f"{OGC}/ogcapi-features-1/1.0/conf/core",
    f"{OGC}/ogcapi-features-1/1.0/conf/oas30",
    f"{OGC}/ogcapi-features-1/1.0/conf/html",
    f"{OGC}/ogcapi-features-1/1.0/conf/geojson",
    f"{OGC}/ogcapi-features-2/1.0/conf/crs",
    f"{OGC}/ogcapi-features-3/1.0/conf/queryables",
    f"{OGC}/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    f"{OGC}/ogcapi-common-3/1.0/conf/schemas",
    # Processes (the summary process, layers/summaries/process.py): synchronous execution, JSON, OGC descriptions
    f"{OGC}/ogcapi-processes-1/1.0/conf/core",
    f"{OGC}/ogcapi-processes-1/1.0/conf/json",
    f"{OGC}/ogcapi-processes-1/1.0/conf/ogc-process-description",
    # Filtering (Part 3) with CQL2: the four classes QGIS needs before it pushes filters to the server,
    # plus every CQL2 class layers.serving.cql2 implements and tests.
    f"{OGC}/ogcapi-features-3/1.0/conf/filter",
    f"{OGC}/ogcapi-features-3/1.0/conf/features-filter",
    *SUPPORTED_CONFORMANCE,
])

