"""The CQL2 conformance classes the translator implements; tests/test_cql2_sql.py runs an example of each."""

_CONF = "http://www.opengis.net/spec/cql2/1.0/conf/"
SUPPORTED_CONFORMANCE = [
    _CONF + name
    for name in (
        "basic-cql2",
        "advanced-comparison-operators",
        "case-insensitive-comparison",
        "accent-insensitive-comparison",
        "basic-spatial-functions",
        "basic-spatial-functions-plus",
        "spatial-functions",
        "arithmetic",
        "cql2-text",
        "cql2-json",
    )
]
"""Not claimed: temporal-functions (the T_* functions are translated, but pygeofilter 0.4 parses T_OVERLAPS as
T_INTERSECTS, has no T_DISJOINT and no date or open intervals in CQL2 text), array-functions, functions;
property-property comparisons work (both sides typed) but that class is not claimed."""
