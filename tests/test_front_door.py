"""One front door for registration: the command line checks a request exactly as the REST API and the admin do,
before any job exists; the admin edits metadata through the REST API's service and never what the loader
measured; the metadata fields are declared once (services.DatasetMetadata) and every front door derives them."""
import io
import json
import os
import subprocess
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from layers.registry.catalogue import ENTRY_KEYS
from layers.models import Dataset, ImportJob
from layers.registry.services import (GIVEN_METADATA, METADATA_FIELDS, DatasetMetadata, current_registry_version,
                             delete_dataset, import_vector_dataset)

PREFIX = "fd-"
METADATA = {"title_vi": "Trạm bơm", "title_en": "Pumping stations", "sector": "environment",
            "licence_name": "CC BY 4.0", "attribution": "Sở Tài nguyên và Môi trường (thử nghiệm)"}
# (what differs from a good request, the one sentence every front door answers)
REFUSED = {
    "sector": ({"sector": "nowhere"}, "unknown sector 'nowhere' (sectors: "),
    "slug": ({"slug": "Bad Slug!"}, "slug 'Bad Slug!': use 1-63 lower-case letters, digits, '-' or '_'"),
    "reserved": ({"slug": "summary"}, "slug 'summary' is the name of an OGC API process of this server"),
    "crs-code": ({"crs": "EPSG:99999"}, "unknown CRS EPSG:99999"),
    "crs-text": ({"crs": "Cần Thơ"}, "CRS 'Cần Thơ' is not an EPSG code (write it as EPSG:5897)"),
    "encoding": ({"encoding": "latin-9"}, "unknown encoding 'latin-9' (choose auto or one of "),
    "access": ({"access_level": "secret"}, "unknown access level 'secret' (choose public, internal, restricted)"),
    "agency": ({"agency": "nobody"}, "unknown agency 'nobody'"),
    "taken": ({"slug": "cantho-districts"}, "dataset 'cantho-districts' already exists (replace it explicitly)"),
}


def stations(path: Path) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ten": "Trạm Cái Răng"}, "geometry": {"type": "Point", "coordinates": [105.77, 10.0]}},
        {"type": "Feature", "properties": {"ten": "Trạm Ô Môn"}, "geometry": {"type": "Point", "coordinates": [105.62, 10.11]}},
    ]}, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def people(committed_db):
    users = {"root": User.objects.create_superuser(f"{PREFIX}root", password="pw"),
             "staff": User.objects.create_user(f"{PREFIX}staff", password="pw", is_staff=True)}
    last_job = ImportJob.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    yield users
    ImportJob.objects.filter(pk__gt=last_job).delete()  # also any a refusal should not have left
    for slug in Dataset.objects.filter(slug__startswith=PREFIX).values_list("slug", flat=True):
        delete_dataset(slug)
    User.objects.filter(username__startswith=PREFIX).delete()


def cli_arguments(request: dict, source: Path, background: bool) -> list[str]:
    arguments = [str(source), "--slug", request["slug"]]
    for name, value in request.items():
        if name != "slug":
            arguments += [f"--{name.replace('_', '-')}", value]
    return arguments + (["--background"] if background else [])


def run_cli(arguments: list[str]) -> tuple[str | None, str, str]:
    """import_dataset in this process: (refusal or None, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_dataset", *arguments, stdout=out, stderr=err)
    except CommandError as exc:
        return str(exc), out.getvalue(), err.getvalue()
    return None, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("background", [False, True], ids=["foreground", "background"])
@pytest.mark.parametrize("case", list(REFUSED))
def test_the_command_line_refuses_what_the_rest_api_refuses_and_records_no_job(people, tmp_path, case, background):
    change, sentence = REFUSED[case]
    request = {"slug": f"{PREFIX}{case}", **METADATA, "crs": "EPSG:4326", **change}
    source = stations(tmp_path / "tram.geojson")
    jobs = ImportJob.objects.count()

    refusal, out, _ = run_cli(cli_arguments(request, source, background))
    assert refusal is not None and refusal.startswith(sentence), (refusal, out)

    api = Client()
    api.force_login(people["root"])
    answer = api.post("/api/datasets", {**request, "source_path": str(source)})
    assert answer.status_code == 400 and answer.json()["detail"] == refusal  # the very same sentence
    assert ImportJob.objects.count() == jobs  # neither front door left a job behind


def test_a_refused_command_exits_non_zero_with_its_one_line_reason(people, tmp_path):
    db = settings.DATABASES["default"]
    url = f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    jobs = ImportJob.objects.count()
    result = subprocess.run(
        [str(Path(settings.BASE_DIR) / ".venv/bin/python"), "manage.py", "import_dataset",
         str(stations(tmp_path / "tram.geojson")), "--slug", f"{PREFIX}cli", "--sector", "nowhere"],
        cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120, env={**os.environ, "DATABASE_URL": url})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("CommandError: unknown sector 'nowhere' (sectors: ")
    assert ImportJob.objects.count() == jobs


def test_the_command_line_queues_or_runs_through_the_same_entry(people, tmp_path):
    source = stations(tmp_path / "tram.geojson")
    refusal, out, _ = run_cli([str(source), "--slug", f"{PREFIX}queued", "--title", "Trạm", "--background"])
    assert refusal is None and "queued import job" in out
    job = ImportJob.objects.get(slug=f"{PREFIX}queued")
    assert job.status == ImportJob.Status.QUEUED and job.options["metadata"]["title_vi"] == "Trạm"
    assert job.options["metadata"]["source"] == str(source)

    refusal, out, _ = run_cli([str(source), "--slug", f"{PREFIX}now", "--title-en", "Stations", "--keywords",
                               "bơm, nước", "--crs", "EPSG:4326"])
    assert refusal is None and f"published {PREFIX}now: 2 Point features" in out
    dataset = Dataset.objects.get(slug=f"{PREFIX}now")
    assert (dataset.title_vi, dataset.title_en, dataset.keywords) == (f"{PREFIX}now", "Stations", ["bơm", "nước"])
    # --replace keeps the metadata it is not given (the REST API's replace does the same)
    refusal, out, _ = run_cli([str(source), "--slug", f"{PREFIX}now", "--replace", "--abstract-en", "Two pumps"])
    assert refusal is None, refusal
    dataset.refresh_from_db()
    assert (dataset.title_en, dataset.abstract_en, dataset.keywords) == ("Stations", "Two pumps", ["bơm", "nước"])


# --- the admin edits through the service, and never what was measured -------------------------------------

def owned(tmp_path, slug, owner) -> Dataset:
    return import_vector_dataset(stations(tmp_path / f"{slug}.geojson"), slug=slug,
                                 metadata=DatasetMetadata(**METADATA), user=owner).dataset


def admin_form(client, dataset) -> dict:
    """What a browser posts back from the change page, unchanged."""
    form = client.get(f"/admin/layers/dataset/{dataset.pk}/change/").context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list) else ("" if value is None else str(value))
    return data


def test_an_admin_post_cannot_change_what_the_loader_measured(people, tmp_path):
    dataset = owned(tmp_path, f"{PREFIX}measured", people["staff"])
    measured = {name: getattr(dataset, name) for name in (
        "feature_count", "geometry_type", "storage_srid", "table_schema", "table_name", "districts",
        "attribute_schema", "source")}
    extent = dataset.extent.wkt
    client = Client()
    client.force_login(people["staff"])
    forged = {"extent": "SRID=4326;POLYGON((0 0,1 0,1 1,0 1,0 0))", "feature_count": "999999",
              "geometry_type": "Polygon", "storage_srid": "3857", "table_name": "layers_dataset",
              "table_schema": "public", "districts": "Nowhere", "source": "forged", "slug": f"{PREFIX}other"}
    saved = client.post(f"/admin/layers/dataset/{dataset.pk}/change/",
                        {**admin_form(client, dataset), **forged, "title_en": "Pumps (edited)"})
    assert saved.status_code == 302
    dataset.refresh_from_db()
    assert dataset.title_en == "Pumps (edited)"  # the save went through
    assert {name: getattr(dataset, name) for name in measured} == measured
    assert dataset.extent.wkt == extent and dataset.slug == f"{PREFIX}measured"


def test_an_admin_metadata_edit_goes_through_the_service_and_the_ogc_api_shows_it(people, tmp_path, server):
    dataset = owned(tmp_path, f"{PREFIX}edited", people["staff"])
    collection = f"{server}/ogcapi/collections/{dataset.slug}"
    assert requests.get(collection, params={"f": "json", "lang": "en"}, timeout=30).json()["title"] == "Pumping stations"
    client = Client()
    client.force_login(people["staff"])
    version = current_registry_version()
    saved = client.post(f"/admin/layers/dataset/{dataset.pk}/change/",
                        {**admin_form(client, dataset), "title_en": "Drainage pumping stations",
                         "sector": "transport", "keywords": "bơm, thoát nước"})
    assert saved.status_code == 302
    assert current_registry_version() == version + 1  # bumped once, by registration.update_metadata
    dataset.refresh_from_db()
    assert (dataset.sector.code, dataset.keywords) == ("transport", ["bơm", "thoát nước"])
    shown = requests.get(collection, params={"f": "json", "lang": "en"}, timeout=30).json()
    assert shown["title"] == "Drainage pumping stations"


# --- one declaration --------------------------------------------------------------------------------------

def test_every_front_door_derives_its_metadata_fields_from_the_one_declaration():
    from layers.registry.api.serializers import DatasetSerializer, DatasetUpdateSerializer, ImportRequestSerializer
    from layers.registry.forms import DatasetChangeForm, UploadForm
    from layers.management.commands.import_dataset import Command
    from layers.registry.registration import EDITABLE_FIELDS

    given = set(GIVEN_METADATA)
    assert given == set(METADATA_FIELDS) - {"source"}  # the import records where the data came from
    assert given <= set(UploadForm().fields)
    assert given <= set(ImportRequestSerializer().fields) and given <= set(ImportRequestSerializer(replacing=True).fields)
    assert given <= set(DatasetUpdateSerializer().fields) and given <= set(EDITABLE_FIELDS)
    assert set(EDITABLE_FIELDS) <= set(DatasetChangeForm.base_fields)
    assert set(METADATA_FIELDS) <= set(DatasetSerializer.Meta.fields)
    assert given <= set(ENTRY_KEYS)
    parser = Command().create_parser("manage.py", "import_dataset")
    assert given <= {action.dest for action in parser._actions}
    assert not ({"extent", "feature_count", "storage_srid", "geometry_type", "districts", "source"}
                & (set(EDITABLE_FIELDS) | set(DatasetChangeForm.base_fields)))


def test_the_catalogue_refuses_a_misspelt_key(committed_db, tmp_path):
    from layers.registry.catalogue import read_catalogue
    from layers.loading import ImportRefused

    catalogue = tmp_path / "datasets.yml"
    catalogue.write_text("datasets:\n  - {slug: x, file: x.geojson, sector: land, title_vi: a, title_en: a,"
                         " licence: CC BY 4.0, attribution: y}\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="datasets.yml: dataset 'x': unknown key 'licence'"):
        read_catalogue(catalogue)
