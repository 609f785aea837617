"""Sources over REST (a live gunicorn) and in the admin: who may register and read them, the change log with
?since=, and that a stored password never comes back (issue 10)."""
import uuid

import pytest
import requests
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from layers.models import Dataset
from layers.registry.services import delete_dataset
from layers.sources.harvest import harvest
from layers.sources.models import Source
from layers.sources.services import register_source
from tests.sources_sector import PARCELS, parcels, sector_database, sector_dsn  # noqa: F401

PREFIX = "srcapi-"
PASSWORD_MARK = "sdi"  # the test cluster's password: must never appear in an answer


@pytest.fixture
def people(committed_db):
    users = {
        "manager": User.objects.create_user(f"{PREFIX}manager", password="pw", is_staff=True),
        "staff": User.objects.create_user(f"{PREFIX}staff", password="pw", is_staff=True),
        "viewer": User.objects.create_user(f"{PREFIX}viewer", password="pw"),
        "root": User.objects.create_superuser(f"{PREFIX}root", password="pw"),
    }
    users["manager"].user_permissions.add(*Permission.objects.filter(
        content_type__app_label="layers", codename__in=["add_source", "change_source", "view_source"]))
    tokens = {name: Token.objects.create(user=user).key for name, user in users.items()}
    yield users, tokens
    for slug in Dataset.objects.filter(slug__startswith=PREFIX).values_list("slug", flat=True):
        delete_dataset(slug)
    Source.objects.filter(slug__startswith=PREFIX).delete()
    User.objects.filter(username__startswith=PREFIX).delete()


def auth(token: str) -> dict:
    return {"Authorization": f"Token {token}"}


def harvested(parcels, access="public") -> Source:  # noqa: F811
    slug = f"{PREFIX}{uuid.uuid4().hex[:8]}"
    source = register_source(user=None, slug=slug, kind="postgres", dsn=sector_dsn(), table=parcels.qualified,
                             key="ma_thua", metadata={"title_vi": "Thửa đất", "sector": "land",
                                                      "access_level": access})
    assert harvest(source.pk).status == "succeeded"
    return source


def test_only_source_managers_see_and_register_sources_and_no_password_comes_back(server, people, parcels):
    _, tokens = people
    harvested(parcels)
    assert requests.get(f"{server}/api/sources", timeout=10).status_code == 401
    for who in ("staff", "viewer"):
        answer = requests.get(f"{server}/api/sources", headers=auth(tokens[who]), timeout=10)
        assert answer.status_code == 403 and "add/change source permission" in answer.json()["detail"]
    listed = requests.get(f"{server}/api/sources", headers=auth(tokens["manager"]), timeout=10)
    assert listed.status_code == 200
    mine = [s for s in listed.json() if s["slug"].startswith(PREFIX)]
    assert mine and mine[0]["has_password"] is True and mine[0]["last_run"]["added"] == PARCELS
    assert f"password={PASSWORD_MARK}" not in listed.text and "password" not in mine[0]["dsn"]

    slug = f"{PREFIX}{uuid.uuid4().hex[:8]}"
    body = {"slug": slug, "dsn": sector_dsn("Bí-mật-42"), "table": parcels.qualified, "key": "ma_thua",
            "every": "1h", "crs": "EPSG:9210", "metadata": {"title_vi": "Thửa đất", "sector": "land"}}
    assert requests.post(f"{server}/api/sources", json=body, headers=auth(tokens["staff"]), timeout=10).status_code == 403
    created = requests.post(f"{server}/api/sources", json=body, headers=auth(tokens["manager"]), timeout=10)
    assert created.status_code == 201, created.text
    assert created.json()["every"] == "1h" and created.json()["crs"] == "EPSG:9210" and "Bí-mật-42" not in created.text
    again = requests.post(f"{server}/api/sources", json=body, headers=auth(tokens["manager"]), timeout=10)
    assert again.status_code == 400 and "already has a source" in again.json()["detail"]
    bad = requests.post(f"{server}/api/sources", json={**body, "slug": f"{PREFIX}x", "every": "often"},
                        headers=auth(tokens["manager"]), timeout=10)
    assert bad.status_code == 400 and "every 'often'" in bad.json()["detail"]
    assert not Source.objects.filter(slug=f"{PREFIX}x").exists()

    patched = requests.patch(f"{server}/api/sources/{slug}", json={"enabled": False, "every": "1d"},
                             headers=auth(tokens["manager"]), timeout=10)
    assert patched.status_code == 200 and patched.json()["enabled"] is False and patched.json()["every"] == "1d"
    runs = requests.get(f"{server}/api/sources/{slug}/runs", headers=auth(tokens["manager"]), timeout=10)
    assert runs.status_code == 200 and runs.json() == []
    assert requests.delete(f"{server}/api/sources/{slug}", headers=auth(tokens["manager"]),
                           timeout=10).status_code == 204
    assert not Source.objects.filter(slug=slug).exists()


def test_the_change_log_since_a_time_is_read_by_whoever_may_see_the_dataset(server, people, parcels):
    _, tokens = people
    source = harvested(parcels)
    between = timezone.now()
    parcels.sql("UPDATE {t} SET \"chủ_sử_dụng\" = 'Lê Văn Tám' WHERE ma_thua = 'NK-0002'")
    parcels.sql("DELETE FROM {t} WHERE ma_thua = 'NK-0003'")
    assert harvest(source.pk).status == "succeeded"

    everything = requests.get(f"{server}/api/datasets/{source.slug}/changes", timeout=10)
    assert everything.status_code == 200
    assert [c["action"] for c in everything.json()["changes"]] == ["added", "removed", "changed"] or \
        [c["action"] for c in everything.json()["changes"]] == ["added", "changed", "removed"]
    since = requests.get(f"{server}/api/datasets/{source.slug}/changes/",
                         params={"since": between.isoformat()}, timeout=10)
    assert since.status_code == 200
    changes = {c["key"]: c for c in since.json()["changes"]}
    assert set(changes) == {"NK-0002", "NK-0003"}
    assert changes["NK-0002"]["old"]["chủ_sử_dụng"] == "Nguyễn Văn 2"
    assert changes["NK-0002"]["new"]["chủ_sử_dụng"] == "Lê Văn Tám"
    assert changes["NK-0003"]["action"] == "removed" and changes["NK-0003"]["new"] is None
    bad = requests.get(f"{server}/api/datasets/{source.slug}/changes", params={"since": "yesterday"}, timeout=10)
    assert bad.status_code == 400 and "since 'yesterday'" in bad.json()["detail"]

    hidden = harvested(parcels, access="restricted")
    url = f"{server}/api/datasets/{hidden.slug}/changes"
    assert requests.get(url, timeout=10).status_code == 404
    assert requests.get(url, headers=auth(tokens["viewer"]), timeout=10).status_code == 404
    assert requests.get(url, headers=auth(tokens["root"]), timeout=10).status_code == 200


def test_the_admin_source_page_shows_runs_and_change_log_and_registers_through_the_service(people, parcels):
    users, _ = people
    source = harvested(parcels)
    parcels.sql("DELETE FROM {t} WHERE ma_thua = 'NK-0005'")
    harvest(source.pk)
    manager = Client()
    manager.force_login(users["manager"])
    page = manager.get(f"/admin/layers/source/{source.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "succeeded" in html and "+20 ~0 -0" in html and "+0 ~0 -1" in html
    assert "NK-0005" in html and "Run now" in html
    assert f"password={PASSWORD_MARK}" not in html and "yes (encrypted)" in html
    staff = Client()
    staff.force_login(users["staff"])
    assert staff.get(f"/admin/layers/source/{source.pk}/change/").status_code == 403

    slug = f"{PREFIX}{uuid.uuid4().hex[:8]}"
    form = {"slug": slug, "kind": "postgres", "url": "", "dsn": sector_dsn(), "table": parcels.qualified,
            "key_field": "ma_thua", "every_text": "30m", "crs": "", "title": "Thửa đất", "sector": "land",
            "enabled": "on"}
    refused = manager.post("/admin/layers/source/add/", {**form, "every_text": "sometimes"})
    assert refused.status_code == 200 and "every &#x27;sometimes&#x27;" in refused.content.decode()
    assert not Source.objects.filter(slug=slug).exists()
    added = manager.post("/admin/layers/source/add/", form)
    assert added.status_code == 302, added.content.decode()[:2000]
    created = Source.objects.get(slug=slug)
    assert created.every.total_seconds() == 1800 and created.secret and "password" not in created.dsn
