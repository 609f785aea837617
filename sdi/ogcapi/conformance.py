"""The conformance classes the SDI really implements, each backed by tests.

pygeoapi declares every class its feature API *can* support (CQL2, create-replace-delete…) as soon as one
feature collection exists; QGIS then pushes filters to a server that cannot run them. We declare only what
our provider does.
"""
from http import HTTPStatus

from pygeoapi.api import API, APIRequest
from pygeoapi.formats import F_HTML
from pygeoapi.util import render_j2_template, to_json

from layers.cql2 import SUPPORTED_CONFORMANCE

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
    # Filtering (Part 3) with CQL2: the four classes QGIS needs before it pushes filters to the server,
    # plus every CQL2 class layers.cql2 implements and tests.
    f"{OGC}/ogcapi-features-3/1.0/conf/filter",
    f"{OGC}/ogcapi-features-3/1.0/conf/features-filter",
    *SUPPORTED_CONFORMANCE,
])


def conformance(api: API, request: APIRequest):
    document = {"conformsTo": CONFORMANCE_CLASSES}
    headers = request.get_response_headers(**api.api_headers)
    if request.format == F_HTML:
        content = render_j2_template(api.tpl_config, api.config["server"]["templates"], "conformance.html",
                                     document, request.locale)
        return headers, HTTPStatus.OK, content
    return headers, HTTPStatus.OK, to_json(document, api.pretty_print)
