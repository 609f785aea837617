"""The admin's source page in a real headless Chromium on the live gunicorn: the run history and the change log a
department reads, and "Run now" queueing one run (and only one) through the task queue."""
import pytest
from django.contrib.auth.models import User
from procrastinate.contrib.django.models import ProcrastinateJob
from selenium.webdriver.common.by import By

from layers.models import Dataset
from layers.registry.services import delete_dataset
from layers.sources.harvest import harvest
from layers.sources.models import Source
from layers.sources.services import register_source
from tests.browser import foreign_loads, log_in, press_and_read_message
from tests.sources_sector import SectorTable, sector_database, sector_dsn  # noqa: F401 - fixture

PREFIX = "brs-"
PASSWORD = "Thu-nghiem-2026"


@pytest.fixture
def admin_user(committed_db):
    user = User.objects.create_superuser(f"{PREFIX}admin", password=PASSWORD)
    yield user
    for slug in Dataset.objects.filter(slug__startswith=PREFIX).values_list("slug", flat=True):
        delete_dataset(slug)
    Source.objects.filter(slug__startswith=PREFIX).delete()
    ProcrastinateJob.objects.filter(task_name="harvest_source").delete()
    user.delete()


def test_the_source_page_shows_runs_and_changes_and_queues_one_run(browser, server, admin_user, sector_database):
    table = SectorTable()
    source = register_source(user=admin_user, slug=f"{PREFIX}thua-dat", kind="postgres", dsn=sector_dsn(),
                             table=table.qualified, key="ma_thua",
                             metadata={"title_vi": "Thửa đất (thử)", "sector": "land", "attribution": "thử"})
    assert harvest(source.pk).status == "succeeded"
    table.sql("UPDATE {t} SET \"loại_đất\" = 'TMD' WHERE ma_thua = 'NK-0002'")
    table.sql("DELETE FROM {t} WHERE ma_thua = 'NK-0003'")
    assert harvest(source.pk).changed == 1

    log_in(browser, server, admin_user.username, PASSWORD)
    browser.get(f"{server}/admin/layers/source/{source.pk}/change/")
    history = browser.find_element(By.CSS_SELECTOR, ".field-run_history table")
    rows = [r.text for r in history.find_elements(By.TAG_NAME, "tr")[1:]]
    assert len(rows) == 2 and "succeeded" in rows[0] and "+0 ~1 -1" in rows[0] and "+20 ~0 -0" in rows[1]
    log = browser.find_element(By.CSS_SELECTOR, ".field-change_log table").text
    assert "NK-0002" in log and "loại_đất=ODT" in log and "loại_đất=TMD" in log and "NK-0003" in log
    shown_dsn = browser.find_element(By.NAME, "dsn").get_attribute("value")
    assert "password" not in shown_dsn and "sdi_test_sector" not in shown_dsn, "the DSN field starts empty"
    assert "yes (encrypted)" in browser.find_element(By.CSS_SELECTOR, ".field-has_password").text
    assert foreign_loads(browser) == []

    run_now = "//button[contains(., 'Run now')]"
    assert "run queued" in press_and_read_message(browser, run_now)
    assert "already queued" in press_and_read_message(browser, run_now)
    assert ProcrastinateJob.objects.filter(task_name="harvest_source", args={"source_id": source.pk},
                                           status="todo").count() == 1
