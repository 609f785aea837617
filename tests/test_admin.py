"""The Django admin: the Upload view that queues an import job, the job pages that follow it, and the owners-only
rule for changing and deleting datasets (Django's test client, real PostGIS, committed writes)."""
import json
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings

from layers.models import Dataset, ImportJob
from layers.registry.services import DatasetMetadata, current_registry_version, import_vector_dataset
from tests.conftest import run_next_queued_import
from tests.imports_made import forget_prefixed, tm3_shapefile_zip_without_prj

PREFIX = "adm-"
UPLOAD_URL = "/admin/layers/dataset/upload/"
PLACES = [(105.6383, 10.0006, "Chợ Phong Điền"), (105.7690, 10.0370, "Bến Ninh Kiều")]
FORM = {"slug": f"{PREFIX}upload", "crs": "detect", "encoding": "auto", "layer": "",
        "title_vi": "Di tích và chợ quê", "title_en": "Heritage sites and rural markets", "abstract_vi": "",
        "abstract_en": "", "sector": "tourism", "agency": "", "licence_name": "CC BY 4.0", "licence_url": "",
        "attribution": "Sở Văn hóa, Thể thao và Du lịch Cần Thơ (thử nghiệm)", "keywords": "di tích, chợ",
        "access_level": "public", "update_frequency": "unknown", "contact_name": "", "contact_email": ""}


def geojson_bytes(places=PLACES) -> bytes:
    features = [{"type": "Feature", "properties": {"ten": name},
                 "geometry": {"type": "Point", "coordinates": [x, y]}} for x, y, name in places]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode("utf-8")


def upload_file(name="Điểm tham quan.geojson"):
    return SimpleUploadedFile(name, geojson_bytes(), content_type="application/geo+json")


@pytest.fixture
def people(committed_db):
    users = {
        "staff": User.objects.create_user(f"{PREFIX}staff", password="pw", is_staff=True),
        "other": User.objects.create_user(f"{PREFIX}other", password="pw", is_staff=True),
        "viewer": User.objects.create_user(f"{PREFIX}viewer", password="pw"),
        "root": User.objects.create_superuser(f"{PREFIX}root", password="pw"),
    }
    yield users
    forget_prefixed(PREFIX)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def owned_dataset(tmp_path, slug, owner) -> Dataset:
    path = tmp_path / f"{slug}.geojson"
    path.write_bytes(geojson_bytes())
    meta = DatasetMetadata(title_vi="Thử nghiệm quản trị", title_en="Admin test", sector="tourism",
                           licence_name="CC BY 4.0", attribution="Test")
    return import_vector_dataset(path, slug=slug, metadata=meta, user=owner).dataset


def test_the_upload_form_renders_for_staff_and_sends_others_to_the_login(people):
    anonymous = Client().get(UPLOAD_URL)
    assert anonymous.status_code == 302 and anonymous["Location"] == f"/admin/login/?next={UPLOAD_URL}"
    assert client_for(people["viewer"]).get(UPLOAD_URL).status_code == 302  # signed in, but not staff

    page = client_for(people["staff"]).get(UPLOAD_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert '<option value="EPSG:5897" selected>EPSG:5897 — VN-2000 / TM-3 zone 482 (Cần Thơ)</option>' in html
    assert '<option value="detect">' in html and '<option value="EPSG:9210">' in html
    for encoding in ("auto", "utf-8", "cp1258", "tcvn3", "vni"):
        assert f'<option value="{encoding}"' in html
    for name in ("file", "slug", "replace", "layer", "repair", "title_vi", "sector", "attribution"):
        assert f'name="{name}"' in html
    changelist = client_for(people["staff"]).get("/admin/layers/dataset/")
    assert changelist.status_code == 200 and UPLOAD_URL in changelist.content.decode()


def test_an_upload_is_queued_and_followed_on_its_job_page_until_published(people):
    client = client_for(people["staff"])
    response = client.post(UPLOAD_URL, {**FORM, "file": upload_file()})
    job = ImportJob.objects.get(slug=f"{PREFIX}upload")
    assert response.status_code == 302 and response["Location"] == f"/admin/layers/importjob/{job.pk}/change/"
    assert job.status == ImportJob.Status.QUEUED and job.created_by == people["staff"]
    assert (job.options["srid"], job.options["encoding"], job.options["replace"]) == (None, None, False)
    assert job.options["metadata"]["keywords"] == ["di tích", "chợ"]
    saved = Path(job.source_path)
    assert saved.name == "Diem_tham_quan.geojson" and saved.read_bytes() == geojson_bytes()

    queued = client.get(response["Location"]).content.decode()
    assert '<progress value="0" max="100"' in queued
    assert '<meta http-equiv="refresh" content="2">' in queued  # reloads itself while the job is unfinished
    listed = client.get("/admin/layers/importjob/").content.decode()
    assert f"{PREFIX}upload" in listed and '<meta http-equiv="refresh"' in listed

    ran = run_next_queued_import()
    assert ran.pk == job.pk and ran.status == ImportJob.Status.SUCCEEDED
    done = client.get(response["Location"]).content.decode()
    assert '<progress value="100" max="100"' in done
    assert f"published {PREFIX}upload: 2 Point features" in done
    assert 'http-equiv="refresh"' not in done
    dataset = Dataset.objects.get(slug=f"{PREFIX}upload")
    assert list(dataset.owners.all()) == [people["staff"]] and dataset.feature_count == 2


def test_the_default_crs_is_cantho_vn2000_and_csrf_is_still_checked(people):
    client = client_for(people["staff"])
    client.post(UPLOAD_URL, {**FORM, "slug": f"{PREFIX}default-crs", "crs": "EPSG:5897", "encoding": "tcvn3",
                             "file": upload_file()})
    job = ImportJob.objects.get(slug=f"{PREFIX}default-crs")
    assert (job.options["srid"], job.options["encoding"]) == (5897, "tcvn3")

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people["staff"])
    forged = strict.post(UPLOAD_URL, {**FORM, "slug": f"{PREFIX}forged", "file": upload_file()})
    assert forged.status_code == 403
    assert not ImportJob.objects.filter(slug=f"{PREFIX}forged").exists()


def test_refusals_are_shown_on_the_form_and_queue_nothing(people, tmp_path):
    owned_dataset(tmp_path, f"{PREFIX}others", people["other"])
    client = client_for(people["staff"])
    jobs = ImportJob.objects.count()
    cases = [
        ({"slug": "cantho-districts"}, "dataset &#x27;cantho-districts&#x27; already exists (replace it explicitly)"),
        ({"slug": f"{PREFIX}others", "replace": "on"},
         f"dataset &#x27;{PREFIX}others&#x27;: only its owners or a superuser may replace it"),
        ({"slug": f"{PREFIX}missing", "replace": "on"}, f"there is no dataset &#x27;{PREFIX}missing&#x27; to replace"),
        ({"slug": "Không hợp lệ"}, "slug &#x27;Không hợp lệ&#x27;: use 1-63 lower-case letters"),
        ({"crs": "EPSG:99999"}, 'class="form-row errors field-crs"'),  # not among the offered choices
    ]
    for change, message in cases:
        response = client.post(UPLOAD_URL, {**FORM, **change, "file": upload_file()})
        assert response.status_code == 200
        assert message in response.content.decode(), change
    missing_file = client.post(UPLOAD_URL, FORM)
    assert missing_file.status_code == 200 and 'class="errorlist' in missing_file.content.decode()
    assert ImportJob.objects.count() == jobs


def test_an_oversized_upload_is_answered_413_without_queuing(people):
    with override_settings(SDI_MAX_UPLOAD_BYTES=1024):
        response = client_for(people["staff"]).post(UPLOAD_URL, {**FORM, "file": upload_file()})
    assert response.status_code == 413
    assert re.search(r"the upload is \d kB, larger than the limit of 1 kB \(SDI_MAX_UPLOAD_MB\)",
                     response.content.decode())
    assert not ImportJob.objects.filter(slug=f"{PREFIX}upload").exists()


def change_form_data(response) -> dict:
    """What a browser would post back from a dataset's change page, unchanged."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if name == "extent":
            value = value.ewkt if hasattr(value, "ewkt") else (value or "")
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list) else ("" if value is None else str(value))
    return data


def test_only_owners_and_superusers_may_change_or_delete_a_dataset(people, tmp_path):
    dataset = owned_dataset(tmp_path, f"{PREFIX}owned", people["staff"])
    change_url = f"/admin/layers/dataset/{dataset.pk}/change/"
    delete_url = f"/admin/layers/dataset/{dataset.pk}/delete/"

    other = client_for(people["other"])
    viewed = other.get(change_url)
    assert viewed.status_code == 200 and 'name="_save"' not in viewed.content.decode()  # read-only for them
    assert other.post(change_url, {"title_en": "hijacked"}).status_code == 403
    assert other.get(delete_url).status_code == 403
    assert other.post(delete_url, {"post": "yes"}).status_code == 403
    assert Dataset.objects.get(pk=dataset.pk).title_en == "Admin test"

    owner = client_for(people["staff"])
    page = owner.get(change_url)
    html = page.content.decode()
    assert 'name="_save"' in html
    assert 'id="id_extent"' not in html  # measured: shown, not editable
    assert "lon 105.638300 … 105.769000, lat 10.000600 … 10.037000" in html
    for name in ("owners", "allowed_users", "allowed_groups"):
        assert f'id="id_{name}"' in html and "selectfilter" in html  # filter_horizontal
    assert '<div class="readonly">Huyện Phong Điền, Quận Ninh Kiều</div>' in html  # districts, measured, read-only
    version = current_registry_version()
    data = {**change_form_data(page), "title_en": "Heritage (edited)", "access_level": "internal",
            "allowed_users": [str(people["viewer"].pk)]}
    saved = owner.post(change_url, data)
    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else saved
    dataset.refresh_from_db()
    assert (dataset.title_en, dataset.access_level) == ("Heritage (edited)", "internal")
    assert list(dataset.allowed_users.all()) == [people["viewer"]]
    assert current_registry_version() > version  # every worker rebuilds its OGC API configuration

    assert client_for(people["root"]).get(change_url).content.decode().count('name="_save"') == 1
    deleted = owner.post(delete_url, {"post": "yes"})
    assert deleted.status_code == 302
    assert not Dataset.objects.filter(pk=dataset.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", (f'"{dataset.table_schema}"."{dataset.table_name}"',))
        assert cursor.fetchone()[0] is None


def test_import_jobs_are_read_only_and_shown_to_their_creator_and_superusers(people):
    client_for(people["staff"]).post(UPLOAD_URL, {**FORM, "slug": f"{PREFIX}job", "file": upload_file()})
    job = ImportJob.objects.get(slug=f"{PREFIX}job")
    url = f"/admin/layers/importjob/{job.pk}/change/"
    page = client_for(people["staff"]).get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client_for(people["staff"]).get("/admin/layers/importjob/add/").status_code == 403
    assert client_for(people["root"]).get(url).status_code == 200
    hidden = client_for(people["other"]).get(url)
    assert hidden.status_code == 302 and hidden["Location"] == "/admin/"  # "does not exist" for them
    assert f"{PREFIX}job" not in client_for(people["other"]).get("/admin/layers/importjob/").content.decode()


@pytest.mark.django_db  # in-process, rolled back (this mark also makes pytest-django set up the test database)
def test_the_upload_form_turns_its_choices_into_import_arguments():
    from layers.registry.forms import UploadForm

    form = UploadForm(data={**FORM, "agency": "osm", "repair": "on"}, files={"file": upload_file()})
    assert form.is_valid(), form.errors
    arguments = form.import_arguments()
    assert (arguments["crs"], arguments["encoding"], arguments["layer"]) == (None, "auto", None)
    assert arguments["repair"] is True and arguments["replace"] is False
    assert arguments["metadata"]["sector"] == "tourism" and arguments["metadata"]["agency"] == "osm"
    assert UploadForm().fields["crs"].initial == "EPSG:5897"
    unknown = UploadForm(data={**FORM, "sector": "nowhere"}, files={"file": upload_file()})
    assert not unknown.is_valid() and "sector" in unknown.errors


def test_the_job_page_shows_a_zone_warning(people, tmp_path):
    """EPSG:5897 numbers uploaded as EPSG:9210 are published, and the job page says which zone fits Cần Thơ."""
    source = tmp_path / "places.geojson"
    source.write_bytes(geojson_bytes())
    bundle = tm3_shapefile_zip_without_prj(source, tmp_path)
    client = client_for(people["staff"])
    upload = SimpleUploadedFile("diem.zip", bundle.read_bytes(), content_type="application/zip")
    response = client.post(UPLOAD_URL, {**FORM, "slug": f"{PREFIX}zone", "crs": "EPSG:9210", "file": upload})
    assert response.status_code == 302
    assert run_next_queued_import().status == ImportJob.Status.SUCCEEDED
    html = client.get(response["Location"]).content.decode()
    assert '<li class="warning">Cảnh báo / warning: diem.zip: EPSG:9210 (VN-2000 / TM-3 105-45), declared with ' \
           'the import, puts the data at lon 106.' in html
    assert "where EPSG:5897 (VN-2000 / TM-3 zone 482 (Cần Thơ)) puts it, inside the city" in html
