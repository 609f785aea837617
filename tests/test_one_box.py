"""One box, one answer: on VN-2000 data, a box sent as `bbox=`, as CQL2 text (BBOX, S_INTERSECTS with a
POLYGON or a BBOX literal) and as CQL2 JSON (GET and POST) selects exactly the same features, whether the box
is written in CRS84, in EPSG:4326 (latitude first) or in the data's own EPSG:5897 (`bbox-crs`/`filter-crs`).

The points lie 0.3 m either side of the box edges. PROJ's own choice of datum shift for VN-2000 at Cần Thơ
(EPSG:5194) is 0.8 m from the official EPSG:6960, so a transform that is not pinned puts some of them on the
wrong side; the expected answer is computed with pyproj forced to EPSG:6960. Over real HTTP.
"""
import inspect
import json

import pytest
import requests
from pyproj import Transformer
from pyproj.transformer import TransformerGroup
from shapely.geometry import Point, box

from layers.serving.cql2 import keep_filter_crs
from layers.registry.services import DatasetMetadata, delete_dataset, import_vector_dataset

pytestmark = pytest.mark.django_db

SLUG = "t-one-box"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}".format
LON_LAT_BOX = (105.7700, 10.0300, 105.7720, 10.0320)  # ~220 m square in Ninh Kiều
TM3_BOX = (586000.0, 1109000.0, 586150.0, 1109120.0)  # in EPSG:5897, ~1.5 km west of it
OFFSET = 0.3  # metres either side of an edge: less than the 0.8 m between EPSG:5194 and EPSG:6960
ALONG = (0.2, 0.5, 0.8)  # where on each edge


def official(source, target) -> Transformer:
    """pyproj forced to EPSG:6960 ("VN-2000 to WGS 84 (2)"), x/y order."""
    return next(t for t in TransformerGroup(source, target, always_xy=True).transformers
                if "VN-2000 to WGS 84 (2)" in t.description)


TO_TM3, TO_LON_LAT = official("OGC:CRS84", 5897), official(5897, "OGC:CRS84")


def near_edges(minx, miny, maxx, maxy, to_tm3=lambda x, y: (x, y)):
    """Points in EPSG:5897, OFFSET metres inside and outside each edge of a box drawn in another CRS."""
    points = []
    for t in ALONG:
        x_at, y_at = minx + t * (maxx - minx), miny + t * (maxy - miny)
        for (x, y), (dx, dy) in (((minx, y_at), (1, 0)), ((maxx, y_at), (-1, 0)),
                                 ((x_at, miny), (0, 1)), ((x_at, maxy), (0, -1))):
            east, north = to_tm3(x, y)
            points += [(east + dx * OFFSET, north + dy * OFFSET), (east - dx * OFFSET, north - dy * OFFSET)]
    return points


POINTS = (near_edges(*LON_LAT_BOX, to_tm3=TO_TM3.transform) + near_edges(*TM3_BOX)
          + [TO_TM3.transform(105.771, 10.031), TO_TM3.transform(105.775, 10.035)])


def inside_lon_lat_box(east, north, to_lon_lat=TO_LON_LAT) -> bool:
    return box(*LON_LAT_BOX).intersects(Point(to_lon_lat.transform(east, north)))


EXPECTED_LON_LAT = {ref for ref, (e, n) in enumerate(POINTS, 1) if inside_lon_lat_box(e, n)}
EXPECTED_TM3 = {ref for ref, (e, n) in enumerate(POINTS, 1) if box(*TM3_BOX).intersects(Point(e, n))}


def test_the_points_tell_the_pinned_transform_from_proj_s_own_pick():
    """Else the HTTP test below could not fail for its stated reason."""
    unpinned = Transformer.from_crs(5897, "OGC:CRS84", always_xy=True)  # PROJ's own pick (not EPSG:6960)
    assert "VN-2000 to WGS 84 (2)" not in unpinned.description
    by_proj = {ref for ref, (e, n) in enumerate(POINTS, 1) if inside_lon_lat_box(e, n, unpinned)}
    assert by_proj != EXPECTED_LON_LAT
    assert len(EXPECTED_LON_LAT) >= 12 and len(EXPECTED_TM3) == 12 and not EXPECTED_LON_LAT & EXPECTED_TM3


@pytest.fixture(scope="module")
def points_in_tm3(django_db_setup, django_db_blocker, tmp_path_factory):
    source = tmp_path_factory.mktemp("one-box") / "diem.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ref": ref}, "geometry": {"type": "Point", "coordinates": [e, n]}}
        for ref, (e, n) in enumerate(POINTS, 1)]}), encoding="utf-8")
    with django_db_blocker.unblock():
        import_vector_dataset(source, slug=SLUG, srid=5897, metadata=DatasetMetadata(
            title_vi="Điểm gần mép hộp", title_en="Points near a box edge", sector="land", licence_name="x",
            attribution="x"))
        yield
        delete_dataset(SLUG)


def ring(minx, miny, maxx, maxy):
    return [[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]


def spellings(numbers, crs):
    """(name, method, query, body) for the same box, numbers in the axis order of `crs`."""
    a, b, c, d = numbers
    wkt = "POLYGON((" + ", ".join(f"{x!r} {y!r}" for x, y in ring(a, b, c, d)) + "))"
    polygon = {"op": "s_intersects", "args": [{"property": "geometry"},
                                               {"type": "Polygon", "coordinates": [ring(a, b, c, d)]}]}
    in_crs = {"filter-crs": crs}
    found = [
        ("bbox", "GET", {"bbox": f"{a!r},{b!r},{c!r},{d!r}", "bbox-crs": crs}, None),
        ("text BBOX", "GET", {"filter": f"BBOX(geom, {a!r}, {b!r}, {c!r}, {d!r})", **in_crs}, None),
        ("text S_INTERSECTS polygon", "GET", {"filter": f"S_INTERSECTS(geometry, {wkt})", **in_crs}, None),
        ("text S_INTERSECTS BBOX literal", "GET",
         {"filter": f"S_INTERSECTS(geom, BBOX({a!r}, {b!r}, {c!r}, {d!r}))", **in_crs}, None),
        ("JSON polygon GET", "GET", {"filter": json.dumps(polygon), "filter-lang": "cql2-json", **in_crs}, None),
        ("JSON polygon POST", "POST", in_crs, polygon),
    ]
    if crs == CRS84:  # pygeofilter 0.4 reads a JSON bbox ambiguously unless every x exceeds every y (#163)
        literal = {"op": "s_intersects", "args": [{"property": "geom"}, {"bbox": [a, b, c, d]}]}
        found += [("JSON bbox GET", "GET", {"filter": json.dumps(literal), "filter-lang": "cql2-json", **in_crs},
                   None), ("JSON bbox POST", "POST", in_crs, literal)]
    return found


def selected(ogcapi, method, query, body) -> set[int]:
    url = f"{ogcapi}/collections/{SLUG}/items"
    query = {**query, "limit": 1000}
    if method == "POST":
        response = requests.post(url, params=query, data=json.dumps(body), timeout=30,
                                 headers={"Content-Type": "application/json"})
    else:
        response = requests.get(url, params=query, timeout=30)
    assert response.status_code == 200, response.text
    return {feature["properties"]["ref"] for feature in response.json()["features"]}


@pytest.mark.parametrize("numbers, crs, expected", [
    (LON_LAT_BOX, CRS84, EXPECTED_LON_LAT),
    ((LON_LAT_BOX[1], LON_LAT_BOX[0], LON_LAT_BOX[3], LON_LAT_BOX[2]), EPSG(4326), EXPECTED_LON_LAT),  # lat, lon
    (TM3_BOX, EPSG(5897), EXPECTED_TM3),
], ids=["CRS84", "EPSG:4326", "EPSG:5897"])
def test_one_box_selects_the_same_features_however_it_is_sent(ogcapi, points_in_tm3, numbers, crs, expected):
    answers = {name: selected(ogcapi, method, query, body) for name, method, query, body in spellings(numbers, crs)}
    assert answers == {name: expected for name in answers}


def test_rest_and_ogc_api_name_the_same_storage_crs(server, points_in_tm3):
    for slug, storage_crs in ((SLUG, EPSG(5897)), ("cantho-districts", CRS84)):
        rest = requests.get(f"{server}/api/datasets/{slug}", timeout=30).json()
        ogc = requests.get(f"{server}/ogcapi/collections/{slug}", params={"f": "json"}, timeout=30).json()
        assert rest["properties"]["storage_crs"] == ogc["storageCrs"] == storage_crs


def test_pygeoapi_hands_the_filter_and_its_filter_crs_on_untransformed():
    """The seam the CQL2 spellings rely on (sdi.ogcapi.adapter, seam 10): pygeoapi calls our
    keep_filter_crs by the name it imported, instead of transforming the literals itself."""
    from pygeoapi.api import itemtypes

    from sdi.ogcapi import adapter

    adapter.install()
    assert itemtypes.modify_pygeofilter is keep_filter_crs
    assert inspect.getsource(itemtypes.get_collection_items).count("modify_pygeofilter(") == 2  # text and JSON
