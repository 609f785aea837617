"""The dataset pages (/datasets/<slug>) and the leaders' page (/lanh-dao) over real HTTP (the `server` gunicorn):
what they say, that their table says what `summarise()` says, their CSV link, who may see them, refusals, English.

Figures are compared with `layers.summaries.compute.summarise()` run here on the same test database.
"""
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import AnonymousUser, User

from layers.pages.leaders import PanelsInvalid, read_panels
from layers.models import Dataset
from layers.registry.services import DatasetMetadata, import_vector_dataset, registry_changed
from layers.summaries.compute import SummaryRequest, summarise
from tests.conftest import REPO, ServerProcess
from tests.imports_made import forget_prefixed

PREFIX = "pgs-"
PASSWORD = "Trang-thu-2026"
POPULATION = "cantho-districts-population-2009"
VI_NUMBER = re.compile(r"^\d{1,3}(\.\d{3})*(,\d+)?$")
EN_NUMBER = re.compile(r"^\d{1,3}(,\d{3})*(\.\d+)?$")


class SummaryTableParser(HTMLParser):
    """The rows of a page's summary table: unit code, unit name, category, and each figure's text and raw value."""

    def __init__(self):
        super().__init__()
        self.rows, self.cell, self.h1, self.in_h1, self.texts = [], None, "", False, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h1":
            self.in_h1 = True
        if tag == "tr" and "data-unit-code" in attrs:
            self.rows.append({"unit_code": attrs["data-unit-code"]})
        if tag == "td" and self.rows and self.cell is None and attrs.get("class"):
            name = [c for c in attrs["class"].split() if c in ("unit-name", "category", "count", "value")]
            if name and not self.rows[-1].get("closed"):
                self.cell = name[0]
                self.rows[-1][f"{self.cell}_raw"] = attrs.get("data-value")
                self.rows[-1][self.cell] = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self.cell = None
        if tag == "h1":
            self.in_h1 = False
        if tag == "tbody" and self.rows:
            self.rows[-1]["closed"] = True

    def handle_data(self, data):
        if self.cell:
            self.rows[-1][self.cell] += data
        if self.in_h1:
            self.h1 += data


def page(url: str, session=None, **kwargs) -> requests.Response:
    return (session or requests).get(url, timeout=60, **kwargs)


def table_of(response) -> tuple[str, list[dict]]:
    parser = SummaryTableParser()
    parser.feed(response.text)
    return parser.h1.strip(), [row for row in parser.rows if "unit-name" in row]


def vi_number(text: str) -> float:
    """ "1.234,5 ha" → 1234.5"""
    number = text.split("\u00a0")[0]
    assert VI_NUMBER.match(number), f"{text!r} is not written as a Vietnamese number"
    return float(number.replace(".", "").replace(",", "."))


def figures(request: SummaryRequest, user=None) -> dict:
    return summarise(request, user or AnonymousUser())


def test_population_page_shows_the_dataset_and_its_links(server, committed_db):
    response = page(f"{server}/datasets/{POPULATION}")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "vi" and "text/html" in response.headers["Content-Type"]
    html = response.text
    assert unicodedata.is_normalized("NFC", html)
    h1, _ = table_of(response)
    assert h1 == "Quận, huyện Cần Thơ và dân số 2009"
    assert '<html lang="vi">' in html
    assert "CC BY-SA 4.0 — <span class=\"url\">https://creativecommons.org/licenses/by-sa/4.0/</span>" in html
    assert "© Open Development Mekong" in html and "Dân số" in html
    assert re.search(r'class="feature-count">9 \(', html)
    links = dict(re.findall(r'<a id="link-(\w+)" href="([^"]+)"', html))
    qgis = re.search(r'<code id="link-qgis">([^<]+)</code>', html).group(1)
    assert qgis == f"{server}/ogcapi"
    assert page(links["collection"]).status_code == 200
    items = page(links["items"])
    assert items.status_code == 200 and items.headers["Content-Type"].startswith("application/geo+json")
    assert len(items.json()["features"]) == 9
    assert links["csv"].startswith(f"/api/summaries/{POPULATION}?")


def test_the_table_says_what_summarise_says(server, committed_db):
    """Default: area by district in ha (vi-VN numbers); the raw figure of each row is summarise()'s exactly."""
    response = page(f"{server}/datasets/{POPULATION}")
    _, rows = table_of(response)
    expected = figures(SummaryRequest(POPULATION))
    assert expected["measure"] == "area" and len(expected["rows"]) == 9
    assert [(r["unit_code"], r["unit-name"]) for r in rows] == [(str(e["unit_code"]), e["unit_name"])
                                                                 for e in expected["rows"]]
    for row, want in zip(rows, expected["rows"]):
        assert float(row["value_raw"]) == want["value"]
        assert vi_number(row["value"]) == pytest.approx(round(want["value"] / 10_000, 1), abs=1e-9)
        assert int(row["count_raw"]) == want["count"]
    assert all(re.search(r",\d$", row["value"]) for row in rows)  # one decimal always: "32.034,0", not "32.034"
    assert re.search(r"Số liệu tính lúc \d{4}-\d\d-\d\d \d\d:\d\d UTC", response.text)
    total = re.search(r'class="num value total">([^<]+)<', response.text).group(1)
    assert total.endswith("\u00a0ha")
    assert vi_number(total) == pytest.approx(round(expected["totals"]["value"] / 10_000, 1))


def test_the_population_sum_per_district(server, committed_db):
    response = page(f"{server}/datasets/{POPULATION}", params={"measure": "sum", "attribute": "Dan_So"})
    assert response.status_code == 200
    _, rows = table_of(response)
    expected = figures(SummaryRequest(POPULATION, measure="sum", attribute="Dan_So"))
    assert [float(r["value_raw"]) for r in rows] == [e["value"] for e in expected["rows"]]
    assert [vi_number(r["value"]) for r in rows] == [pytest.approx(round(e["value"], 1)) for e in expected["rows"]]
    assert "Tổng Dan_So" in response.text
    assert max(e["value"] for e in expected["rows"]) > 1000  # so the grouping separator is exercised
    assert any("." in r["value"] for r in rows)


def test_the_csv_link_gives_the_same_figures(server, committed_db):
    response = page(f"{server}/datasets/{POPULATION}", params={"measure": "sum", "attribute": "Dan_So"})
    link = re.search(r'<a id="link-csv" href="([^"]+)"', response.text).group(1).replace("&amp;", "&")
    assert "measure=sum" in link and "attribute=Dan_So" in link and "format=csv" in link
    answer = page(f"{server}{link}")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    expected = figures(SummaryRequest(POPULATION, measure="sum", attribute="Dan_So"))["rows"]
    body = table[1:]
    assert len(body) == len(expected)
    for line, want in zip(body, expected):
        assert str(want["unit_code"]) in line and want["unit_name"] in line
        assert any(_is_close(cell, want["value"]) for cell in line), (line, want)


def _is_close(cell: str, value: float) -> bool:
    try:
        return abs(float(cell) - value) <= 1e-6 * max(1.0, abs(value))
    except ValueError:
        return False


def test_grouped_by_category_the_table_has_one_row_per_unit_and_category(server, committed_db):
    request = SummaryRequest("cantho-communes-2009", measure="count", category="district_vn")
    response = page(f"{server}/datasets/cantho-communes-2009",
                    params={"measure": "count", "category": "district_vn"})
    assert response.status_code == 200
    _, rows = table_of(response)
    expected = [e for e in figures(request)["rows"] if e["count"]]  # rows with nothing are left out
    assert [(r["unit_code"], r["category"], int(r["count_raw"])) for r in rows] == [
        (str(e["unit_code"]), e["category"], e["count"]) for e in expected]
    assert sum(int(r["count_raw"]) for r in rows) == 85 and len({r["unit_code"] for r in rows}) == 9


def test_english_on_request(server, committed_db):
    response = page(f"{server}/datasets/{POPULATION}", params={"lang": "en", "measure": "sum", "attribute": "Dan_So"})
    assert response.status_code == 200 and response.headers["Content-Language"] == "en"
    h1, rows = table_of(response)
    assert h1 == "Cần Thơ districts with 2009 census population"
    assert '<html lang="en">' in response.text and ">Units" in response.text and "Sum of Dan_So" in response.text
    assert all(EN_NUMBER.match(r["value"]) for r in rows), [r["value"] for r in rows]
    assert 'name="lang" value="en"' in response.text  # the form keeps the language
    assert "lang=en" in re.search(r'<a id="link-csv" href="([^"]+)"', response.text).group(1)
    by_header = page(f"{server}/datasets/{POPULATION}", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert by_header.headers["Content-Language"] == "en" and table_of(by_header)[0] == h1
    vietnamese = page(f"{server}/datasets/{POPULATION}", params={"lang": "vi"},
                      headers={"Accept-Language": "en"})
    assert vietnamese.headers["Content-Language"] == "vi"


@pytest.mark.parametrize("params, field, words", [
    ({"units": "cantho-provinces"}, "units", "cantho-districts, cantho-communes-2009, cantho-wards-2025"),
    ({"measure": "volume"}, "measure", "auto, count, length, area, sum, mean"),
    ({"category": "Khong_Co"}, "category", "is not a text attribute"),
    ({"measure": "sum", "attribute": "Ten_Huyen"}, "attribute", "is not a numeric attribute"),
    ({"measure": "sum"}, "attribute", "needs a numeric attribute"),  # the summaries' own refusal
    ({"measure": "length"}, "measure", "needs lines"),
])
def test_a_choice_the_page_cannot_answer_is_a_400_naming_it(server, committed_db, params, field, words):
    response = page(f"{server}/datasets/{POPULATION}", params=params)
    assert response.status_code == 400
    message = re.search(r'<span id="refused-message">([^<]+)</span>', response.text).group(1)
    message = message.replace("&#x27;", "'")
    assert message.startswith(f"{field}:") and words in message, message
    assert "summary-table" not in response.text and "<canvas" not in response.text
    assert "<h1>Quận, huyện Cần Thơ và dân số 2009</h1>" in response.text  # the page itself is still there


@pytest.fixture
def districts_hidden(committed_db):
    """The default units layer made internal for a while: anonymous readers cannot have figures per district."""
    Dataset.objects.filter(slug="cantho-districts").update(access_level=Dataset.Access.INTERNAL)
    registry_changed()
    yield
    Dataset.objects.filter(slug="cantho-districts").update(access_level=Dataset.Access.PUBLIC)
    registry_changed()


def test_the_page_stays_a_200_when_its_default_figures_cannot_be_given(server, districts_hidden):
    url = f"{server}/datasets/{POPULATION}"
    response = page(url)
    assert response.status_code == 200 and "summary-table" not in response.text
    assert "units: no dataset &#x27;cantho-districts&#x27;" in response.text
    assert page(url, params={"units": "cantho-districts"}).status_code == 400  # asked for: the reader's error
    wards = page(url, params={"units": "cantho-wards-2025", "measure": "sum", "attribute": "Dan_So"})
    assert wards.status_code == 200 and len(table_of(wards)[1]) == 103


@pytest.fixture
def hidden(committed_db, tmp_path):
    """A restricted dataset of two points in Ninh Kiều, owned by one user; another user sees nothing of it (both
    staff, so that they can sign in through the admin's form; staff see no restricted data by being staff)."""
    owner = User.objects.create_user(f"{PREFIX}owner", password=PASSWORD, is_staff=True)
    User.objects.create_user(f"{PREFIX}other", password=PASSWORD, is_staff=True)
    source = tmp_path / "diem.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ten": name}, "geometry": {"type": "Point", "coordinates": xy}}
        for name, xy in (("Trạm A", [105.775, 10.03]), ("Trạm B", [105.78, 10.035]))]}, ensure_ascii=False),
        encoding="utf-8")
    metadata = DatasetMetadata(title_vi="Trạm kín (thử)", title_en="Hidden stations (test)", sector="public-order",
                               licence_name="Nội bộ", attribution="Thử nghiệm", access_level="restricted")
    dataset = import_vector_dataset(source, slug=f"{PREFIX}hidden", metadata=metadata).dataset
    dataset.owners.add(owner)
    yield dataset
    forget_prefixed(PREFIX)


def signed_in(server: str, username: str) -> requests.Session:
    """A session signed in through the admin's login form, as a browser would be."""
    session = requests.Session()
    form = session.get(f"{server}/admin/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = session.post(f"{server}/admin/login/", timeout=30, allow_redirects=False,
                          data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token,
                                "next": "/"}, headers={"Referer": f"{server}/admin/login/"})
    assert answer.status_code == 302, answer.text[:300]
    return session


def test_a_dataset_the_reader_may_not_see_is_a_404(server, hidden):
    url = f"{server}/datasets/{hidden.slug}"
    assert page(url).status_code == 404
    assert page(url, session=signed_in(server, f"{PREFIX}other")).status_code == 404
    assert page(f"{server}/datasets/no-such-dataset").status_code == 404
    assert requests.post(f"{server}/datasets/{POPULATION}", timeout=30).status_code == 405
    assert requests.head(f"{server}/datasets/{POPULATION}", timeout=30).status_code == 200
    assert hidden.slug not in page(f"{server}/").text
    owner = signed_in(server, f"{PREFIX}owner")
    response = page(url, session=owner, params={"measure": "count"})
    assert response.status_code == 200
    _, rows = table_of(response)
    expected = figures(SummaryRequest(hidden.slug, measure="count"), User.objects.get(username=f"{PREFIX}owner"))
    assert [int(r["count_raw"]) for r in rows] == [e["count"] for e in expected["rows"]]
    assert sum(int(r["count_raw"]) for r in rows) == 2
    assert f'href="/datasets/{hidden.slug}"' in page(f"{server}/", session=owner).text


def test_the_home_page_links_every_dataset_to_its_page_and_the_leaders_page(server, committed_db):
    html = page(f"{server}/").text
    assert '<a id="leaders-link" href="/lanh-dao">Bảng số liệu lãnh đạo / Leaders\' figures</a>' in html
    for slug in (POPULATION, "cantho-districts", "cantho-wards-2025"):
        assert f'<a class="dataset-page" href="/datasets/{slug}">' in html
        assert page(f"{server}/datasets/{slug}").status_code == 200


def panel_html(html: str, key: str) -> str:
    match = re.search(rf'<section class="panel" id="panel-{key}"(.*?)</section>', html, re.S)
    assert match, f"no panel {key}"
    return match.group(1)


def test_the_leaders_page_shows_each_panel_with_its_figure(server, committed_db):
    response = page(f"{server}/lanh-dao")
    assert response.status_code == 200 and response.headers["Content-Language"] == "vi"
    html = response.text
    assert "<h1>Bảng số liệu lãnh đạo</h1>" in html
    panels = read_panels(REPO / "config" / "leaders.yml")
    assert [p.key for p in panels] == re.findall(r'<section class="panel" id="panel-([a-z0-9-]+)"', html)
    population = panel_html(html, "dan-so-2009")
    assert 'data-available="true"' in population
    expected = figures(SummaryRequest(POPULATION, measure="sum", attribute="Dan_So"))
    headline = re.search(r'<p class="headline">([^<]+)</p>', population).group(1)
    assert headline.endswith("\u00a0người")  # the panel's unit_vi, with digits: 0
    assert vi_number(headline) == round(expected["totals"]["value"])
    chart = json.loads(re.search(r'<script id="chart-data-dan-so-2009" type="application/json">(.*?)</script>',
                                 html, re.S).group(1))
    assert chart["labels"] == [row["unit_name"] for row in expected["rows"]]
    assert chart["datasets"][0]["data"] == [pytest.approx(row["value"]) for row in expected["rows"]]
    link = re.search(r'class="dataset-link" href="([^"]+)"', population).group(1).replace("&amp;", "&")
    assert link.startswith(f"/datasets/{POPULATION}?") and "attribute=Dan_So" in link
    assert page(f"{server}{link}").status_code == 200
    health = panel_html(html, "co-so-y-te")
    assert 'data-available="true"' in health
    chart = json.loads(re.search(r'<script id="chart-data-co-so-y-te" type="application/json">(.*?)</script>',
                                 html, re.S).group(1))
    wards = figures(SummaryRequest("cantho-health-facilities", units="cantho-wards-2025", measure="count"))["rows"]
    with_some = sorted((r["value"] for r in wards if r["value"]), reverse=True)
    assert len(wards) == 103 and 0 < len(with_some)  # `top: 15`: the wards with the most facilities, none empty
    assert chart["datasets"][0]["data"] == with_some[:15] and len(chart["labels"]) == min(15, len(with_some))


def test_a_panel_whose_dataset_is_missing_or_hidden_says_not_available(committed_db, hidden, tmp_path):
    panels = tmp_path / "leaders.yml"
    panels.write_text(
        "panels:\n"
        "  - {key: chua-co, title_vi: Chưa có, title_en: Not yet, dataset: chua-co-lop-nay}\n"
        f"  - {{key: kin, title_vi: Kín, title_en: Hidden, dataset: {hidden.slug}, measure: count}}\n"
        f"  - {{key: dan-so, title_vi: Dân số, title_en: People, dataset: {POPULATION}, measure: sum, "
        "attribute: Dan_So}\n"
        f"  - {{key: sai, title_vi: Sai, title_en: Wrong, dataset: {POPULATION}, measure: mean}}\n",
        encoding="utf-8")
    server = ServerProcess(workers=1, env={"SDI_LEADERS_PANELS": str(panels)})
    try:
        html = page(f"{server.url}/lanh-dao").text
        for key in ("chua-co", "kin"):
            assert re.search(r'<p class="headline not-available">chưa có dữ liệu</p>', panel_html(html, key))
        assert 'data-available="true"' in panel_html(html, "dan-so")
        assert "attribute: measure mean needs a numeric attribute" in panel_html(html, "sai")
        english = page(f"{server.url}/lanh-dao", params={"lang": "en"}).text
        assert "not available yet" in panel_html(english, "chua-co") and "<h1>Leaders&#x27; figures</h1>" in english
    finally:
        server.stop()


def test_the_leaders_page_in_english(server, committed_db):
    response = page(f"{server}/lanh-dao", params={"lang": "en"})
    assert response.status_code == 200 and response.headers["Content-Language"] == "en"
    html = response.text
    assert "2009 population by district" in html
    headline = re.search(r'<p class="headline">([^<]+)</p>', panel_html(html, "dan-so-2009")).group(1)
    figure, unit = headline.split("\u00a0")
    assert EN_NUMBER.match(figure) and "," in figure and unit == "people", headline
    assert "lang=en" in re.search(r'class="dataset-link" href="([^"]+)"', panel_html(html, "dan-so-2009")).group(1)


A_PANEL = "  - {key: a, title_vi: A, title_en: A, dataset: x"


@pytest.mark.parametrize("text, words", [
    (f"{A_PANEL}, colour: red}}\n", "panel 1 (a): unknown key 'colour'"),
    ("  - {key: a, title_vi: A, title_en: A}\n", "panel 1 (a): 'dataset' is required"),
    (f"{A_PANEL}}}\n  - {{key: a, title_vi: B, title_en: B, dataset: y}}\n", "panel 2 (a): 'key' must be unique"),
    (f"{A_PANEL}, top: 0}}\n", "panel 1 (a): 'top' must be"),
    (f"{A_PANEL}, digits: many}}\n", "panel 1 (a): 'digits' must be"),
    (None, "expected a list under 'panels'"),
])
def test_a_panels_file_that_cannot_be_read_is_refused_naming_file_panel_and_key(tmp_path, text, words):
    path = tmp_path / "leaders.yml"
    path.write_text("panel: []\n" if text is None else f"panels:\n{text}", encoding="utf-8")
    with pytest.raises(PanelsInvalid) as refused:
        read_panels(path)
    assert str(refused.value).startswith(str(path)) and words in str(refused.value)


def test_manage_py_check_names_a_wrong_panels_file(tmp_path):
    path = tmp_path / "leaders.yml"
    path.write_text(f"panels:\n{A_PANEL}, colour: red}}\n", encoding="utf-8")
    env = {**os.environ, "SDI_LEADERS_PANELS": str(path)}
    checked = subprocess.run([sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True,
                             text=True, timeout=120)
    assert checked.returncode != 0
    assert f"(pages.E001) {path}: panel 1 (a): unknown key 'colour'" in checked.stderr
    env["SDI_LEADERS_PANELS"] = str(REPO / "config" / "leaders.yml")
    assert subprocess.run([sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True,
                          timeout=120).returncode == 0


def test_the_default_panels_are_the_briefs():
    panels = {p.key: p for p in read_panels(REPO / "config" / "leaders.yml")}
    assert [(p.dataset, p.units, p.measure) for p in panels.values()] == [
        ("cantho-land-use", "cantho-districts", "area"), ("cantho-land-use", "cantho-wards-2025", "area"),
        (POPULATION, "cantho-districts", "sum"), ("quan-trac-moi-truong", "cantho-districts", "count"),
        ("cantho-health-facilities", "cantho-wards-2025", "count")]


def test_chart_js_is_vendored_unchanged_with_its_licence(server):
    folder = REPO / "layers" / "static" / "vendor" / "chartjs"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    script = (folder / "chart.umd.min.js").read_bytes()
    assert hashlib.sha256(script).hexdigest() in readme and "chart.js@4.6.1" in readme
    assert script.startswith(b"/*!\n * Chart.js v4.6.1")
    assert "The MIT License" in (folder / "LICENSE.md").read_text(encoding="utf-8")
    html = page(f"{server}/datasets/{POPULATION}").text
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert sources == ["/static/vendor/chartjs/chart.umd.min.js", "/static/layers/pages/charts.js"]
    served = page(f"{server}{sources[0]}")
    assert served.status_code == 200 and served.content == script
