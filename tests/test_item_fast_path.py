"""The items/{id} fast path (sdi/ogcapi/item_fast_path.py): pygeoapi's own answer byte for byte, headers
included, in one statement, and only where nothing else could change the answer. A contract test of a pygeoapi
seam: an upgrade that changes pygeoapi's single-feature answer fails here."""
import json
import subprocess

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from layers.models import Dataset
from layers.registry.services import DatasetMetadata, delete_dataset, import_vector_dataset, registry_changed
from sdi.ogcapi import item_fast_path

pytestmark = pytest.mark.django_db

BASE = "http://testserver/ogcapi"
EPSG_5897 = "http://www.opengis.net/def/crs/EPSG/0/5897"


@pytest.fixture(scope="module")
def vn2000_parcels(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two parcels stored in VN-2000 / TM-3 482 (served transformed to CRS84), with Vietnamese text."""
    folder = tmp_path_factory.mktemp("fast-vn2000")
    source = folder / "thua.geojson"
    x, y = 587210.0, 1110530.0
    squares = [[[x + dx, y], [x + dx + 20, y], [x + dx + 20, y + 30], [x + dx, y + 30], [x + dx, y]] for dx in (0, 40)]
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"so_thua": i + 1, "chu": "Hộ gia đình, cá nhân", "dien_tich": 600.5},
         "geometry": {"type": "Polygon", "coordinates": [sq]}} for i, sq in enumerate(squares)]},
        ensure_ascii=False), encoding="utf-8")
    shp = folder / "thua.shp"
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-a_srs", "EPSG:5897", "-lco", "ENCODING=UTF-8", str(shp),
                    str(source)], check=True)
    with django_db_blocker.unblock():
        import_vector_dataset(shp, slug="t-fast-vn2000", metadata=DatasetMetadata(
            title_vi="Thửa đất nhanh", title_en="Fast parcels", sector="land", licence_name="x", attribution="x"))
        yield "t-fast-vn2000"
        delete_dataset("t-fast-vn2000")


def fetch(path: str, ordinary: bool = False, **headers):
    """The whole Django stack's answer and the SQL it ran on Django's connection. `ordinary`: with an unknown
    session cookie (still anonymous), which the fast path leaves to pygeoapi."""
    client = Client()
    if ordinary:
        client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-session"
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    return response, [query["sql"] for query in queries]


def fast_path_answered(statements: list[str]) -> bool:
    """The fast path's footprint: nothing through Django's cursors (its one statement, which reads the feature
    and the registry version, is prepared on the raw connection). The ordinary path reads the registry version
    through the ORM on every request."""
    return statements == []


VARIANTS = [
    ("", {}),
    ("?f=json", {}),
    ("", {"HTTP_ACCEPT_LANGUAGE": "en"}),
    ("", {"HTTP_ACCEPT_LANGUAGE": "vi-VN,vi;q=0.9,en;q=0.5"}),
    ("", {"HTTP_ACCEPT": "application/geo+json"}),
    ("", {"HTTP_ACCEPT": "application/json"}),
    ("", {"HTTP_ACCEPT_ENCODING": "gzip, deflate"}),
    ("", {"HTTP_ORIGIN": "https://qgis.example"}),
]


@pytest.mark.parametrize("query, headers", VARIANTS)
@pytest.mark.parametrize("collection, item", [("cantho-bus-route-09-stops", "3"), ("vn2000", "2")])
def test_the_fast_answer_is_pygeoapis_byte_for_byte(vn2000_parcels, collection, item, query, headers):
    collection = vn2000_parcels if collection == "vn2000" else collection
    path = f"/ogcapi/collections/{collection}/items/{item}{query}"
    fetch(path, **headers)  # the first request for a collection prepares it (API, provider, statement)
    fast, statements = fetch(path, **headers)
    assert fast_path_answered(statements), statements
    ordinary, statements = fetch(path, ordinary=True, **headers)
    assert any("layers_registryversion" in sql for sql in statements)  # pygeoapi and the provider's pool answered
    assert fast.status_code == ordinary.status_code == 200
    assert fast.content == ordinary.content
    assert dict(fast.headers) == dict(ordinary.headers)
    assert fast["Content-Type"] == "application/geo+json"
    feature = json.loads(fast.content)
    assert feature["id"] == int(item) and {link["rel"] for link in feature["links"]} >= {"self", "collection"}


def test_vn2000_comes_out_in_crs84_with_vietnamese_intact(vn2000_parcels):
    response, _ = fetch(f"/ogcapi/collections/{vn2000_parcels}/items/1")
    feature = json.loads(response.content)
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert 105.0 < lon < 106.5 and 9.5 < lat < 10.5
    assert feature["properties"]["chu"] == "Hộ gia đình, cá nhân"
    assert response["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"


@pytest.mark.parametrize("query, headers", [
    ("?f=html", {}),
    ("", {"HTTP_ACCEPT": "text/html"}),
    ("?f=jsonld", {}),
    (f"?crs={EPSG_5897}", {}),
    ("?lang=en", {}),
    ("?f=json&limit=5", {}),
])
def test_other_formats_and_parameters_are_left_to_pygeoapi(query, headers):
    request = RequestFactory().get(f"/ogcapi/collections/cantho-bus-route-09-stops/items/3{query}", **headers)
    assert item_fast_path.answer(request, BASE, "cantho-bus-route-09-stops", "3") is None


def test_signed_in_users_heads_odd_ids_and_unknown_collections_are_left_to_pygeoapi():
    factory = RequestFactory()
    path = "/ogcapi/collections/cantho-bus-route-09-stops/items/3"
    assert item_fast_path.answer(factory.get(path), BASE, "cantho-bus-route-09-stops", "3") is not None
    assert item_fast_path.answer(factory.get(path, HTTP_AUTHORIZATION="Token x"), BASE,
                                 "cantho-bus-route-09-stops", "3") is None
    with_session = factory.get(path)
    with_session.COOKIES[settings.SESSION_COOKIE_NAME] = "x"
    assert item_fast_path.answer(with_session, BASE, "cantho-bus-route-09-stops", "3") is None
    assert item_fast_path.answer(factory.head(path), BASE, "cantho-bus-route-09-stops", "3") is None
    for odd in ("3.0", "-3", "٣", "0x3", "9223372036854775808", "9" * 5000):
        assert item_fast_path.answer(factory.get(path), BASE, "cantho-bus-route-09-stops", odd) is None
    assert item_fast_path.answer(factory.get(path), BASE, "no-such-collection", "3") is None
    missing, _ = fetch("/ogcapi/collections/cantho-bus-route-09-stops/items/999999")
    assert missing.status_code == 404 and json.loads(missing.content)["code"] == "NotFound"


def test_a_dataset_hidden_since_the_last_request_is_not_served(django_user_model):
    """The registry version is read with the feature: a change made by any process shows on the next request."""
    path = "/ogcapi/collections/cantho-districts/items/1"
    fetch(path)
    first, statements = fetch(path)
    assert first.status_code == 200 and fast_path_answered(statements)
    Dataset.objects.filter(slug="cantho-districts").update(access_level=Dataset.Access.INTERNAL)
    registry_changed()
    hidden, _ = fetch(path)
    assert hidden.status_code == 404
    user = django_user_model.objects.create_user("t-fast-reader", password="x")
    token = Token.objects.create(user=user).key
    signed_in, _ = fetch(path, HTTP_AUTHORIZATION=f"Token {token}")
    assert signed_in.status_code == 200 and json.loads(signed_in.content)["id"] == 1


def test_a_connection_killed_since_the_last_request_is_replaced_not_a_503(ogcapi):
    """The fast path skips Django's per-request connection check (a round trip); its own statement is the
    check: a server's connection that died since its last request (a database restart) is closed, and the
    ordinary path reconnects and answers."""
    url = f"{ogcapi}/collections/cantho-bus-route-09-stops/items/3"
    requests.get(url, timeout=30)
    served = requests.get(url, timeout=30)
    assert served.status_code == 200
    with connection.cursor() as cursor:  # every other connection to the test database, the server's included
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        assert cursor.fetchone()[0] >= 1
    again = requests.get(url, timeout=30)
    assert again.status_code == 200, again.text
    assert again.content == served.content


def test_the_statement_is_prepared_once_per_connection():
    """PostgreSQL parses and plans the fast path's statement once per connection, not per request (Django's own
    cursors never prepare): one prepared statement, whatever the size of the ids."""
    for item in ("1", "3", "70000", "3000000000"):
        fetch(f"/ogcapi/collections/cantho-bus-route-09-stops/items/{item}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements "
                       "WHERE statement LIKE %s AND statement LIKE %s",
                       ["%layers_registryversion%", "%cantho_bus_route_09_stops%"])
        assert cursor.fetchone()[0] == 1
