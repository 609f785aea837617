"""Access levels: a dataset a user may not see does not exist for them, on every OGC API endpoint."""
import json

import pytest
import requests
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token

from layers.registry.services import DatasetMetadata, delete_dataset, import_vector_dataset


def metadata(access):
    return DatasetMetadata(title_vi=f"Dữ liệu {access}", title_en=f"{access} data", sector="public-order",
                           licence_name="Nội bộ", attribution="Công an thành phố Cần Thơ (test)", access_level=access)


@pytest.fixture(scope="module")
def people(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        group = Group.objects.create(name="t-police")
        staff = User.objects.create_user("t-staff", password="pw", is_staff=True)
        officer = User.objects.create_user("t-officer", password="pw")
        officer.groups.add(group)
        outsider = User.objects.create_user("t-outsider", password="pw")
        tokens = {u.username: Token.objects.create(user=u).key for u in (staff, officer, outsider)}
        yield {"group": group, "tokens": tokens}
        User.objects.filter(username__startswith="t-").delete()
        group.delete()


@pytest.fixture(scope="module")
def datasets(people, django_db_blocker, tmp_path_factory):
    path = tmp_path_factory.mktemp("access") / "points.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ten": "Điểm nóng"}, "geometry": {"type": "Point", "coordinates": [105.78, 10.03]}}
    ]}, ensure_ascii=False), encoding="utf-8")
    with django_db_blocker.unblock():
        import_vector_dataset(path, slug="t-internal", metadata=metadata("internal"))
        restricted = import_vector_dataset(path, slug="t-restricted", metadata=metadata("restricted")).dataset
        restricted.allowed_groups.add(people["group"])
        from layers.registry.services import registry_changed
        registry_changed()
        yield
        for slug in ("t-internal", "t-restricted"):
            delete_dataset(slug)


def fetch(url, token=None):
    headers = {"Authorization": f"Token {token}"} if token else {}
    return requests.get(url, headers=headers, timeout=30)


ENDPOINTS = ["/collections/{slug}", "/collections/{slug}/items", "/collections/{slug}/items/1",
             "/collections/{slug}/queryables", "/collections/{slug}/schema"]


@pytest.mark.parametrize("slug", ["t-internal", "t-restricted"])
def test_anonymous_users_cannot_see_non_public_datasets_anywhere(ogcapi, datasets, slug):
    assert slug not in {c["id"] for c in fetch(f"{ogcapi}/collections").json()["collections"]}
    for endpoint in ENDPOINTS:
        response = fetch(ogcapi + endpoint.format(slug=slug))
        assert response.status_code == 404, endpoint  # 404, not 403: no hint that it exists
    assert f"/collections/{slug}" not in json.dumps(fetch(f"{ogcapi}/openapi").json())
    assert slug not in fetch(f"{ogcapi}/collections?f=html").text
    assert slug not in requests.get(ogcapi.removesuffix("/ogcapi") + "/", timeout=30).text


def test_internal_data_is_visible_to_any_token_holder(ogcapi, datasets, people):
    token = people["tokens"]["t-outsider"]
    assert "t-internal" in {c["id"] for c in fetch(f"{ogcapi}/collections", token).json()["collections"]}
    items = fetch(f"{ogcapi}/collections/t-internal/items", token).json()
    assert items["features"][0]["properties"]["ten"] == "Điểm nóng"
    assert "/collections/t-internal" in json.dumps(fetch(f"{ogcapi}/openapi", token).json())


def test_restricted_data_is_visible_only_to_its_groups(ogcapi, datasets, people):
    officer, outsider, staff = (people["tokens"][u] for u in ("t-officer", "t-outsider", "t-staff"))
    assert fetch(f"{ogcapi}/collections/t-restricted/items", officer).status_code == 200
    for token in (outsider, staff):
        assert fetch(f"{ogcapi}/collections/t-restricted/items", token).status_code == 404
        assert "t-restricted" not in {c["id"] for c in fetch(f"{ogcapi}/collections", token).json()["collections"]}


def test_links_in_a_token_users_pages_do_not_leak_to_the_anonymous_cache(ogcapi, datasets, people):
    fetch(f"{ogcapi}/collections", people["tokens"]["t-officer"])
    assert "t-restricted" not in {c["id"] for c in fetch(f"{ogcapi}/collections").json()["collections"]}


def test_a_wrong_token_is_refused_with_401(ogcapi):
    response = fetch(f"{ogcapi}/collections", "not-a-token")
    assert response.status_code == 401 and response.json()["code"] == "InvalidCredentials"
    assert requests.get(f"{ogcapi}/collections", headers={"Authorization": "Basic abc"}, timeout=30).status_code == 401


def test_responses_vary_on_credentials(ogcapi):
    vary = fetch(f"{ogcapi}/collections").headers["Vary"]
    assert "Authorization" in vary and "Cookie" in vary
