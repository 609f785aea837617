"""OGC API – Features Part 2: CRS by reference, with VN-2000 transformed by PostGIS on the official EPSG:6960."""
import json
import subprocess

import pytest
import requests
from pyproj import Transformer
from pyproj.transformer import TransformerGroup

from layers.crs import CRS, UnknownCRS, offered_uris, parse, parse_crs, storage_crs_uri
from layers.registry.services import DatasetMetadata, delete_dataset, import_vector_dataset

pytestmark = pytest.mark.django_db

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}".format
CENTIMETRE_IN_DEGREES = 1e-7  # ~1.1 cm at Cần Thơ


def official(source: int, target: int) -> Transformer:
    """pyproj forced to EPSG:6960 ("VN-2000 to WGS 84 (2)"), not the operation PROJ would pick itself."""
    return next(t for t in TransformerGroup(source, target, always_xy=True).transformers
                if "VN-2000 to WGS 84 (2)" in t.description)


def get(url, **params):
    response = requests.get(url, params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response


@pytest.fixture(scope="module")
def vn2000_parcels(django_db_setup, django_db_blocker, tmp_path_factory):
    """A small VN-2000 / TM-3 zone 482 dataset (as Cần Thơ's cadastre stores it)."""
    folder = tmp_path_factory.mktemp("vn2000")
    source = folder / "thua.geojson"
    x, y = 587210.0, 1110530.0
    squares = [[[x + dx, y], [x + dx + 20, y], [x + dx + 20, y + 30], [x + dx, y + 30], [x + dx, y]] for dx in (0, 40)]
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"so_thua": i + 1, "ma_loai_dat": "ODT"},
         "geometry": {"type": "Polygon", "coordinates": [sq]}} for i, sq in enumerate(squares)]}), encoding="utf-8")
    shp = folder / "thua.shp"
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-a_srs", "EPSG:5897", str(shp), str(source)], check=True)
    with django_db_blocker.unblock():
        import_vector_dataset(shp, slug="t-vn2000-parcels", metadata=DatasetMetadata(
            title_vi="Thửa đất VN-2000", title_en="VN-2000 parcels", sector="land", licence_name="x", attribution="x"))
        yield squares
        delete_dataset("t-vn2000-parcels")


def test_collections_advertise_storage_crs_and_the_crs_they_offer(ogcapi, vn2000_parcels):
    lonlat = get(f"{ogcapi}/collections/cantho-districts").json()
    assert lonlat["storageCrs"] == CRS84
    for code in (4326, 3857, 4756, 3405, 5897):
        assert EPSG(code) in lonlat["crs"]
    assert lonlat["crs"][0] == CRS84
    vn2000 = get(f"{ogcapi}/collections/t-vn2000-parcels").json()
    assert vn2000["storageCrs"] == EPSG(5897) and EPSG(5897) in vn2000["crs"]


def test_vn2000_data_comes_out_in_crs84_within_a_centimetre_of_the_official_transformation(ogcapi, vn2000_parcels):
    response = get(f"{ogcapi}/collections/t-vn2000-parcels/items")
    assert response.headers["Content-Crs"] == f"<{CRS84}>"
    to_wgs84 = official(5897, 4326)
    for feature, square in zip(response.json()["features"], vn2000_parcels):
        # (the shapefile writer turned the rings clockwise: compare vertex sets, not sequences)
        served = sorted(map(tuple, feature["geometry"]["coordinates"][0]))
        expected = sorted(to_wgs84.transform(x, y) for x, y in square)
        for (lon, lat), (expected_lon, expected_lat) in zip(served, expected):
            assert lon == pytest.approx(expected_lon, abs=CENTIMETRE_IN_DEGREES)
            assert lat == pytest.approx(expected_lat, abs=CENTIMETRE_IN_DEGREES)


def test_the_storage_crs_returns_the_stored_coordinates(ogcapi, vn2000_parcels):
    response = get(f"{ogcapi}/collections/t-vn2000-parcels/items", crs=EPSG(5897))
    assert response.headers["Content-Crs"] == f"<{EPSG(5897)}>"
    served = [sorted(map(tuple, f["geometry"]["coordinates"][0])) for f in response.json()["features"]]
    assert served == [sorted(map(tuple, square)) for square in vn2000_parcels]
    assert "crs" not in response.json()["features"][0]["geometry"]


def test_epsg_4326_and_4756_come_latitude_first(ogcapi):
    crs84 = get(f"{ogcapi}/collections/cantho-bus-route-09-stops/items/1").json()["geometry"]["coordinates"]
    wgs84 = get(f"{ogcapi}/collections/cantho-bus-route-09-stops/items/1", crs=EPSG(4326))
    assert wgs84.headers["Content-Crs"] == f"<{EPSG(4326)}>"
    assert wgs84.json()["geometry"]["coordinates"] == [crs84[1], crs84[0]]
    vn2000 = get(f"{ogcapi}/collections/cantho-bus-route-09-stops/items/1", crs=EPSG(4756)).json()
    lat, lon = vn2000["geometry"]["coordinates"]
    expected_lon, expected_lat = official(4756, 4326).transform(*crs84, direction="INVERSE")
    assert lon == pytest.approx(expected_lon, abs=CENTIMETRE_IN_DEGREES)
    assert lat == pytest.approx(expected_lat, abs=CENTIMETRE_IN_DEGREES)


def test_lon_lat_data_in_the_cantho_tm3_zone_matches_pyproj_on_epsg_6960(ogcapi):
    crs84 = get(f"{ogcapi}/collections/cantho-bus-route-09-stops/items/1").json()["geometry"]["coordinates"]
    x, y = get(f"{ogcapi}/collections/cantho-bus-route-09-stops/items/1", crs=EPSG(5897)).json()["geometry"]["coordinates"]
    expected = official(5897, 4326).transform(*crs84, direction="INVERSE")
    assert x == pytest.approx(expected[0], abs=0.01) and y == pytest.approx(expected[1], abs=0.01)


def test_web_mercator_output(ogcapi):
    x, y = get(f"{ogcapi}/collections/cantho-bus-route-09-stops/items/1", crs=EPSG(3857)).json()["geometry"]["coordinates"]
    lon, lat = get(f"{ogcapi}/collections/cantho-bus-route-09-stops/items/1").json()["geometry"]["coordinates"]
    assert (x, y) == pytest.approx(Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat), abs=0.01)


def test_bbox_crs_in_latitude_first_order_selects_the_same_features(ogcapi):
    url = f"{ogcapi}/collections/cantho-bus-route-09-stops/items"
    plain = get(url, bbox="105.70,10.00,105.76,10.06", limit=500).json()
    flipped = get(url, **{"bbox": "10.00,105.70,10.06,105.76", "bbox-crs": EPSG(4326), "limit": 500}).json()
    assert plain["numberMatched"] > 0
    assert {f["id"] for f in flipped["features"]} == {f["id"] for f in plain["features"]}


def test_unsupported_crs_is_a_400(ogcapi):
    response = requests.get(f"{ogcapi}/collections/cantho-districts/items", params={"crs": EPSG(32648)}, timeout=30)
    assert response.status_code == 400 and "not supported" in response.json()["description"]


def test_a_crs84_bbox_selects_vn2000_features_by_the_official_transformation(ogcapi, vn2000_parcels):
    to_wgs84 = official(5897, 4326)
    first, second = vn2000_parcels
    lons, lats = zip(*(to_wgs84.transform(x, y) for x, y in first))
    margin = 2e-5  # ~2 m: the squares are 20 m apart
    box = f"{min(lons) - margin},{min(lats) - margin},{max(lons) + margin},{max(lats) + margin}"
    found = get(f"{ogcapi}/collections/t-vn2000-parcels/items", bbox=box).json()
    assert [f["properties"]["so_thua"] for f in found["features"]] == [1]
    in_storage_crs = f"{first[0][0] - 1},{first[0][1] - 1},{second[2][0] + 1},{second[2][1] + 1}"
    both = get(f"{ogcapi}/collections/t-vn2000-parcels/items", **{"bbox": in_storage_crs, "bbox-crs": EPSG(5897)}).json()
    assert sorted(f["properties"]["so_thua"] for f in both["features"]) == [1, 2]


# -- layers.crs: one set of rules for every CRS name ------------------------------------------------------

@pytest.mark.parametrize("name, srid, crs84", [
    ("EPSG:5897", 5897, False), ("epsg:5897", 5897, False), ("5897", 5897, False), (5897, 5897, False),
    (" EPSG:5897 ", 5897, False), (EPSG(5897), 5897, False),
    ("https://www.opengis.net/def/crs/EPSG/0/5897", 5897, False),
    ("urn:ogc:def:crs:EPSG::5897", 5897, False), ("urn:ogc:def:crs:EPSG:9.8.15:5897", 5897, False),
    ("EPSG:4326", 4326, False), (EPSG(4326), 4326, False),
    ("CRS84", 4326, True), ("OGC:CRS84", 4326, True), (CRS84, 4326, True),
    ("urn:ogc:def:crs:OGC:1.3:CRS84", 4326, True),
    ("urn:ogc:def:crs:OGC::CRS84", 4326, True), ("http://www.opengis.net/def/crs/OGC/1.3/CRS84h", 4326, True),
])
def test_every_spelling_of_a_crs_is_read_alike(name, srid, crs84):
    assert parse(name) == CRS(srid, crs84) and parse_crs(name) == srid


@pytest.mark.parametrize("name", ["", "EPSG:", "EPSG:abc", "WGS84", "urn:example:unknown", "EPSG:5897x",
                                  "http://example.com/EPSG/0/5897", "http://www.opengis.net/def/crs/OGC/1.3/CRS83"])
def test_anything_else_is_refused(name):
    with pytest.raises(UnknownCRS):
        parse(name)


@pytest.mark.parametrize("name, lat_first, uri", [
    (CRS84, False, CRS84), (EPSG(4326), True, EPSG(4326)), ("EPSG:4756", True, EPSG(4756)),
    ("EPSG:4269", True, EPSG(4269)), ("EPSG:5897", False, EPSG(5897)), ("EPSG:3405", False, EPSG(3405)),
    ("EPSG:3857", False, EPSG(3857)),
])
def test_axis_order_is_the_authority_s(name, lat_first, uri):
    assert parse(name).lat_first is lat_first and parse(name).uri == uri


def test_lon_lat_tables_are_named_crs84_and_the_offered_list_starts_with_it():
    assert storage_crs_uri(4326) == CRS84 and storage_crs_uri(5897) == EPSG(5897)
    offered = offered_uris(9210)
    assert offered[0] == CRS84 and offered[-1] == EPSG(9210) and len(offered) == len(set(offered))
    assert offered_uris(5897) == offered[:-1]



def test_crs_and_cql2_import_without_django():
    """The provider and the translator use them outside Django: importing them must not pull Django in."""
    import sys

    code = "import sys, layers.crs, layers.serving.cql2; assert not [m for m in sys.modules if m.startswith('django')]"
    subprocess.run([sys.executable, "-c", code], check=True, env={"PATH": "/usr/bin:/bin"})
