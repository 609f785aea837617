"""Part 3 filtering with CQL2 over HTTP, push-down by a real client, sortby/properties/skipGeometry, schemas."""
import json
import subprocess
import unicodedata
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
import shapely
from shapely.geometry import shape

pytestmark = pytest.mark.django_db

OGC = "http://www.opengis.net/spec"
DISTRICTS_2009 = "mekong-delta-districts-population-2009"


def get(url, **params):
    return requests.get(url, params=params, timeout=30)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@pytest.fixture(scope="module")
def every_district(ogcapi):
    return get(f"{ogcapi}/collections/{DISTRICTS_2009}/items", limit=1000).json()["features"]


def matching(ogcapi, collection, cql, **params):
    response = get(f"{ogcapi}/collections/{collection}/items", filter=cql, limit=1000, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["numberMatched"] == len(body["features"])  # exact count for filtered queries
    return {f["id"] for f in body["features"]}


def test_conformance_declares_what_qgis_needs_for_push_down(ogcapi):
    classes = set(get(f"{ogcapi}/conformance").json()["conformsTo"])
    assert {f"{OGC}/ogcapi-features-3/1.0/conf/filter", f"{OGC}/ogcapi-features-3/1.0/conf/features-filter",
            f"{OGC}/cql2/1.0/conf/basic-cql2", f"{OGC}/cql2/1.0/conf/cql2-text"} <= classes


def test_queryables_carry_types_and_the_geometry(ogcapi):
    response = get(f"{ogcapi}/collections/{DISTRICTS_2009}/queryables")
    assert response.headers["Content-Type"] == "application/schema+json"
    properties = response.json()["properties"]
    assert properties["Dan_So"]["type"] == "integer" and properties["Ten_Huyen"]["type"] == "string"
    assert properties["geometry"]["x-ogc-role"] == "primary-geometry"


def test_schema_gives_field_types(ogcapi):
    properties = get(f"{ogcapi}/collections/{DISTRICTS_2009}/schema").json()["properties"]
    assert properties["Nam_TK"]["type"] == "integer" and properties["Code_vung"]["type"] == "string"


@pytest.mark.parametrize("cql, expected", [
    ("Ten_Tinh = 'Cần Thơ' AND Dan_So > 150000", lambda p: p["Ten_Tinh"] == "Cần Thơ" and p["Dan_So"] > 150000),
    ("Dan_So BETWEEN 100000 AND 120000", lambda p: 100000 <= p["Dan_So"] <= 120000),
    ("Ten_Huyen LIKE 'Chau%'", lambda p: p["Ten_Huyen"].startswith("Chau")),
    ("Code_vung IN ('92916', '92917', '86855')", lambda p: p["Code_vung"] in ("92916", "92917", "86855")),
    ("NOT (Dan_So < 200000) OR Ten_Tinh <> 'Kiên Giang'",
     lambda p: not p["Dan_So"] < 200000 or p["Ten_Tinh"] != "Kiên Giang"),
    ("Dan_So / 1000 >= 250", lambda p: p["Dan_So"] / 1000 >= 250),
])
def test_cql2_text_filters_select_exactly_the_matching_features(ogcapi, every_district, cql, expected):
    assert matching(ogcapi, DISTRICTS_2009, cql) == {f["id"] for f in every_district if expected(f["properties"])}


def test_case_and_accent_insensitive_vietnamese_search(ogcapi):
    every = get(f"{ogcapi}/collections/cantho-districts/items").json()["features"]
    for typed in ("quan ninh kieu", "QUẬN NINH KIỀU", "Quận Ninh Kieu"):
        found = matching(ogcapi, "cantho-districts", f"ACCENTI(CASEI(name)) = ACCENTI(CASEI('{typed}'))")
        assert found == {f["id"] for f in every if fold(f["properties"]["name"]) == fold(typed)} and len(found) == 1
    co_do = matching(ogcapi, "cantho-districts", "ACCENTI(CASEI(name)) LIKE ACCENTI(CASEI('%co do%'))")
    assert {f["properties"]["name"] for f in every if f["id"] in co_do} == {"Huyện Cờ Đỏ"}


@pytest.mark.parametrize("cql, geometry", [
    ("S_INTERSECTS(geometry, POINT(105.78 10.03))", shapely.Point(105.78, 10.03)),
    ("S_INTERSECTS(geometry, POLYGON((105.5 10.0, 105.7 10.0, 105.7 10.1, 105.5 10.1, 105.5 10.0)))",
     shapely.box(105.5, 10.0, 105.7, 10.1)),
    ("BBOX(geometry, 105.5, 10.0, 105.7, 10.1)", shapely.box(105.5, 10.0, 105.7, 10.1)),
])
def test_spatial_filters(ogcapi, cql, geometry):
    every = get(f"{ogcapi}/collections/cantho-districts/items").json()["features"]
    assert matching(ogcapi, "cantho-districts", cql) == {
        f["id"] for f in every if shape(f["geometry"]).intersects(geometry)}


def test_s_within(ogcapi):
    stops = get(f"{ogcapi}/collections/cantho-bus-route-09-stops/items", limit=1000).json()["features"]
    box = shapely.box(105.70, 10.00, 105.76, 10.06)
    found = matching(ogcapi, "cantho-bus-route-09-stops", f"S_WITHIN(geometry, {box.wkt})")
    assert found == {f["id"] for f in stops if shape(f["geometry"]).within(box)} and found


def test_cql2_json_by_post_and_by_get(ogcapi, every_district):
    body = {"op": "and", "args": [{"op": "=", "args": [{"property": "Ten_Tinh"}, "Cần Thơ"]},
                                  {"op": ">", "args": [{"property": "Dan_So"}, 150000]}]}
    expected = {f["id"] for f in every_district
                if f["properties"]["Ten_Tinh"] == "Cần Thơ" and f["properties"]["Dan_So"] > 150000}
    posted = requests.post(f"{ogcapi}/collections/{DISTRICTS_2009}/items?limit=1000", json=body, timeout=30)
    assert posted.status_code == 200 and {f["id"] for f in posted.json()["features"]} == expected
    assert matching(ogcapi, DISTRICTS_2009, json.dumps(body), **{"filter-lang": "cql2-json"}) == expected


@pytest.mark.parametrize("cql, message", [
    ("Dan_So >", "malformed cql2-text filter"),
    ("khong_co = 1", "unknown queryable 'khong_co'"),
    ("Dan_So = 'nhiều'", "Dan_So is an integer property"),
])
def test_bad_filters_are_400_with_a_precise_message(ogcapi, cql, message):
    response = get(f"{ogcapi}/collections/{DISTRICTS_2009}/items", filter=cql)
    assert response.status_code == 400 and message in response.json()["description"]


def test_filter_values_never_reach_sql_as_text(ogcapi, every_district):
    hostile = {"op": "=", "args": [{"property": "Ten_Huyen"}, "x' OR '1'='1"]}
    response = get(f"{ogcapi}/collections/{DISTRICTS_2009}/items", filter=json.dumps(hostile), **{"filter-lang": "cql2-json"})
    assert response.status_code == 200 and response.json()["numberMatched"] == 0
    assert get(f"{ogcapi}/collections/{DISTRICTS_2009}/items", limit=1).json()["numberMatched"] == len(every_district)


def test_sortby_several_keys_properties_and_skip_geometry(ogcapi):
    body = get(f"{ogcapi}/collections/{DISTRICTS_2009}/items", sortby="Ten_Tinh,-Dan_So",
               properties="Ten_Tinh,Dan_So", skipGeometry="true", limit=1000).json()
    rows = [(f["properties"]["Ten_Tinh"], f["properties"]["Dan_So"]) for f in body["features"]]
    assert rows == sorted(rows, key=lambda r: (r[0].encode("utf-8"), -r[1])) or rows == sorted(rows, key=lambda r: (r[0], -r[1]))
    assert all(set(f["properties"]) == {"Ten_Tinh", "Dan_So"} and f["geometry"] is None for f in body["features"])
    bad = get(f"{ogcapi}/collections/{DISTRICTS_2009}/items", sortby="khong_co")
    assert bad.status_code == 400


def test_gdal_pushes_the_attribute_filter_to_the_server_and_only_matches_travel(ogcapi, every_district):
    """GDAL's OAPIF driver (what ogr2ogr and QGIS's GDAL tools use) sends the equality to the server."""
    port = urlparse(ogcapi).port
    log = Path(__file__).resolve().parent.parent / ".pytest_cache" / f"server-{port}.log"
    before = log.read_text().count("\n")
    out = subprocess.run(["ogrinfo", "-ro", "-q", "-geom=NO", f"OAPIF:{ogcapi}", DISTRICTS_2009,
                          "-where", "Ten_Tinh = 'Cần Thơ'"], check=True, capture_output=True, text=True).stdout
    assert out.count("OGRFeature") == 9
    requested = log.read_text().splitlines()[before:]
    items = [line for line in requested if f"/collections/{DISTRICTS_2009}/items" in line]
    assert items and all("Ten_Tinh=C%E1%BA%A7n%20Th%C6%A1" in line for line in items if "limit=10 " not in line)
    assert any("Ten_Tinh=" in line for line in items)
    sizes = [int(line.split('" 200 ')[1].split()[0]) for line in items if "Ten_Tinh=" in line]
    full = len(requests.get(f"{ogcapi}/collections/{DISTRICTS_2009}/items?f=json&limit=1000", timeout=30).content)
    assert sum(sizes) < full / 10  # 9 of 228 districts travelled, not the whole layer


@pytest.fixture(scope="module")
def inspections(django_db_setup, django_db_blocker, tmp_path_factory):
    """Environmental inspections with a date: `datetime=` filters on it."""
    from layers.registry.services import DatasetMetadata, delete_dataset, import_vector_dataset

    dates = ["2023-01-15", "2023-06-30", "2024-02-10", "2024-11-26"]
    path = tmp_path_factory.mktemp("time") / "kiem_tra.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ngay_kiem_tra": d, "co_so": f"Cơ sở {i}"},
         "geometry": {"type": "Point", "coordinates": [105.7 + i / 100, 10.03]}} for i, d in enumerate(dates)]}),
        encoding="utf-8")
    with django_db_blocker.unblock():
        import_vector_dataset(path, slug="t-inspections", metadata=DatasetMetadata(
            title_vi="Kiểm tra môi trường", title_en="Inspections", sector="environment", licence_name="x",
            attribution="x"))
        yield dates
        delete_dataset("t-inspections")


def test_datetime_filters_on_the_datasets_date_column(ogcapi, inspections):
    collection = get(f"{ogcapi}/collections/t-inspections").json()
    assert collection["extent"]["temporal"]["interval"][0][0].startswith("2023-01-15")
    url = f"{ogcapi}/collections/t-inspections/items"

    def days(**params):
        response = get(url, **params)
        assert response.status_code == 200, response.text
        return sorted(f["properties"]["ngay_kiem_tra"] for f in response.json()["features"])

    assert days(datetime="2023-06-30") == ["2023-06-30"]
    assert days(datetime="2023-03-01/2024-03-01") == ["2023-06-30", "2024-02-10"]
    assert days(datetime="../2023-12-31") == ["2023-01-15", "2023-06-30"]
    assert days(datetime="2024-01-01/..") == ["2024-02-10", "2024-11-26"]
    assert get(url, datetime="not-a-date").status_code == 400
