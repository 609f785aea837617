#!/usr/bin/env python3
"""QGIS smoke test: load every OGC API - Features collection through QGIS's OAPIF provider.

Run with the *system* python that has python3-qgis installed (not the project's .venv):

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tools/qgis_smoke.py http://127.0.0.1:8100/ogcapi

For each collection listed at /collections it checks, against what the server itself says:
  * the OAPIF layer is valid;
  * the number of features QGIS reads (and layer.featureCount()) equals numberMatched;
  * QGIS field names equal the collection's queryables (minus the geometry), and
    string/integer/number queryables map to matching QGIS field types;
  * every string attribute is NFC-normalised and the string values equal the server's
    own GeoJSON (catches mojibake / double encoding of Vietnamese text);
  * every geometry is present and non-empty.
It also performs two informational probes (never failing the run): paging with an
explicit small pageSize, and requesting another CRS through the `srsname` URI key.

Prints one line per collection (OK/FAIL) and exits 1 if any collection fails.
"""
import json
from collections import Counter
import os
import sys
import unicodedata
import urllib.parse
import urllib.request

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.PyQt.QtCore import QVariant  # noqa: E402
from qgis.core import (  # noqa: E402  (import after env setup)
    Qgis,
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsDataSourceUri,
    QgsFeatureRequest,
    QgsVectorLayer,
    QgsWkbTypes,
)

JSON_TO_QVARIANT = {
    "string": {QVariant.String},
    "integer": {QVariant.Int, QVariant.LongLong},
    "number": {QVariant.Double, QVariant.Int, QVariant.LongLong},
    "boolean": {QVariant.Bool},
}
FORMAT_TO_QVARIANT = {"date": {QVariant.Date}, "date-time": {QVariant.DateTime}}
PROVIDER = "OAPIF"  # QGIS's OGC API - Features provider key (shares code with the WFS provider)


def get_json(url, **params):
    params.setdefault("f", "json")
    sep = "&" if "?" in url else "?"
    full = url + sep + urllib.parse.urlencode(params)
    req = urllib.request.Request(full, headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read().decode("utf-8"))


def oapif_uri(base, typename, **extra):
    """Data source string of the OAPIF provider: url=<landing page> typename=<collection id>.

    Other keys understood by QGIS 3.22's WFS/OAPIF provider: srsname, pagingEnabled,
    pageSize, maxNumFeatures, restrictToRequestBBOX, filter, username/password/authcfg.
    """
    uri = QgsDataSourceUri()
    uri.setParam("url", base)
    uri.setParam("typename", typename)
    for key, value in extra.items():
        uri.setParam(key, str(value))
    return uri.uri(False)


def is_empty_geom(geom):
    return geom is None or geom.isNull() or geom.isEmpty()


def check_collection(base, cid):
    """Return (ok, message)."""
    coll_url = f"{base}/collections/{cid}"
    first = get_json(f"{coll_url}/items", limit=1)
    expected_n = first.get("numberMatched")
    if expected_n is None:
        return False, "server gave no numberMatched on items?limit=1"
    queryables = get_json(f"{coll_url}/queryables").get("properties", {})
    expected_fields = {
        k for k, v in queryables.items()
        if not (isinstance(v, dict) and (v.get("x-ogc-role") == "primary-geometry"
                                         or str(v.get("format", "")).startswith("geometry")
                                         or k == "geometry"))
    }
    # Reference values straight from the server (GeoJSON); compared as a multiset of
    # per-feature string tuples, since QGIS does not expose the GeoJSON feature id.
    ref = get_json(f"{coll_url}/items", limit=max(expected_n, 1))
    ref_props = [f.get("properties") or {} for f in ref.get("features", [])]

    layer = QgsVectorLayer(oapif_uri(base, cid), cid, PROVIDER)
    try:
        if not layer.isValid():
            err = layer.dataProvider().error().message() if layer.dataProvider() else ""
            return False, f"layer invalid {err}".strip()
        problems = []
        qgis_fields = [f.name() for f in layer.fields()]
        extra = set(qgis_fields) - expected_fields
        missing = expected_fields - set(qgis_fields)
        if extra or missing:
            problems.append(f"fields mismatch: missing={sorted(missing)} extra={sorted(extra)}")
        for fld in layer.fields():
            queryable = queryables.get(fld.name()) or {}
            want = queryable.get("type")
            got = fld.type()
            if queryable.get("format") in FORMAT_TO_QVARIANT:  # e.g. a date: QGIS makes it a Date field
                if got not in FORMAT_TO_QVARIANT[queryable["format"]]:
                    problems.append(f"field {fld.name()} is {fld.typeName() or got} in QGIS, "
                                    f"'{queryable['format']}' in queryables")
            elif want in JSON_TO_QVARIANT and got not in JSON_TO_QVARIANT[want]:
                problems.append(f"field {fld.name()} is {fld.typeName() or got} in QGIS, '{want}' in queryables")

        str_fields = [f.name() for f in layer.fields() if f.type() == QVariant.String]
        n = 0
        n_empty = 0
        n_str = n_non_ascii = 0
        not_nfc = []
        qgis_tuples = Counter()
        for feat in layer.getFeatures(QgsFeatureRequest()):
            n += 1
            if is_empty_geom(feat.geometry()):
                n_empty += 1
            row = []
            for name in str_fields:
                val = feat[name]
                if not isinstance(val, str):
                    row.append(None)
                    continue
                row.append(val)
                n_str += 1
                if any(ord(c) > 127 for c in val):
                    n_non_ascii += 1
                if unicodedata.normalize("NFC", val) != val:
                    not_nfc.append(f"{name}={val!r}")
            qgis_tuples[tuple(row)] += 1
        server_tuples = Counter(
            tuple(p.get(name) if isinstance(p.get(name), str) else None for name in str_fields)
            for p in ref_props)
        fc = layer.featureCount()
        if n != expected_n:
            problems.append(f"iterated {n} features, numberMatched={expected_n}")
        if fc != expected_n:
            problems.append(f"featureCount()={fc}, numberMatched={expected_n}")
        if n_empty:
            problems.append(f"{n_empty} null/empty geometries")
        if not_nfc:
            problems.append(f"{len(not_nfc)} strings not NFC, e.g. {not_nfc[0]}")
        if len(ref_props) == expected_n and qgis_tuples != server_tuples:  # (the server caps a page at 10000)
            diff = list((qgis_tuples - server_tuples).elements())[:1]
            problems.append(f"string values differ from server GeoJSON, e.g. QGIS row {diff}")
        geom_type = QgsWkbTypes.displayString(layer.wkbType())
        info = (f"n={n} type={geom_type} crs={layer.crs().authid() or layer.crs().toWkt()[:30]} "
                f"fields={qgis_fields} strings={n_str} non-ascii={n_non_ascii}")
        if problems:
            return False, "; ".join(problems) + f" [{info}]"
        return True, info
    finally:
        del layer


def probe_paging(base, cid, expected_n, page_size=50):
    layer = QgsVectorLayer(oapif_uri(base, cid, pagingEnabled="true", pageSize=page_size), cid, PROVIDER)
    try:
        if not layer.isValid():
            return f"layer invalid with pageSize={page_size}"
        n = sum(1 for _ in layer.getFeatures())
        status = "OK" if n == expected_n else "FAIL"
        return f"{status} pageSize={page_size}: read {n}/{expected_n} features"
    finally:
        del layer


def probe_crs(base, cid, srsname):
    layer = QgsVectorLayer(oapif_uri(base, cid, srsname=srsname), cid, PROVIDER)
    try:
        if not layer.isValid():
            err = layer.dataProvider().error().message() if layer.dataProvider() else ""
            return f"srsname={srsname}: layer invalid {err}".strip()
        feat = next(layer.getFeatures(QgsFeatureRequest().setLimit(1)), None)
        pt = feat.geometry().vertexAt(0) if feat is not None and feat.hasGeometry() else None
        first = f"({pt.x():.6f}, {pt.y():.6f})" if pt is not None else "n/a"
        return (f"srsname={srsname}: valid, layer crs={layer.crs().authid()}, "
                f"n={layer.featureCount()}, first vertex={first}")
    finally:
        del layer


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0])
        print(f"usage: {argv[0]} BASE_URL   (e.g. http://127.0.0.1:8100/ogcapi)")
        return 2
    base = argv[1].rstrip("/")

    qgs = QgsApplication([], False)
    qgs.initQgis()
    failures = 0
    try:
        print(f"QGIS {Qgis.version()} — OAPIF provider against {base}")
        collections = get_json(f"{base}/collections")["collections"]
        for coll in collections:
            cid = coll["id"]
            try:
                ok, msg = check_collection(base, cid)
            except Exception as exc:  # network error, unexpected JSON, ...
                ok, msg = False, f"exception {type(exc).__name__}: {exc}"
            failures += not ok
            print(f"{'OK  ' if ok else 'FAIL'} {cid}: {msg}", flush=True)

        # Informational probes: never change the exit status.
        ids = [c["id"] for c in collections]
        biggest = max(ids, key=lambda c: get_json(f"{base}/collections/{c}/items", limit=1)["numberMatched"])
        n_big = get_json(f"{base}/collections/{biggest}/items", limit=1)["numberMatched"]
        print(f"INFO paging {biggest}: {probe_paging(base, biggest, n_big)}")
        probe = "cantho-districts" if "cantho-districts" in ids else ids[0]
        for srs in ("EPSG:4326", "EPSG:3405"):  # EPSG:3405 = VN-2000 / UTM zone 48N
            try:
                print(f"INFO crs {probe}: {probe_crs(base, probe, srs)}")
            except Exception as exc:
                print(f"INFO crs {probe}: srsname={srs}: exception {exc}")
    finally:
        qgs.exitQgis()
    print(f"{len(collections) - failures}/{len(collections)} collections OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
