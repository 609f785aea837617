"""The REST registry over real HTTP (gunicorn on the test database): tokens, uploads that become jobs and then
collections, refusals that queue nothing, the 413 limit, visibility, replace, edit and delete rights."""
import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.authtoken.models import Token

from layers.models import Dataset, ImportJob
from layers.registry.services import DatasetMetadata, delete_dataset, import_vector_dataset
from tests.conftest import run_next_queued_import
from tests.imports_made import discard_job

PREFIX = "api-"  # every user, dataset and job slug made here starts with it
FIELDS = {"title_vi": "Chợ nổi và bến tàu", "title_en": "Floating markets and piers", "sector": "trade",
          "licence_name": "CC BY 4.0", "attribution": "Sở Công Thương Cần Thơ (thử nghiệm)"}
PLACES = [(105.7849, 10.0341, "Bến Ninh Kiều"), (105.8134, 9.9996, "Chợ nổi Cái Răng")]


def geojson(path: Path, places=PLACES) -> Path:
    features = [{"type": "Feature", "properties": {"ten": name},
                 "geometry": {"type": "Point", "coordinates": [x, y]}} for x, y, name in places]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8")
    return path


def auth(token):
    return {"Authorization": f"Token {token}"} if token else {}


def upload(server, token, path: Path | None, url="/api/datasets", **fields):
    files = {"file": (path.name, path.read_bytes(), "application/geo+json")} if path else None
    return requests.post(f"{server}{url}", headers=auth(token), data=fields, files=files, timeout=30)


def upload_folders() -> set[str]:
    root = Path(settings.SDI_UPLOAD_DIR)
    return {p.name for p in root.iterdir()} if root.is_dir() else set()


def run_queued(job_id: int) -> ImportJob:
    """What the worker would do (it does not run in tests): claim the next job, which must be this one."""
    job = run_next_queued_import()
    assert job.pk == job_id
    return job


@pytest.fixture(scope="module")
def people(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        users = {
            "staff": User.objects.create_user(f"{PREFIX}staff", password="pw-staff", is_staff=True),
            "staff2": User.objects.create_user(f"{PREFIX}staff2", password="pw", is_staff=True),
            "viewer": User.objects.create_user(f"{PREFIX}viewer", password="pw"),
            "root": User.objects.create_superuser(f"{PREFIX}root", password="pw"),
        }
        tokens = {name: Token.objects.create(user=user).key for name, user in users.items()}
        yield {"users": users, "tokens": tokens}
        for job in ImportJob.objects.filter(slug__startswith=PREFIX):
            discard_job(job)
        for slug in Dataset.objects.filter(slug__startswith=PREFIX).values_list("slug", flat=True):
            delete_dataset(slug)
        User.objects.filter(username__startswith=PREFIX).delete()


@pytest.fixture
def registry(people, committed_db):
    """Committed database access for one test; datasets and jobs it makes (slugs api-…) are removed after."""
    yield people
    for job in ImportJob.objects.filter(slug__startswith=PREFIX):
        discard_job(job)
    for slug in Dataset.objects.filter(slug__startswith=PREFIX).values_list("slug", flat=True):
        delete_dataset(slug)


def owned_dataset(tmp_path, slug, owner, access="public", places=PLACES) -> Dataset:
    meta = DatasetMetadata(**{**FIELDS, "access_level": access})
    return import_vector_dataset(geojson(tmp_path / f"{slug}.geojson", places), slug=slug, metadata=meta,
                                 user=owner).dataset


def test_a_token_is_obtained_with_username_and_password_and_authenticates(server, registry):
    response = requests.post(f"{server}/api/token", data={"username": f"{PREFIX}staff", "password": "pw-staff"},
                             timeout=30)
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == registry["tokens"]["staff"]
    assert requests.get(f"{server}/api/jobs", headers=auth(token), timeout=30).status_code == 200
    assert requests.get(f"{server}/api/jobs", timeout=30).status_code == 401

    wrong = requests.post(f"{server}/api/token", data={"username": f"{PREFIX}staff", "password": "nope"},
                          timeout=30)
    assert wrong.status_code == 400
    assert list(wrong.json()) == ["detail"] and wrong.json()["detail"]  # DRF's own sentence, in Vietnamese here


def test_anonymous_writes_are_401_and_non_staff_writes_403(server, registry, tmp_path):
    data = geojson(tmp_path / "x.geojson")
    jobs = ImportJob.objects.count()
    anonymous = upload(server, None, data, slug=f"{PREFIX}anon", **FIELDS)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Token")
    assert "Authorization: Token" in anonymous.json()["detail"]
    viewer = upload(server, registry["tokens"]["viewer"], data, slug=f"{PREFIX}viewer", **FIELDS)
    assert viewer.status_code == 403
    assert viewer.json() == {"detail": "only staff users may register, change or delete datasets"}
    for method in ("patch", "delete"):
        url = f"{server}/api/datasets/cantho-districts"
        assert requests.request(method, url, json={"title_en": "x"}, timeout=30).status_code == 401
        assert requests.request(method, url, json={"title_en": "x"}, headers=auth(registry["tokens"]["viewer"]),
                                timeout=30).status_code == 403
    assert ImportJob.objects.count() == jobs
    assert Dataset.objects.filter(slug="cantho-districts").exists()


def test_a_staff_upload_is_queued_then_run_and_published_in_the_ogc_api(server, registry, tmp_path):
    token = registry["tokens"]["staff"]
    slug = f"{PREFIX}cho-noi"
    source = geojson(tmp_path / "Chợ nổi Cần Thơ.geojson")
    response = upload(server, token, source, slug=slug, **FIELDS, crs="EPSG:4326", keywords="chợ nổi, du lịch",
                      abstract_vi="Điểm du lịch trên sông", access_level="public")
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "queued" and job["slug"] == slug and job["progress"] == 0
    assert job["url"] == f"{server}/api/jobs/{job['id']}" == response.headers["Location"]

    saved = Path(ImportJob.objects.get(pk=job["id"]).source_path)
    assert saved.parent.parent == Path(settings.SDI_UPLOAD_DIR)
    assert saved.name == "Cho_noi_Can_Tho.geojson"  # sanitised basename in a folder of its own
    assert saved.read_bytes() == source.read_bytes()

    done = run_queued(job["id"])
    assert done.status == ImportJob.Status.SUCCEEDED, done.message
    assert not saved.exists()  # the worker removes an upload once imported

    status = requests.get(job["url"], headers=auth(token), timeout=30).json()
    assert (status["status"], status["progress"], status["stage"]) == ("succeeded", 100, "done")
    assert status["report"]["features"] == 2 and status["finished"] is not None
    assert status["dataset"] == f"{server}/api/datasets/{slug}"

    collections = requests.get(f"{server}/ogcapi/collections", params={"f": "json"}, timeout=30).json()
    assert slug in {c["id"] for c in collections["collections"]}
    items = requests.get(f"{server}/ogcapi/collections/{slug}/items", params={"f": "json"}, timeout=30).json()
    assert {f["properties"]["ten"] for f in items["features"]} == {"Bến Ninh Kiều", "Chợ nổi Cái Răng"}

    feature = requests.get(f"{server}/api/datasets/{slug}", headers=auth(token), timeout=30).json()
    assert feature["type"] == "Feature" and feature["id"] == slug
    assert feature["geometry"]["type"] == "Polygon"
    props = feature["properties"]
    assert (props["feature_count"], props["storage_srid"], props["sector"]) == (2, 4326, "trade")
    assert props["keywords"] == ["chợ nổi", "du lịch"] and props["abstract_vi"] == "Điểm du lịch trên sông"
    assert set(props["districts"]) == {"Quận Ninh Kiều", "Quận Cái Răng"}
    assert props["owners"] == [f"{PREFIX}staff"]  # the uploader owns it
    assert {"rel": "collection", "type": "application/json", "title": "OGC API – Features collection",
            "href": f"{server}/ogcapi/collections/{slug}"} in props["links"]

    mine = requests.get(f"{server}/api/jobs", headers=auth(token), timeout=30).json()
    assert job["id"] in [j["id"] for j in mine]
    others = requests.get(f"{server}/api/jobs", headers=auth(registry["tokens"]["staff2"]), timeout=30).json()
    assert job["id"] not in [j["id"] for j in others]


REFUSALS = {
    "bad-slug": ({"slug": "Bad Slug!"}, "slug 'Bad Slug!': use 1-63 lower-case letters, digits, '-' or '_'"),
    "duplicate-slug": ({"slug": "cantho-districts"},
                       "dataset 'cantho-districts' already exists (replace it explicitly)"),
    "unknown-sector": ({"sector": "nowhere"}, "unknown sector 'nowhere' (sectors: "),
    "unknown-crs": ({"crs": "EPSG:99999"}, "unknown CRS EPSG:99999"),
    "crs-not-epsg": ({"crs": "VN2000"}, "CRS 'VN2000' is not an EPSG code (write it as EPSG:5897)"),
    "unknown-encoding": ({"encoding": "latin-9"},
                         "unknown encoding 'latin-9' (choose auto or one of utf-8, cp1258, tcvn3, vni)"),
    "missing-file": ({"file": None}, "file is required: send the data as a multipart/form-data part named 'file'"),
    "missing-title": ({"title_vi": None}, "title_vi is required"),
    "unknown-access": ({"access_level": "secret"}, "unknown access level 'secret' (choose public, internal, restricted)"),
    "unknown-agency": ({"agency": "nobody"}, "unknown agency 'nobody'"),
    "unknown-field": ({"titel_vi": "typo"}, "unknown field 'titel_vi'"),
    "bad-email": ({"contact_email": "not-an-email"}, "contact_email is not a valid e-mail address"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_bad_request_is_refused_with_400_and_a_precise_message_and_queues_nothing(server, registry, tmp_path, case):
    change, message = REFUSALS[case]
    fields = {k: v for k, v in {"slug": f"{PREFIX}refused", **FIELDS, **change}.items() if v is not None}
    path = None if "file" in change else geojson(tmp_path / "ok.geojson")
    jobs, folders = ImportJob.objects.count(), upload_folders()
    response = upload(server, registry["tokens"]["staff"], path, **fields)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["detail"] and body["detail"].startswith(message), body
    assert ImportJob.objects.count() == jobs and upload_folders() == folders


def test_source_path_is_for_superusers_only(server, registry, tmp_path):
    source = geojson(tmp_path / "on-the-server.geojson")
    fields = {"slug": f"{PREFIX}server-file", **FIELDS}
    jobs = ImportJob.objects.count()
    staff = upload(server, registry["tokens"]["staff"], None, source_path=str(source), **fields)
    assert staff.status_code == 403
    assert staff.json()["detail"] == "source_path: only superusers may import a file that is already on the server"
    root = registry["tokens"]["root"]
    missing = upload(server, root, None, source_path=str(tmp_path / "gone.geojson"), **fields)
    assert missing.status_code == 400 and "does not exist on the server" in missing.json()["detail"]
    both = upload(server, root, source, source_path=str(source), **fields)
    assert both.status_code == 400 and both.json()["detail"] == "send either file or source_path, not both"
    assert ImportJob.objects.count() == jobs

    accepted = upload(server, root, None, source_path=str(source), **fields)
    assert accepted.status_code == 202
    job = ImportJob.objects.get(pk=accepted.json()["id"])
    assert job.source_path == str(source) and job.options["metadata"]["source"] == str(source)
    done = run_queued(job.pk)
    assert done.status == ImportJob.Status.SUCCEEDED, done.message
    assert source.exists()  # a file that was already on the server is not the worker's to delete


def send_headers_only(url: str, token: str, length: int) -> tuple[int, dict]:
    """Announce a body of `length` bytes and send none of it: a server that read the body would hang."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("POST", "/api/datasets")
        conn.putheader("Authorization", f"Token {token}")
        conn.putheader("Content-Type", "multipart/form-data; boundary=sdi-test-boundary")
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_an_oversized_upload_is_refused_with_413_before_its_body_is_read(start_server, registry, monkeypatch,
                                                                       tmp_path):
    monkeypatch.setenv("SDI_MAX_UPLOAD_MB", "1")
    server = start_server()
    jobs = ImportJob.objects.count()
    token = registry["tokens"]["staff"]
    status, body = send_headers_only(server, token, 2 * 1024 * 1024)
    assert status == 413
    assert body == {"detail": "the upload is 2 MB, larger than the limit of 1 MB (SDI_MAX_UPLOAD_MB); "
                              "put the file on the server and use source_path"}
    assert send_headers_only(server, "", 1024 * 1024 + 1)[0] == 413  # even before asking who sends it

    # Just under the limit the same server reads the upload and judges its content.
    padded = geojson(tmp_path / "padded.geojson")
    padded.write_text(padded.read_text("utf-8") + " " * (1024 * 1024 - 4096), "utf-8")
    under = upload(server, token, padded, slug=f"{PREFIX}padded", **{**FIELDS, "sector": "nowhere"})
    assert under.status_code == 400 and under.json()["detail"].startswith("unknown sector 'nowhere'")
    assert ImportJob.objects.count() == jobs


def test_a_restricted_dataset_does_not_exist_for_others(server, registry, tmp_path):
    users, tokens = registry["users"], registry["tokens"]
    slug = f"{PREFIX}restricted"
    owned_dataset(tmp_path, slug, users["staff"], access="restricted")
    url = f"{server}/api/datasets/{slug}"
    for who in (None, "viewer", "staff2"):
        headers = auth(tokens[who]) if who else {}
        listed = requests.get(f"{server}/api/datasets", headers=headers, timeout=30).json()
        assert slug not in {f["id"] for f in listed["features"]}
        assert requests.get(url, headers=headers, timeout=30).json() == {"detail": f"no dataset '{slug}'"}
    staff2 = auth(tokens["staff2"])
    assert requests.get(url, headers=staff2, timeout=30).status_code == 404
    assert requests.patch(url, json={"title_en": "x"}, headers=staff2, timeout=30).status_code == 404
    assert requests.delete(url, headers=staff2, timeout=30).status_code == 404
    assert upload(server, tokens["staff2"], geojson(tmp_path / "r.geojson"), url=f"/api/datasets/{slug}/replace",
                  ).status_code == 404
    assert requests.get(url, headers=auth(tokens["staff"]), timeout=30).status_code == 200
    assert requests.get(url, headers=auth(tokens["root"]), timeout=30).status_code == 200

    # The owner names a reader: the REST API and the OGC API both show it to that reader at once.
    granted = requests.patch(url, json={"allowed_users": [f"{PREFIX}viewer"]}, headers=auth(tokens["staff"]),
                             timeout=30)
    assert granted.status_code == 200 and granted.json()["properties"]["allowed_users"] == [f"{PREFIX}viewer"]
    viewer = auth(tokens["viewer"])
    assert requests.get(url, headers=viewer, timeout=30).status_code == 200
    assert requests.get(f"{server}/ogcapi/collections/{slug}", headers=viewer, params={"f": "json"},
                        timeout=30).status_code == 200
    assert requests.get(f"{server}/ogcapi/collections/{slug}", params={"f": "json"}, timeout=30).status_code == 404


def test_only_owners_and_superusers_may_replace(server, registry, tmp_path):
    users, tokens = registry["users"], registry["tokens"]
    slug = f"{PREFIX}replace"
    owned_dataset(tmp_path, slug, users["staff"])
    jobs = ImportJob.objects.count()
    three = geojson(tmp_path / "v2.geojson", PLACES + [(105.7469, 10.0452, "Bình Thủy")])
    refused = upload(server, tokens["staff2"], three, url=f"/api/datasets/{slug}/replace")
    assert refused.status_code == 403
    assert refused.json() == {"detail": f"dataset '{slug}': only its owners or a superuser may replace it"}
    assert ImportJob.objects.count() == jobs

    missing = upload(server, tokens["staff"], None, url=f"/api/datasets/{slug}/replace")
    assert missing.status_code == 400 and missing.json()["detail"].startswith("file is required")

    accepted = upload(server, tokens["staff"], three, url=f"/api/datasets/{slug}/replace", title_en="Piers, v2")
    assert accepted.status_code == 202
    job = ImportJob.objects.get(pk=accepted.json()["id"])
    assert job.options["replace"] is True and job.options["metadata"]["source"] == "upload: v2.geojson"
    done = run_queued(job.pk)
    assert done.status == ImportJob.Status.SUCCEEDED, done.message
    dataset = Dataset.objects.get(slug=slug)
    assert dataset.feature_count == 3
    assert (dataset.title_vi, dataset.title_en) == (FIELDS["title_vi"], "Piers, v2")  # the rest kept


def test_owners_edit_metadata_and_the_ogc_api_shows_it_at_once(server, registry, tmp_path):
    users, tokens = registry["users"], registry["tokens"]
    slug = f"{PREFIX}edit"
    owned_dataset(tmp_path, slug, users["staff"])
    url = f"{server}/api/datasets/{slug}"
    before = requests.get(f"{server}/ogcapi/collections/{slug}", params={"f": "json"}, timeout=30).json()
    assert before["title"] != "Bến tàu Ninh Kiều (đã sửa)"

    refused = requests.patch(url, json={"title_vi": "x"}, headers=auth(tokens["staff2"]), timeout=30)
    assert refused.status_code == 403
    assert refused.json() == {"detail": f"dataset '{slug}': only its owners or a superuser may change it"}
    owner = auth(tokens["staff"])
    for change, message in (({"feature_count": 5}, "'feature_count' cannot be changed here"),
                            ({"allowed_users": ["ghost"]}, "allowed_users: no user named 'ghost'"),
                            ({"access_level": "secret"}, "unknown access level 'secret'"),
                            ({"title_vi": ""}, "title_vi must not be blank"),
                            ({}, "nothing to change")):
        response = requests.patch(url, json=change, headers=owner, timeout=30)
        assert response.status_code == 400 and response.json()["detail"].startswith(message), response.text

    changed = requests.patch(url, json={"title_vi": "Bến tàu Ninh Kiều (đã sửa)", "title_en": "Ninh Kiều pier",
                                        "keywords": ["bến tàu"]}, headers=owner, timeout=30)
    assert changed.status_code == 200
    assert changed.json()["properties"]["keywords"] == ["bến tàu"]
    shown = requests.get(f"{server}/ogcapi/collections/{slug}", params={"f": "json", "lang": "vi"}, timeout=30)
    assert "Bến tàu Ninh Kiều (đã sửa)" in json.dumps(shown.json(), ensure_ascii=False)

    hidden = requests.patch(url, json={"published": False}, headers=owner, timeout=30)
    assert hidden.status_code == 200
    assert requests.get(f"{server}/ogcapi/collections/{slug}", params={"f": "json"}, timeout=30).status_code == 404
    assert requests.get(url, headers=owner, timeout=30).status_code == 200  # its owner can still find it
    assert requests.get(url, headers=auth(tokens["staff2"]), timeout=30).status_code == 404


def test_delete_by_owner_is_204_and_removes_the_collection(server, registry, tmp_path):
    users, tokens = registry["users"], registry["tokens"]
    slug = f"{PREFIX}delete"
    dataset = owned_dataset(tmp_path, slug, users["staff"])
    url = f"{server}/api/datasets/{slug}"
    assert requests.get(f"{server}/ogcapi/collections/{slug}", params={"f": "json"}, timeout=30).status_code == 200
    refused = requests.delete(url, headers=auth(tokens["staff2"]), timeout=30)
    assert refused.status_code == 403 and "only its owners or a superuser may delete it" in refused.json()["detail"]

    deleted = requests.delete(url, headers=auth(tokens["staff"]), timeout=30)
    assert deleted.status_code == 204 and deleted.content == b""
    assert requests.get(f"{server}/ogcapi/collections/{slug}", params={"f": "json"}, timeout=30).status_code == 404
    assert requests.get(url, headers=auth(tokens["staff"]), timeout=30).status_code == 404
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", (f'"{dataset.table_schema}"."{dataset.table_name}"',))
        assert cursor.fetchone()[0] is None


def test_a_job_is_visible_to_its_creator_and_superusers_only(server, registry, tmp_path):
    tokens = registry["tokens"]
    response = upload(server, tokens["staff"], geojson(tmp_path / "j.geojson"), slug=f"{PREFIX}job", **FIELDS)
    assert response.status_code == 202
    url = response.json()["url"]
    assert requests.get(url, headers=auth(tokens["staff"]), timeout=30).status_code == 200
    assert requests.get(url, headers=auth(tokens["root"]), timeout=30).status_code == 200
    other = requests.get(url, headers=auth(tokens["staff2"]), timeout=30)
    assert other.status_code == 404 and other.json() == {"detail": f"no import job {response.json()['id']}"}
    assert requests.get(url, timeout=30).status_code == 401


def test_sectors_and_the_public_dataset_list(server, registry):
    sectors = requests.get(f"{server}/api/sectors", timeout=30).json()
    assert len(sectors) == 17 and {"land", "trade", "environment"} <= {s["code"] for s in sectors}
    listed = requests.get(f"{server}/api/datasets", timeout=30)
    assert listed.status_code == 200
    collection = listed.json()
    assert collection["type"] == "FeatureCollection"
    districts = next(f for f in collection["features"] if f["id"] == "cantho-districts")
    assert districts["geometry"]["type"] == "Polygon"
    assert districts["properties"]["storage_crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"  # as the OGC API
    assert "owners" not in districts["properties"] and "source" not in districts["properties"]
    assert {link["href"] for link in districts["properties"]["links"]} >= {
        f"{server}/ogcapi/collections/cantho-districts", f"{server}/ogcapi/collections/cantho-districts/items"}
    ogc = requests.get(f"{server}/ogcapi/collections", params={"f": "json"}, timeout=30).json()
    assert {f["id"] for f in collection["features"]} == {c["id"] for c in ogc["collections"]}


@pytest.mark.django_db  # in-process, rolled back (this mark also makes pytest-django set up the test database)
def test_the_shared_checks_refuse_what_can_be_refused_without_the_data():
    from layers.registry.registration import RequestRefused, check_import_request, safe_filename

    meta = DatasetMetadata(**FIELDS)
    with pytest.raises(RequestRefused, match="there is no dataset 'api-nothing' to replace"):
        check_import_request(slug=f"{PREFIX}nothing", metadata=meta, replace=True)
    checked = check_import_request(slug=f"{PREFIX}fine", metadata=meta, crs="urn:ogc:def:crs:EPSG::5897",
                                   encoding="TCVN3")
    assert (checked.srid, checked.encoding) == (5897, "tcvn3")
    assert check_import_request(slug=f"{PREFIX}fine", metadata=meta, crs="detect", encoding="auto").srid is None
    assert safe_filename("C:\\Users\\Đạt\\Thửa đất Ninh Kiều.ZIP") == "Thua_dat_Ninh_Kieu.ZIP"
    assert safe_filename("../../etc/passwd") == "passwd" and safe_filename("...") == "upload"
    assert safe_filename(".geojson") == "upload.geojson" and safe_filename("a b;rm -rf.shp.zip") == "a_b_rm_-rf.shp.zip"
