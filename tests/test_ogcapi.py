"""OGC API – Features Part 1 over real HTTP (gunicorn) against the real PostGIS test database."""
import unicodedata
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import shapely
from shapely.geometry import shape

from layers.models import Dataset

pytestmark = pytest.mark.django_db

GEOJSON = "application/geo+json"


def get(url, **kwargs):
    return requests.get(url, timeout=30, allow_redirects=False, **kwargs)


def assert_ogc_exception(response, status, code, fragment):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert fragment in body["description"]


def test_landing_page_links_are_absolute_and_name_openapi_and_data(ogcapi):
    response = get(f"{ogcapi}/")
    assert response.status_code == 200
    links = {link["rel"]: link for link in response.json()["links"]}
    assert links["service-desc"]["href"] == f"{ogcapi}/openapi"
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert links["data"]["href"] == f"{ogcapi}/collections"
    assert links["conformance"]["href"] == f"{ogcapi}/conformance"
    for link in response.json()["links"]:
        assert link["href"].startswith("http"), link
        if link["href"].startswith(ogcapi):
            assert get(link["href"]).status_code == 200, link  # no link of ours is dead or redirects


def test_landing_page_also_answers_without_trailing_slash(ogcapi):
    response = get(ogcapi)
    assert response.status_code == 200 and "links" in response.json()


def test_conformance_declares_features_core_and_geojson_but_not_what_is_missing(ogcapi):
    classes = get(f"{ogcapi}/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30" in classes
    assert not any("create-replace-delete" in c for c in classes)


def test_openapi_advertises_limit_default_and_maximum_for_qgis(ogcapi):
    response = get(f"{ogcapi}/openapi")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    document = response.json()
    assert document["openapi"].startswith("3.0")
    limit = document["components"]["parameters"]["limit"]["schema"]
    assert limit["default"] == 100 and limit["maximum"] >= 10000
    assert "/collections/cantho-districts/items" in document["paths"]


def test_openapi_html_page_renders(ogcapi):
    response = get(f"{ogcapi}/openapi", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert "swagger" in response.text.lower()


def test_collections_are_generated_from_the_registry_with_attribution(ogcapi):
    collections = {c["id"]: c for c in get(f"{ogcapi}/collections").json()["collections"]}
    published = set(Dataset.objects.filter(published=True).values_list("slug", flat=True))
    assert set(collections) == published
    districts = collections["cantho-districts-population-2009"]
    assert districts["title"] == "Quận, huyện Cần Thơ và dân số 2009"  # default language vi
    assert "Open Development Mekong" in districts["description"]
    assert any(link["rel"] == "license" and "by-sa/4.0" in link["href"] for link in districts["links"])
    assert districts["extent"]["spatial"]["bbox"][0] == pytest.approx([105.224, 9.920141, 105.842903, 10.327879], abs=1e-5)


def test_collection_titles_follow_the_requested_language(ogcapi):
    english = get(f"{ogcapi}/collections/cantho-districts", params={"lang": "en"}).json()
    assert english["title"] == "Cần Thơ districts with GSO codes"


def test_items_return_geojson_with_number_matched_and_vietnamese_attributes(ogcapi):
    response = get(f"{ogcapi}/collections/cantho-districts/items")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == GEOJSON
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 9 and body["numberReturned"] == 9
    names = {f["properties"]["name"] for f in body["features"]}
    assert "Quận Ninh Kiều" in names and "Huyện Thới Lai" in names
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    ninh_kieu = next(f for f in body["features"] if f["properties"]["level2_id"] == "916")
    assert ninh_kieu["geometry"]["type"] == "MultiPolygon"
    lon, lat = ninh_kieu["geometry"]["coordinates"][0][0][0]
    assert 105.7 < lon < 105.85 and 9.95 < lat < 10.1  # lon/lat order (CRS84)
    assert "timeStamp" in body


def test_paging_walks_the_whole_layer_with_next_links_that_keep_every_parameter(ogcapi):
    url = f"{ogcapi}/collections/cantho-bus-route-09-stops/items?limit=50&bus=yes&skipGeometry=false"
    seen, pages = [], 0
    while url:
        body = get(url).json()
        pages += 1
        seen += [f["id"] for f in body["features"]]
        assert body.get("numberMatched", 133) == 133  # counted on the first page; later pages may skip it
        next_links = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if next_links:
            query = parse_qs(urlparse(next_links[0]).query)
            assert query["limit"] == ["50"] and query["bus"] == ["yes"] and query["skipGeometry"] == ["false"]
            assert query["cursor"] == [str(body["features"][-1]["id"])] and "offset" not in query  # keyset paging
            assert next_links[0].startswith("http://127.0.0.1")
        url = next_links[0] if next_links else None
    assert pages == 3 and len(seen) == len(set(seen)) == 133
    assert seen == sorted(seen)


def test_keyset_pages_equal_offset_pages(ogcapi):
    url = f"{ogcapi}/collections/mekong-delta-districts-population-2009/items"
    by_offset = get(url, params={"limit": 40, "offset": 80, "skipGeometry": "true"}).json()["features"]
    previous = get(url, params={"limit": 80, "skipGeometry": "true"}).json()["features"][-1]["id"]
    by_cursor = get(url, params={"limit": 40, "cursor": previous, "skipGeometry": "true"}).json()["features"]
    assert [f["id"] for f in by_cursor] == [f["id"] for f in by_offset] and len(by_cursor) == 40


def test_a_bad_cursor_is_a_400(ogcapi):
    assert_ogc_exception(get(f"{ogcapi}/collections/cantho-districts/items", params={"cursor": "x"}), 400,
                         "InvalidParameterValue", "cursor must be the integer id")


def test_sorted_pages_fall_back_to_offset_links(ogcapi):
    body = get(f"{ogcapi}/collections/cantho-districts/items", params={"limit": 3, "sortby": "-name"}).json()
    names = [f["properties"]["name"] for f in body["features"]]
    assert names == sorted(names, reverse=True)
    next_link = next(link["href"] for link in body["links"] if link["rel"] == "next")
    assert "offset=3" in next_link and "cursor" not in next_link


def test_a_page_past_the_end_is_empty(ogcapi):
    body = get(f"{ogcapi}/collections/cantho-districts/items", params={"offset": 50}).json()
    assert body["features"] == [] and body["numberReturned"] == 0 and body["numberMatched"] == 9


@pytest.mark.parametrize("box", [(105.77, 10.02, 105.78, 10.03), (105.5, 10.0, 105.6, 10.2), (106.0, 10.0, 106.1, 10.1)])
def test_bbox_selects_exactly_the_features_that_intersect_it(ogcapi, box):
    url = f"{ogcapi}/collections/cantho-districts/items"
    every = get(url).json()["features"]
    expected = {f["id"] for f in every if shape(f["geometry"]).intersects(shapely.box(*box))}
    body = get(url, params={"bbox": ",".join(map(str, box))}).json()
    assert {f["id"] for f in body["features"]} == expected
    assert body["numberMatched"] == len(expected)


def test_property_equality_filter_is_exact_and_typed(ogcapi):
    url = f"{ogcapi}/collections/mekong-delta-districts-population-2009/items"
    body = get(url, params={"Ten_Tinh": "Cần Thơ", "limit": 1000}).json()
    assert body["numberMatched"] == len(body["features"]) == 9
    assert sum(f["properties"]["Dan_So"] for f in body["features"]) == 1188432
    assert_ogc_exception(get(url, params={"Dan_So": "many"}), 400, "InvalidQuery", "not a valid integer")


def test_a_bbox_across_the_antimeridian_is_split_not_inverted(ogcapi):
    body = get(f"{ogcapi}/collections/cantho-districts/items", params={"bbox": "170,-10,-170,10"}).json()
    assert body["numberMatched"] == 0
    body = get(f"{ogcapi}/collections/cantho-districts/items", params={"bbox": "105.7,9,-170,11"}).json()
    assert 0 < body["numberMatched"] <= 9


@pytest.fixture(scope="module")
def small_limit_server(django_db_setup):
    """A server whose maximum page size (SDI_ITEMS_MAX_LIMIT=50) is below the 228 rows of the collection."""
    from tests.conftest import ServerProcess

    process = ServerProcess(env={"SDI_ITEMS_MAX_LIMIT": "50"})
    yield f"{process.url}/ogcapi"
    process.stop()


def test_limit_is_capped_at_the_maximum(small_limit_server):
    url = f"{small_limit_server}/collections/mekong-delta-districts-population-2009/items"
    body = get(url, params={"limit": 1000}).json()
    assert body["numberReturned"] == len(body["features"]) == 50 and body["numberMatched"] == 228
    assert any(link["rel"] == "next" for link in body["links"])
    assert get(url, params={"limit": 49}).json()["numberReturned"] == 49


def test_single_item_and_unknown_item(ogcapi):
    feature = get(f"{ogcapi}/collections/cantho-districts/items").json()["features"][0]
    response = get(f"{ogcapi}/collections/cantho-districts/items/{feature['id']}")
    assert response.status_code == 200 and response.headers["Content-Type"] == GEOJSON
    assert response.json()["properties"] == feature["properties"]
    assert_ogc_exception(get(f"{ogcapi}/collections/cantho-districts/items/999999"), 404, "NotFound", "not found")
    assert_ogc_exception(get(f"{ogcapi}/collections/cantho-districts/items/abc"), 404, "NotFound", "not found")


@pytest.mark.parametrize("params, message", [
    ({"bbox": "1,2,3"}, "bbox should be either 4 values"),
    ({"bbox": "a,b,c,d"}, "bbox values must be numbers"),
    ({"bbox": "105,11,106,10"}, "miny should be less than maxy"),
    ({"limit": "abc"}, "limit value should be an integer"),
    ({"limit": "0"}, "limit value should be strictly positive"),
    ({"offset": "-1"}, "offset value should be positive or zero"),
    ({"offset": "x"}, "offset value should be an integer"),
    ({"f": "shapefile"}, "Invalid format"),
])
def test_bad_parameters_get_400_with_an_ogc_exception(ogcapi, params, message):
    response = get(f"{ogcapi}/collections/cantho-districts/items", params=params)
    assert_ogc_exception(response, 400, "InvalidParameterValue", message)


def test_unknown_collection_is_404(ogcapi):
    assert_ogc_exception(get(f"{ogcapi}/collections/khong-co"), 404, "NotFound", "Collection not found")
    assert_ogc_exception(get(f"{ogcapi}/collections/khong-co/items"), 404, "NotFound", "Collection not found")


def test_accept_header_negotiates_without_f(ogcapi):
    html = get(f"{ogcapi}/collections/cantho-districts/items", headers={"Accept": "text/html,application/xhtml+xml"})
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    assert html.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Quận Ninh Kiều" in html.text
    geojson = get(f"{ogcapi}/collections/cantho-districts/items", headers={"Accept": GEOJSON})
    assert geojson.headers["Content-Type"] == GEOJSON and geojson.json()["type"] == "FeatureCollection"
    json_ = get(f"{ogcapi}/collections", headers={"Accept": "application/json"})
    assert json_.headers["Content-Type"].startswith("application/json")


def test_html_pages_render_with_their_assets(ogcapi):
    for path in ("", "/collections", "/collections/cantho-districts", "/collections/cantho-districts/items",
                 "/conformance"):
        response = get(f"{ogcapi}{path}", params={"f": "html"})
        assert response.status_code == 200 and "<html" in response.text.lower(), path
    assert get(f"{ogcapi}/static/css/default.css").status_code == 200


def test_html_speaks_vietnamese_by_default_and_english_on_request(ogcapi):
    vietnamese = get(f"{ogcapi}/collections", params={"f": "html"}).text
    assert '<html lang="vi" dir="ltr"' in vietnamese and "Bộ dữ liệu" in vietnamese
    english = get(f"{ogcapi}/collections", params={"f": "html"}, headers={"Accept-Language": "en"}).text
    assert '<html lang="en" dir="ltr"' in english and "Collections" in english


def test_no_trailing_slash_redirects(ogcapi):
    for path in ("/collections/", "/collections/cantho-districts/", "/conformance/"):
        assert get(f"{ogcapi}{path}").status_code == 404, path


def test_head_answers_like_get_without_a_body(ogcapi):
    for path in ("/", "/collections", "/collections/cantho-districts/items", "/openapi"):
        response = requests.head(f"{ogcapi}{path}", timeout=30)
        assert response.status_code == 200, path
        assert response.content == b""
    assert requests.head(f"{ogcapi}/collections/khong-co", timeout=30).status_code == 404


def test_cors_lets_browser_maps_read_the_api(ogcapi):
    response = get(f"{ogcapi}/collections/cantho-districts/items", headers={"Origin": "https://map.example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = requests.options(f"{ogcapi}/collections", timeout=30, headers={
        "Origin": "https://map.example.org", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200 and "GET" in preflight.headers["Access-Control-Allow-Methods"]


def test_write_methods_are_not_allowed(ogcapi):
    assert requests.delete(f"{ogcapi}/collections/cantho-districts/items/1", timeout=30).status_code == 405
    assert requests.put(f"{ogcapi}/collections/cantho-districts/items", json={}, timeout=30).status_code == 405


def test_home_page_lists_the_datasets(server):
    response = get(f"{server}/")
    assert response.status_code == 200 and "cantho-districts" in response.text and "Cần Thơ SDI" in response.text
