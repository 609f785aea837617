"""The admin's import-job page in a real headless Chromium (tests/browser.py) on a real gunicorn (the `server`
fixture), signed in through the login form: what a person sees of a finished import (its warnings at the top of
the page, its status, why it failed), and that the page loads nothing from another host.

Imports run for real (registration.request_import, then the job in-process), as the command line runs them.
"""
import json

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from selenium.webdriver.common.by import By

from layers.jobs.queue import run_job
from layers.models import Dataset, ImportJob
from layers.registry.registration import request_import
from tests.browser import foreign_loads, log_in
from tests.imports_made import forget_prefixed, tm3_shapefile_zip_without_prj

PREFIX = "brw-"
PASSWORD = "Thu-nghiem-2026"
METADATA = {"title_vi": "Điểm tham quan (thử)", "title_en": "Places (test)", "sector": "tourism",
            "licence_name": "CC BY 4.0", "attribution": "Sở Văn hóa, Thể thao và Du lịch Cần Thơ (thử nghiệm)"}


@pytest.fixture
def staff(committed_db):
    yield User.objects.create_user(f"{PREFIX}staff", password=PASSWORD, is_staff=True)
    forget_prefixed(PREFIX)


def feature_collection(features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": properties, "geometry": geometry} for properties, geometry in features]},
        ensure_ascii=False).encode("utf-8")


def shapefile_in_tm3_without_prj(tmp_path) -> SimpleUploadedFile:
    """Two places in Cần Thơ as EPSG:5897 (TM-3 zone 482) numbers, zipped without a .prj: the CRS is declared."""
    places = [({"ten": "Chợ Phong Điền"}, {"type": "Point", "coordinates": [105.6383, 10.0006]}),
              ({"ten": "Bến Ninh Kiều"}, {"type": "Point", "coordinates": [105.7690, 10.0370]})]
    source = tmp_path / "places.geojson"
    source.write_bytes(feature_collection(places))
    bundle = tm3_shapefile_zip_without_prj(source, tmp_path)
    return SimpleUploadedFile("diem.zip", bundle.read_bytes(), content_type="application/zip")


def finished_import(user, slug: str, upload, crs=None) -> ImportJob:
    job = request_import(user=user, slug=f"{PREFIX}{slug}", metadata=METADATA, upload=upload, crs=crs, queue=False)
    return run_job(job)


def open_job_page(browser, server, job: ImportJob) -> None:
    log_in(browser, server, job.created_by.username, PASSWORD)
    browser.get(f"{server}/admin/layers/importjob/{job.pk}/change/")
    assert browser.find_element(By.TAG_NAME, "h1").is_displayed()


def field_text(browser, name: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, f".field-{name} .readonly").text


def loaded_own_styles(browser) -> bool:
    """The admin's stylesheet arrived (HTTP 200), so the page looks as designed."""
    return any(entry["name"].endswith("/static/admin/css/base.css") and entry["status"] == 200
               for entry in browser.execute_script(
                   "return performance.getEntriesByType('resource')"
                   ".map(e => ({name: e.name, status: e.responseStatus}))"))


def test_a_finished_import_shows_its_zone_warning_at_the_top(browser, server, staff, tmp_path):
    """TM-3 zone 482 numbers declared as EPSG:9210 are published; the page says, above everything else, which zone
    would put them in Cần Thơ, and says the import succeeded."""
    job = finished_import(staff, "zone", shapefile_in_tm3_without_prj(tmp_path), crs="EPSG:9210")
    assert job.status == ImportJob.Status.SUCCEEDED and len(job.report["warnings"]) == 1

    open_job_page(browser, server, job)
    top = browser.find_element(By.CSS_SELECTOR, "ul.messagelist.import-warnings")
    assert top.is_displayed()
    (warning,) = [item.text for item in top.find_elements(By.TAG_NAME, "li")]
    assert warning.startswith("Cảnh báo / warning: diem.zip: EPSG:9210 (VN-2000 / TM-3 105-45), declared with the "
                              "import, puts the data at lon 106.")
    assert "where EPSG:5897 (VN-2000 / TM-3 zone 482 (Cần Thơ)) puts it, inside the city" in warning
    form = browser.find_element(By.CSS_SELECTOR, "#importjob_form, #content-main form")
    assert top.location["y"] < form.location["y"], "the warning must be read before the job's fields"
    assert field_text(browser, "status") == "succeeded"
    assert not browser.find_elements(By.CSS_SELECTOR, "meta[http-equiv=refresh]")  # finished: no reloading
    assert loaded_own_styles(browser)
    assert foreign_loads(browser) == []


def test_a_refused_import_names_the_feature_by_its_own_key(browser, server, staff):
    """A bow-tie parcel is refused; the page shows the job failed and names the parcel by its ma_thua, with no
    warning list (nothing was published to warn about)."""
    bowtie = {"type": "Polygon", "coordinates": [[[105.760, 10.030], [105.770, 10.040], [105.770, 10.030],
                                                  [105.760, 10.040], [105.760, 10.030]]]}
    square = {"type": "Polygon", "coordinates": [[[105.760, 10.030], [105.761, 10.030], [105.761, 10.031],
                                                  [105.760, 10.031], [105.760, 10.030]]]}
    upload = SimpleUploadedFile("thua.geojson", feature_collection([({"ma_thua": 1001}, square),
                                                                    ({"ma_thua": 1002}, bowtie)]))
    job = finished_import(staff, "refused", upload)
    assert job.status == ImportJob.Status.FAILED

    open_job_page(browser, server, job)
    assert field_text(browser, "status") == "failed"
    message = field_text(browser, "message")
    assert "1 invalid geometries (ma_thua 1002 (feature 2): Self-intersection" in message
    assert not browser.find_elements(By.CSS_SELECTOR, "ul.import-warnings")
    assert not Dataset.objects.filter(slug=f"{PREFIX}refused").exists()
    assert foreign_loads(browser) == []
