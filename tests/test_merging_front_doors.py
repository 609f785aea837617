"""Merges through their front doors: the REST API on a live gunicorn (who may list, declare, change, build and
delete; 401/403/404), the command line (exit codes, --json history, delete_dataset) and the admin's merge page
(a spec error shown with the part at fault; Build now queues a build)."""
import json
import os
import subprocess
import sys

import pytest
import requests
import yaml
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token

from layers.merging.models import MergedDataset
from layers.models import Dataset
from tests.conftest import REPO, database_url_for_servers
from tests.merging_made import forget_merges, publish_member, rows, square

PREFIX = "mfront-"
A, B = f"{PREFIX}a", f"{PREFIX}b"


@pytest.fixture(scope="module")
def members(django_db_setup, django_db_blocker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("merging-front")
    with django_db_blocker.unblock():
        forget_merges(PREFIX)
        User.objects.filter(username__startswith=PREFIX).delete()
        publish_member(folder, A, [({"ma": "A1", "loai": "ODT"}, square(0, 0, 100, 100))], 9210)
        publish_member(folder, B, [({"so": 7, "kind": "CLN"}, square(100, 0, 200, 100))], 4326)
        yield folder
        forget_merges(PREFIX)
        User.objects.filter(username__startswith=PREFIX).delete()


@pytest.fixture
def people(committed_db, members):
    users = {"owner": User.objects.create_user(f"{PREFIX}owner", password="pw", is_staff=True),
             "staff": User.objects.create_user(f"{PREFIX}staff", password="pw", is_staff=True),
             "viewer": User.objects.create_user(f"{PREFIX}viewer", password="pw"),
             "root": User.objects.create_superuser(f"{PREFIX}root", password="pw")}
    tokens = {name: Token.objects.create(user=user).key for name, user in users.items()}
    yield users, tokens
    forget_merges(PREFIX, datasets=False)
    User.objects.filter(username__startswith=PREFIX).delete()


def spec(slug: str, **changes) -> dict:
    return {"slug": slug, "title_vi": "Đất gộp", "title_en": "Merged land", "sector": "land", "crs": "EPSG:5897",
            "fields": [{"name": "ma_thua", "type": "text"}, {"name": "loai_dat", "type": "text"}],
            "members": [{"dataset": A, "priority": 1, "key": "ma", "fields": {"ma_thua": "ma", "loai_dat": "loai"}},
                        {"dataset": B, "priority": 2, "fields": {"ma_thua": "so", "loai_dat": "kind"}}],
            **changes}


def auth(token: str) -> dict:
    return {"Authorization": f"Token {token}"}


def queued_builds(merge: MergedDataset) -> int:
    return rows("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'build_merge' AND status = 'todo' "
                "AND queueing_lock = %s", (f"merge:{merge.pk}",))[0][0]


def test_rest_declares_reads_builds_and_deletes_merges_with_the_registry_rights(server, people):
    users, tokens = people
    api = f"{server}/api/merges"
    body = spec(f"{PREFIX}rest")
    assert requests.post(api, json=body, timeout=10).status_code == 401
    refused = requests.post(api, json=body, headers=auth(tokens["viewer"]), timeout=10)
    assert refused.status_code == 403 and "staff" in refused.json()["detail"]
    bad = requests.post(api, json={**body, "members": [{**body["members"][0], "fields": {"ma_thua": "ma",
                                                                                        "loai_dat": "nope"}}]},
                        headers=auth(tokens["owner"]), timeout=10)
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith(f"merge {PREFIX}rest, member {A}, field loai_dat: member field 'nope'")
    created = requests.post(api, json=body, headers=auth(tokens["owner"]), timeout=10)
    assert created.status_code == 201, created.text
    assert created.json()["build_queued"] is True and created.json()["members"] == [A, B]
    merge = MergedDataset.objects.get(slug=f"{PREFIX}rest")
    assert queued_builds(merge) == 1
    # not built yet: only its author (and superusers) see it
    for who in ("staff", "viewer"):
        assert requests.get(f"{api}/{merge.slug}", headers=auth(tokens[who]), timeout=10).status_code == 404
        assert requests.get(f"{api}/{merge.slug}/builds", headers=auth(tokens[who]), timeout=10).status_code == 404
    assert requests.get(f"{api}/{merge.slug}", timeout=10).status_code == 404
    assert requests.put(f"{api}/{merge.slug}", json=body, headers=auth(tokens["staff"]), timeout=10).status_code == 404
    from layers.jobs.tasks import build_merge

    rows("DELETE FROM procrastinate_jobs WHERE task_name = 'build_merge' RETURNING id")
    assert build_merge(merge_id=merge.pk) == "succeeded"
    # built and public: everyone reads it; only its owner (and superusers) change or build it
    shown = requests.get(f"{api}/{merge.slug}", timeout=10)
    assert shown.status_code == 200 and shown.json()["dataset"] == merge.slug
    assert shown.json()["last_build"]["status"] == "succeeded" and shown.json()["last_build"]["features"] == 2
    assert merge.slug in [m["slug"] for m in requests.get(api, timeout=10).json()]
    assert requests.post(f"{api}/{merge.slug}/build", timeout=10).status_code == 401
    assert requests.post(f"{api}/{merge.slug}/build", headers=auth(tokens["staff"]), timeout=10).status_code == 403
    queued = requests.post(f"{api}/{merge.slug}/build", headers=auth(tokens["owner"]), timeout=10)
    assert queued.status_code == 202 and queued.json()["queued"] is True
    again = requests.post(f"{api}/{merge.slug}/build", headers=auth(tokens["root"]), timeout=10)
    assert again.status_code == 202 and again.json()["queued"] is False
    history = requests.get(f"{api}/{merge.slug}/builds", timeout=10).json()
    assert [b["status"] for b in history] == ["succeeded"] and history[0]["counts"][A]["published"] == 1
    changed = requests.put(f"{api}/{merge.slug}", json={**body, "title_en": "Merged land, again"},
                           headers=auth(tokens["staff"]), timeout=10)
    assert changed.status_code == 403
    changed = requests.put(f"{api}/{merge.slug}", json={**body, "title_en": "Merged land, again"},
                           headers=auth(tokens["owner"]), timeout=10)
    assert changed.status_code == 200 and changed.json()["spec"]["title_en"] == "Merged land, again"
    assert requests.delete(f"{api}/{merge.slug}", headers=auth(tokens["staff"]), timeout=10).status_code == 403
    assert requests.delete(f"{api}/{merge.slug}", headers=auth(tokens["owner"]), timeout=10).status_code == 204
    assert not MergedDataset.objects.filter(slug=merge.slug).exists()
    assert not Dataset.objects.filter(slug__in=[merge.slug, f"{merge.slug}-overlaps"]).exists()
    assert requests.get(f"{api}/{merge.slug}", timeout=10).status_code == 404


def test_a_restricted_merge_is_404_to_those_who_may_not_see_its_dataset(server, people):
    users, tokens = people
    from layers.merging.build import build
    from layers.merging.services import save_merge

    merge, _ = save_merge(spec(f"{PREFIX}secret", access_level="restricted"), users["owner"])
    assert build(merge.pk).status == "succeeded"
    api = f"{server}/api/merges/{merge.slug}"
    for headers in ({}, auth(tokens["staff"]), auth(tokens["viewer"])):
        assert requests.get(api, headers=headers, timeout=10).status_code == 404
        assert requests.post(f"{api}/build", headers=headers, timeout=10).status_code in (401, 403, 404)  # never 'it exists'
    assert requests.get(api, headers=auth(tokens["owner"]), timeout=10).status_code == 200
    listed = requests.get(f"{server}/api/merges", headers=auth(tokens["viewer"]), timeout=10).json()
    assert merge.slug not in [m["slug"] for m in listed]
    # nor may a merge be declared from a member the user may not see: it answers as if it did not exist
    hidden = spec(f"{PREFIX}peek")
    hidden["members"][1] = {"dataset": merge.slug, "priority": 2, "fields": {"ma_thua": "ma_thua",
                                                                             "loai_dat": "loai_dat"}}
    refused = requests.post(f"{server}/api/merges", json=hidden, headers=auth(tokens["staff"]), timeout=10)
    assert refused.status_code == 400 and f"there is no dataset '{merge.slug}'" in refused.json()["detail"]
    assert not MergedDataset.objects.filter(slug=f"{PREFIX}peek").exists()


def test_command_line_declares_builds_lists_and_deletes_with_exit_codes(people, tmp_path, capsys):
    env = {**os.environ, "DATABASE_URL": database_url_for_servers()}
    env.pop("PGAPPNAME", None)
    good = tmp_path / "merge.yml"
    good.write_text(yaml.safe_dump(spec(f"{PREFIX}cli"), allow_unicode=True), encoding="utf-8")
    done = subprocess.run([sys.executable, "manage.py", "add_merge", str(good)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{PREFIX}cli: 2 features" in done.stdout
    bad = tmp_path / "bad.yml"
    bad_spec = spec(f"{PREFIX}cli")
    bad_spec["members"][1]["fields"]["ma_thua"] = {"field": "so", "cast": "date"}
    bad.write_text(yaml.safe_dump(bad_spec, allow_unicode=True), encoding="utf-8")
    failed = subprocess.run([sys.executable, "manage.py", "add_merge", str(bad)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert failed.returncode != 0
    assert f"merge {PREFIX}cli, member {B}, field ma_thua (from so), feature fid 1: value '7' does not cast to " \
           f"date" in failed.stderr
    again = subprocess.run([sys.executable, "manage.py", "merge", f"{PREFIX}cli"], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode != 0 and "does not cast to date" in again.stderr  # the bad spec was recorded
    missing = subprocess.run([sys.executable, "manage.py", "merge", f"{PREFIX}nothing"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode != 0 and "no merge" in missing.stderr
    capsys.readouterr()
    call_command("merge_builds", f"{PREFIX}cli", "--json")
    history = json.loads(capsys.readouterr().out)
    assert [b["status"] for b in history] == ["failed", "failed", "succeeded"]
    assert {"started", "finished", "status", "counts", "overlaps", "gaps", "error"} <= set(history[0])
    assert rows(f'SELECT count(*) FROM sdi_data."{PREFIX.replace("-", "_")}cli"')[0][0] == 2, "still published"
    call_command("delete_dataset", f"{PREFIX}cli")
    assert not MergedDataset.objects.filter(slug=f"{PREFIX}cli").exists()
    assert not Dataset.objects.filter(slug=f"{PREFIX}cli-overlaps").exists()


def test_admin_merge_page_shows_spec_errors_and_queues_a_build(people):
    users, _ = people
    client = Client()
    client.force_login(users["owner"])
    add = "/admin/layers/mergeddataset/add/"
    assert client.get(add).status_code == 200
    bad = spec(f"{PREFIX}admin")
    bad["members"][0]["fields"]["loai_dat"] = {"field": "loai", "unmapped": "sometimes"}
    answer = client.post(add, {"spec_text": json.dumps(bad)})
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "members[0].fields.loai_dat" in page and "unmapped &#x27;sometimes&#x27;" in page
    assert not MergedDataset.objects.filter(slug=f"{PREFIX}admin").exists()
    answer = client.post(add, {"spec_text": "{not json"})
    assert "not JSON" in answer.content.decode()
    answer = client.post(add, {"spec_text": json.dumps(spec(f"{PREFIX}admin"))})
    assert answer.status_code == 302
    merge = MergedDataset.objects.get(slug=f"{PREFIX}admin")
    assert merge.created_by == users["owner"]
    answer = client.post(f"/admin/layers/mergeddataset/{merge.pk}/build/")
    assert answer.status_code == 302 and queued_builds(merge) == 1
    page = client.get(f"/admin/layers/mergeddataset/{merge.pk}/change/").content.decode()
    assert "Build now" in page and "no build yet" in page
    other = Client()
    other.force_login(users["staff"])
    assert other.get(f"/admin/layers/mergeddataset/{merge.pk}/change/").status_code in (302, 404)
