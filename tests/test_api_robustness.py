"""Faults an outside review found in the OGC API (issue 8: H2, M5 and two Low items), over real HTTP.

- HTML pages of a dataset published after a worker had rendered its first HTML page answered 500 (pygeoapi
  cached the translated configuration per locale only, in a module global);
- anonymous requests that answered 500 (limit=true, NaN bbox, zero-width bbox in VN-2000, /TileMatrixSets/{id});
- unknown query parameters were ignored; skipGeometry/resulttype accepted anything;
- every 4xx was logged with a full traceback.
Plus contract tests for each place we change pygeoapi (sdi/ogcapi/adapter.py).
"""
import json
import logging
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from layers.models import Dataset
from layers.registry.services import DatasetMetadata, delete_dataset, import_vector_dataset

REPO = Path(__file__).resolve().parent.parent
VN2000_TM3 = "http://www.opengis.net/def/crs/EPSG/0/5897"
META = DatasetMetadata(title_vi="Trạm bơm mới", title_en="New pumping stations", sector="environment",
                       licence_name="CC BY 4.0", attribution="Sở Nông nghiệp (test)")


def get(url, **kwargs):
    return requests.get(url, timeout=30, allow_redirects=False, **kwargs)


def assert_ogc_exception(response, status, fragment):
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/json"), response.headers["Content-Type"]
    body = response.json()
    assert body["code"] and body["type"] == body["code"]
    assert fragment in body["description"], body["description"]


def write_stations(path: Path) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ten_tram": "Trạm bơm Cái Răng"},
         "geometry": {"type": "Point", "coordinates": [105.77, 10.0]}},
    ]}, ensure_ascii=False), encoding="utf-8")
    return path


# -- H2: HTML after publishing, in every language and for every base URL -------------------------------------

def test_html_pages_of_a_dataset_published_after_html_was_served(committed_db, start_server, tmp_path):
    url = start_server(workers=1)  # one worker: the process that rendered HTML before is the one asked after
    port = urlparse(url).port
    hosts = [f"127.0.0.1:{port}", f"localhost:{port}"]  # two base URLs, two pygeoapi API objects
    for host in hosts:
        for lang in ("vi", "en"):
            assert get(f"{url}/ogcapi/collections", params={"f": "html", "lang": lang},
                       headers={"Host": host}).status_code == 200

    slug = "t-late-html"
    import_vector_dataset(write_stations(tmp_path / "stations.geojson"), slug=slug, metadata=META)
    try:
        for host in hosts:
            other = next(h for h in hosts if h != host)
            for lang, title in (("vi", META.title_vi), ("en", META.title_en)):
                for page in (f"collections/{slug}", f"collections/{slug}/items"):
                    response = get(f"{url}/ogcapi/{page}", params={"f": "html", "lang": lang}, headers={"Host": host})
                    assert response.status_code == 200, (host, lang, page, response.text[:300])
                    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
                    assert title in response.text, (host, lang, page)
                    assert f"http://{host}/ogcapi/collections/{slug}" in response.text, (host, lang, page)
                    assert f"http://{other}/" not in response.text, (host, lang, page)
    finally:
        if Dataset.objects.filter(slug=slug).exists():
            delete_dataset(slug)

    for page in (f"collections/{slug}", f"collections/{slug}/items"):
        response = get(f"{url}/ogcapi/{page}", params={"f": "html"})
        assert response.status_code == 404, (page, response.status_code)


def test_html_of_a_restricted_dataset_for_its_user_after_an_anonymous_html_page(committed_db, start_server, tmp_path):
    """Users who may see different datasets get different API objects; their HTML must follow their own."""
    from dataclasses import replace

    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    url = start_server(workers=1)
    assert get(f"{url}/ogcapi/collections", params={"f": "html"}).status_code == 200  # anonymous first
    user = User.objects.create_user("t-html-reader", password="pw")
    token = Token.objects.create(user=user).key
    slug = "t-restricted-html"
    try:
        result = import_vector_dataset(write_stations(tmp_path / "restricted.geojson"), slug=slug,
                                       metadata=replace(META, access_level="restricted"))
        result.dataset.allowed_users.add(user)
        from layers.registry.services import registry_changed
        registry_changed()
        for lang, title in (("vi", META.title_vi), ("en", META.title_en)):
            response = get(f"{url}/ogcapi/collections/{slug}", params={"f": "html", "lang": lang},
                           headers={"Authorization": f"Token {token}"})
            assert response.status_code == 200, (lang, response.text[:300])
            assert title in response.text
        assert get(f"{url}/ogcapi/collections/{slug}", params={"f": "html"}).status_code == 404
    finally:
        if Dataset.objects.filter(slug=slug).exists():
            delete_dataset(slug)
        user.delete()


def test_contract_pygeoapi_still_caches_the_translated_config_where_we_neutralise_it(monkeypatch):
    """If a pygeoapi upgrade renames or removes l10n._cfg_cache or changes translate_struct, say so loudly."""
    from pygeoapi import l10n

    from sdi.ogcapi import adapter

    adapter.install()
    assert hasattr(l10n, "_cfg_cache"), "pygeoapi.l10n._cfg_cache is gone: review adapter seam 1"
    assert isinstance(l10n._cfg_cache, adapter.NothingCached)
    assert l10n.translate_struct is adapter.translate_struct
    monkeypatch.delattr(l10n, "_cfg_cache")
    with pytest.raises(RuntimeError, match="_cfg_cache"):
        adapter.install()


def test_contract_templates_see_the_configuration_they_are_given(tmp_path):
    """Through pygeoapi's own render_j2_template: two configurations, same locale, each renders its own."""
    from pygeoapi.l10n import str2locale
    from pygeoapi.util import render_j2_template

    from sdi.ogcapi import adapter

    adapter.install()
    (tmp_path / "probe.html").write_text("{{ config['server']['url'] }} {{ config['resources'] | list | join(',') }}")

    def render(url, resources):
        config = {"server": {"url": url, "locale_dir": str(REPO / "config" / "locale")},
                  "resources": {name: {"title": {"vi": name, "en": name}} for name in resources}}
        return render_j2_template(config, {"path": str(tmp_path)}, "probe.html", {}, str2locale("vi"))

    assert render("http://a/ogcapi", ["old"]) == "http://a/ogcapi old"
    assert render("http://b/ogcapi", ["old", "new"]) == "http://b/ogcapi old,new"
    assert render("http://a/ogcapi", ["old"]) == "http://a/ogcapi old"


def test_translations_of_a_replaced_api_are_forgotten():
    """api_cache drops the translated configuration of an API it replaces, so old registry versions do not
    stay in memory."""
    from pygeoapi import l10n

    from sdi.ogcapi import adapter

    adapter.install()
    config = {"server": {"url": "http://c/ogcapi"}, "resources": {"x": {"title": {"vi": "X vi", "en": "X en"}}}}
    translated = l10n.translate_struct(config, l10n.str2locale("en"), True)
    assert translated["resources"]["x"]["title"] == "X en"
    assert l10n.translate_struct(config, l10n.str2locale("en"), True) is translated  # cached
    adapter.forget_translations(config)
    assert l10n.translate_struct(config, l10n.str2locale("en"), True) is not translated


# -- M5: anonymous requests that answered 500 ------------------------------------------------------------------

@pytest.mark.parametrize("params, fragment", [
    ({"limit": "true"}, "limit value should be an integer"),
    ({"limit": "false"}, "limit value should be an integer"),
    ({"bbox": "nan,nan,nan,nan"}, "finite"),
    ({"bbox": "105,10,inf,11"}, "finite"),
    ({"skipGeometry": "maybe"}, "skipGeometry"),
    ({"resulttype": "bogus"}, "resulttype"),
    ({"filter-lang": "sql", "filter": "name = 'x'"}, "filter-lang"),
])
def test_bad_values_are_a_400_with_an_ogc_exception(ogcapi, params, fragment):
    assert_ogc_exception(get(f"{ogcapi}/collections/cantho-districts/items", params=params), 400, fragment)


@pytest.mark.parametrize("bbox", [
    "587000,1100000,587000,1120000",  # zero width (ST_Segmentize with 0 was a 500)
    "580000,1100000,590000,1100000",  # zero height
    "587000,1100000,587000,1100000",  # a point
])
def test_a_degenerate_bbox_in_vn2000_is_answered(ogcapi, bbox):
    response = get(f"{ogcapi}/collections/cantho-districts/items", params={"bbox": bbox, "bbox-crs": VN2000_TM3})
    assert response.status_code == 200, response.text[:300]
    assert response.json()["type"] == "FeatureCollection"


def test_a_zero_width_bbox_in_vn2000_finds_what_it_crosses(ogcapi):
    """The line x = 587 km (VN-2000 TM-3 105°45') crosses Cần Thơ's urban districts."""
    body = get(f"{ogcapi}/collections/cantho-districts/items",
               params={"bbox": "587000,1100000,587000,1120000", "bbox-crs": VN2000_TM3}).json()
    assert body["numberReturned"] > 0


def test_a_bbox_beyond_where_its_crs_is_defined_is_answered(ogcapi):
    """PostGIS cannot transform such points ("Point outside of projection domain" was a 500)."""
    response = get(f"{ogcapi}/collections/cantho-districts/items",
                   params={"bbox": "-1e300,-1e300,1e300,1e300", "bbox-crs": VN2000_TM3})
    assert response.status_code == 200, response.text[:300]
    assert response.json()["numberReturned"] == 9


def test_every_tile_matrix_set_link_we_advertise_answers(ogcapi):
    listing = get(f"{ogcapi}/TileMatrixSets")
    assert listing.status_code == 200
    hrefs = {link["href"] for tms in listing.json()["tileMatrixSets"] for link in tms["links"]}
    hrefs |= {link["href"] for link in listing.json()["links"]}
    assert any("/TileMatrixSets/WebMercatorQuad" in href for href in hrefs)
    for href in hrefs:
        response = get(href)
        assert response.status_code == 200, (href, response.status_code)
    assert get(f"{ogcapi}/TileMatrixSets/WebMercatorQuad").json()["id"] == "WebMercatorQuad"


def test_an_unknown_tile_matrix_set_is_a_404(ogcapi):
    assert_ogc_exception(get(f"{ogcapi}/TileMatrixSets/NoSuchGrid"), 404, "NoSuchGrid")


# -- Low: unknown query parameters -----------------------------------------------------------------------------

def test_an_unknown_query_parameter_is_a_400_naming_it(ogcapi):
    response = get(f"{ogcapi}/collections/cantho-districts/items", params={"nosuch": "1"})
    assert_ogc_exception(response, 400, "'nosuch'")
    assert_ogc_exception(get(f"{ogcapi}/collections/cantho-districts/items/1", params={"nosuch": "1"}), 400, "'nosuch'")
    # a misspelt parameter no longer returns everything
    assert_ogc_exception(get(f"{ogcapi}/collections/cantho-districts/items", params={"Name": "Quận Ninh Kiều"}),
                         400, "'Name'")


def test_queryables_and_every_declared_parameter_are_accepted(ogcapi):
    response = get(f"{ogcapi}/collections/cantho-districts/items", params={
        "name": "Quận Ninh Kiều", "f": "json", "lang": "en", "limit": "5", "offset": "0", "resulttype": "results",
        "skipGeometry": "TRUE", "properties": "name", "sortby": "-name",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/4326",
        "bbox": "105.7,10.0,105.9,10.1", "bbox-crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "filter": "level2_id = '916'", "filter-lang": "cql2-text",
        "filter-crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"})
    assert response.status_code == 200, response.text[:300]
    features = response.json()["features"]
    assert [f["properties"]["name"] for f in features] == ["Quận Ninh Kiều"]
    assert features[0]["geometry"] is None
    hits = get(f"{ogcapi}/collections/cantho-districts/items", params={"resulttype": "hits", "cursor": "0",
                                                                        "datetime": "2020-01-01T00:00:00Z"})
    assert hits.status_code == 200 and hits.json()["numberMatched"] == 9


def test_the_openapi_document_declares_what_items_accept_and_nothing_free_form(ogcapi):
    openapi = get(f"{ogcapi}/openapi", params={"f": "json"}).json()
    assert "vendorSpecificParameters" not in json.dumps(openapi)
    declared = set()
    for parameter in openapi["paths"]["/collections/cantho-districts/items"]["get"]["parameters"]:
        if "$ref" in parameter:
            assert parameter["$ref"].startswith("#/components/parameters/"), parameter
            parameter = openapi["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        declared.add(parameter["name"])
    from sdi.ogcapi.query_checks import ITEMS_PARAMETERS
    assert declared == ITEMS_PARAMETERS | {"level1_id", "level2_id", "name"}


def test_gdal_with_a_spatial_and_attribute_filter_still_works(ogcapi):
    """GDAL's OAPIF driver (QGIS's GDAL tools, ogr2ogr) sends only parameters we accept."""
    result = subprocess.run(["ogrinfo", "-ro", "-q", "-geom=NO", "-spat", "105.7", "10.0", "105.9", "10.1",
                             "-where", "level2_id = '916'", f"OAPIF:{ogcapi}", "cantho-districts"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Quận Ninh Kiều" in result.stdout
    assert "ERROR" not in result.stderr, result.stderr


# -- Low: one log line per client error ------------------------------------------------------------------------

def test_client_errors_are_logged_on_one_line_each_without_traceback(django_db_setup, start_server):
    (REPO / ".pytest_cache").mkdir(exist_ok=True)  # where the server fixture writes each server's log
    url = start_server(workers=1)
    log = REPO / ".pytest_cache" / f"server-{urlparse(url).port}.log"
    requests_made = {
        "/ogcapi/collections/khong-co/items": 404,  # pygeoapi's 404
        "/ogcapi/collections/cantho-districts/items?sortby=khong-co": 400,  # pygeoapi's 400 from get_exception
        "/ogcapi/collections/cantho-districts?f=xml": 400,  # pygeoapi's format exception
        "/ogcapi/collections/cantho-districts/items/999999": 404,  # the provider's not-found
        "/ogcapi/collections/cantho-districts/items?nosuch=1": 400,  # ours
        "/ogcapi/TileMatrixSets/khong-co": 404,  # ours
    }
    for path, status in requests_made.items():
        assert get(url + path).status_code == status, path
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # gunicorn's workers write the log asynchronously to the test
        text = log.read_text(encoding="utf-8", errors="replace")
        if text.count("django.request") >= len(requests_made):
            break
        time.sleep(0.2)
    lines = [line for line in text.splitlines() if not re.search(r'"(GET|HEAD) /', line)]  # not the access log
    assert "Traceback" not in text
    app_lines = [line for line in lines if re.search(r" [A-Z]+ (django\.request|pygeoapi[\w.]*): ", line)]
    assert len(app_lines) == len(requests_made), "\n".join(app_lines)
    assert any("Not Found: /ogcapi/collections/khong-co/items (NotFound: Collection not found)" in line
               for line in app_lines), "\n".join(app_lines)
    assert any("Bad Request: /ogcapi/collections/cantho-districts/items (InvalidParameterValue: unknown query "
               "parameter 'nosuch'" in line for line in app_lines), "\n".join(app_lines)


def test_server_errors_keep_their_traceback_client_errors_do_not():
    """The filters themselves: pygeoapi's record of a 5xx passes with its traceback; of a 4xx it is dropped."""
    from sdi.ogcapi import request_log

    drop = request_log.DropPygeoapiClientErrors()
    try:
        raise ValueError("boom")
    except ValueError:
        import sys
        record = logging.LogRecord("pygeoapi.api", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    with request_log.answering(500, "NoApplicableCode: boom"):
        assert drop.filter(record) and record.exc_info is not None
    with request_log.answering(404, "NotFound: no"):
        assert not drop.filter(record)
    assert drop.filter(record)  # outside pygeoapi's exception handler nothing is dropped


def test_contract_pygeoapi_exception_handlers_are_wrapped():
    """API.get_exception / get_format_exception are the two places pygeoapi logs a 4xx (seam 2)."""
    import inspect

    from pygeoapi.api import API

    from sdi.ogcapi import adapter

    adapter.install()
    assert getattr(API.get_exception, "sdi_patched", False)
    assert getattr(API.get_format_exception, "sdi_patched", False)
    assert list(inspect.signature(API.get_exception.__wrapped__).parameters) == [
        "self", "status", "headers", "format_", "code", "description"]


def test_a_filter_crs_postgis_cannot_transform_is_a_400_naming_it(ogcapi):
    """EPSG:10160 is known to PROJ (so the filter parses) but not to PostGIS 3.3's spatial_ref_sys: the
    client's choice of CRS, so a 400 with an OGC exception naming it, never a 500."""
    response = requests.get(f"{ogcapi}/collections/cantho-districts/items", timeout=30, params={
        "filter": "S_INTERSECTS(geometry, POINT(1 2))", "filter-lang": "cql2-text",
        "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/10160"})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] and "EPSG:10160" in body["description"]
