"""The dataset page's chart and the leaders' page in a real headless Chromium (tests/browser.py) on the `server`
gunicorn: Chart.js (vendored) draws bars on the canvas, one per district, with Vietnamese labels, and nothing is
loaded from another host. The leaders' page is saved as tests/artefacts/leaders.png (git-ignored) for the README.
"""
import json
import re

from django.contrib.auth.models import AnonymousUser
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from layers.pages.leaders import read_panels
from layers.summaries.compute import SummaryRequest, summarise
from tests.browser import foreign_loads
from tests.conftest import REPO

POPULATION = "cantho-districts-population-2009"
ARTEFACTS = REPO / "tests" / "artefacts"

# How many pixels of the canvas carry a colour of the first bar series (#0b5394), and the bar count Chart.js keeps.
CHART_STATE = """
const canvas = document.getElementById(arguments[0]);
const chart = Chart.getChart(canvas);
const context = canvas.getContext('2d');
const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
let painted = 0, bar = 0;
for (let i = 0; i < pixels.length; i += 4) {
  if (pixels[i + 3] > 0) painted++;
  if (Math.abs(pixels[i] - 11) < 8 && Math.abs(pixels[i + 1] - 83) < 8 && Math.abs(pixels[i + 2] - 148) < 8
      && pixels[i + 3] > 200) bar++;
}
return {painted: painted, bar: bar, width: canvas.width, height: canvas.height,
        bars: chart ? chart.getDatasetMeta(0).data.length : null,
        series: chart ? chart.data.datasets.length : null,
        labels: chart ? chart.data.labels : null,
        locale: chart ? chart.options.locale : null};
"""


def chart_state(browser, canvas_id: str) -> dict:
    WebDriverWait(browser, 20).until(
        lambda b: b.execute_script("return typeof Chart !== 'undefined' && !!Chart.getChart(arguments[0])", canvas_id))
    return browser.execute_script(CHART_STATE, canvas_id)


def test_the_population_page_draws_nine_bars(browser, server, committed_db):
    browser.get(f"{server}/datasets/{POPULATION}?measure=sum&attribute=Dan_So")
    state = chart_state(browser, "summary-chart")
    expected = summarise(SummaryRequest(POPULATION, measure="sum", attribute="Dan_So"), AnonymousUser())
    assert state["bars"] == 9 and state["series"] == 1
    assert state["labels"] == [row["unit_name"] for row in expected["rows"]]
    assert "Quận Ninh Kiều" in state["labels"] and not all(label.isascii() for label in state["labels"])
    assert state["locale"] == "vi-VN"
    assert state["painted"] > 0.02 * state["width"] * state["height"], state
    assert state["bar"] > 500, state  # bars in the series colour, not only axes and labels
    ticks = browser.execute_script("return Chart.getChart(arguments[0]).scales.y.ticks.map(t => t.label);",
                                   "summary-chart")
    assert all(re.fullmatch(r"\d{1,3}(\.\d{3})*", tick) for tick in ticks) and "200.000" in ticks, ticks  # vi-VN
    table = browser.find_elements(By.CSS_SELECTOR, "table.summary-table tbody tr")
    assert len(table) == 9
    assert foreign_loads(browser) == []


def test_a_grouped_summary_is_drawn_as_stacked_bars(browser, server, committed_db):
    browser.get(f"{server}/datasets/cantho-communes-2009?measure=count&category=district_vn&lang=en")
    state = chart_state(browser, "summary-chart")
    expected = summarise(SummaryRequest("cantho-communes-2009", measure="count", category="district_vn"),
                         AnonymousUser())
    categories = {row["category"] for row in expected["rows"] if row["count"]}
    assert state["series"] == len(categories) > 1 and state["bars"] == 9 and state["locale"] == "en-GB"
    stacked = browser.execute_script(
        "const c = Chart.getChart(arguments[0]); return [c.options.scales.x.stacked, c.options.scales.y.stacked];",
        "summary-chart")
    assert stacked == [True, True]
    assert state["bar"] > 100, state
    assert foreign_loads(browser) == []


def test_the_103_wards_are_drawn_as_horizontal_bars_one_line_each(browser, server, committed_db):
    browser.get(f"{server}/datasets/cantho-health-facilities?units=cantho-wards-2025")
    state = chart_state(browser, "summary-chart")
    axis, tick_labels = browser.execute_script(
        "const c = Chart.getChart(arguments[0]); return [c.options.indexAxis, c.scales.y.ticks.length];",
        "summary-chart")
    assert state["bars"] == 103 and axis == "y" and tick_labels == 103  # every ward named, none skipped
    assert state["height"] > 103 * 14 and state["bar"] > 50
    assert foreign_loads(browser) == []


def test_the_leaders_page_renders_its_panels(browser, server, committed_db):
    browser.get(f"{server}/lanh-dao")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Bảng số liệu lãnh đạo"
    panels = read_panels(REPO / "config" / "leaders.yml")
    sections = browser.find_elements(By.CSS_SELECTOR, "section.panel")
    assert [s.get_attribute("id") for s in sections] == [f"panel-{p.key}" for p in panels]
    available = [s.get_attribute("id")[len("panel-"):] for s in sections if s.get_attribute("data-available") == "true"]
    assert {"dan-so-2009", "co-so-y-te"} <= set(available)
    for key in available:
        state = chart_state(browser, f"chart-{key}")
        assert state["bars"] > 0 and state["painted"] > 0, (key, state)
    population = chart_state(browser, "chart-dan-so-2009")
    assert population["bars"] == 9 and population["bar"] > 200
    headline = browser.find_element(By.CSS_SELECTOR, "#panel-dan-so-2009 .headline").text
    data = json.loads(browser.find_element(By.ID, "chart-data-dan-so-2009").get_attribute("textContent"))
    figure, unit = headline.replace("\u00a0", " ").split(" ")  # "1.183.380 người"; .text has a space
    assert unit == "người" and int(figure.replace(".", "")) == round(sum(data["datasets"][0]["data"])), headline
    for section in sections:
        if section.get_attribute("data-available") != "true":
            assert section.find_element(By.CSS_SELECTOR, ".not-available").text == "chưa có dữ liệu"
    assert foreign_loads(browser) == []
    ARTEFACTS.mkdir(exist_ok=True)
    browser.set_window_size(1280, browser.execute_script("return document.documentElement.scrollHeight") + 40)
    shot = ARTEFACTS / "leaders.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
