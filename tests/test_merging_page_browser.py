"""The admin's merge page in a real headless Chromium on the live gunicorn: a spec error shown with the part of the
spec at fault, the build history and report a department reads, and "Build now" queueing one build (only one)."""
import json

import pytest
from django.contrib.auth.models import User
from selenium.webdriver.common.by import By

from layers.merging.build import build
from layers.merging.models import MergedDataset
from layers.merging.services import save_merge
from tests.browser import foreign_loads, log_in, press_and_read_message
from tests.merging_made import forget_merges, publish_member, rows, square

PREFIX = "mpage-"
PASSWORD = "Thu-nghiem-2026"
A, B = f"{PREFIX}a", f"{PREFIX}b"


@pytest.fixture
def admin_user(committed_db, tmp_path):
    forget_merges(PREFIX)
    publish_member(tmp_path, A, [({"ma": "A1"}, square(0, 0, 100, 100))], 9210)
    publish_member(tmp_path, B, [({"ma": "B1"}, square(90, 0, 190, 100))], 4326)
    user = User.objects.create_user(f"{PREFIX}owner", password=PASSWORD, is_staff=True)
    yield user
    forget_merges(PREFIX)
    user.delete()


def spec(slug: str) -> dict:
    return {"slug": slug, "title_vi": "Đất gộp", "title_en": "Merged land", "sector": "land", "crs": "EPSG:5897",
            "fields": [{"name": "ma_thua", "type": "text"}],
            "members": [{"dataset": A, "priority": 1, "fields": {"ma_thua": "ma"}},
                        {"dataset": B, "priority": 2, "fields": {"ma_thua": "ma"}}]}


def test_the_merge_page_shows_errors_history_and_report_and_queues_one_build(browser, server, admin_user):
    log_in(browser, server, admin_user.username, PASSWORD)
    browser.get(f"{server}/admin/layers/mergeddataset/add/")
    bad = spec(f"{PREFIX}city")
    bad["members"][1]["fields"] = {"ma_thua": "so_thua"}
    area = browser.find_element(By.NAME, "spec_text")
    area.clear()
    area.send_keys(json.dumps(bad, ensure_ascii=False))
    browser.find_element(By.NAME, "_save").click()
    error = browser.find_element(By.CSS_SELECTOR, ".errorlist").text
    assert "members[1].fields.ma_thua" in error and f"member {B}" in error and "'so_thua' does not exist" in error
    assert not MergedDataset.objects.filter(slug=f"{PREFIX}city").exists()

    merge, _ = save_merge(spec(f"{PREFIX}city"), admin_user)
    assert build(merge.pk).status == "succeeded"
    browser.get(f"{server}/admin/layers/mergeddataset/{merge.pk}/change/")
    history = browser.find_element(By.CSS_SELECTOR, ".field-build_history table").text
    assert "succeeded" in history
    report = browser.find_element(By.CSS_SELECTOR, ".field-last_report").text
    assert "overlaps" in report and f"{A} – {B}" in report and "1000" in report.replace(",", "")
    assert foreign_loads(browser) == []
    build_now = "//button[contains(., 'Build now')]"
    assert "build queued" in press_and_read_message(browser, build_now)
    assert "already queued" in press_and_read_message(browser, build_now)
    assert rows("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'build_merge' AND status = 'todo' AND "
                "queueing_lock = %s", (f"merge:{merge.pk}",))[0][0] == 1
