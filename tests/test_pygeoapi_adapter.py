"""Contract tests for the seams of sdi/ogcapi/adapter.py: each fails loudly when a pygeoapi upgrade changes what
the seam relies on (or makes it unnecessary), instead of quietly bringing the old fault back.

They call pygeoapi's own functions in-process, with a real API built from the registry and the real provider on
the test database. Seams 1 and 2 (translations, exception handlers) are tested in tests/test_api_robustness.py.
"""
import inspect
import json
import logging

import pygeoapi.api as core_api
import pygeoapi.api.itemtypes as itemtypes_api
import pytest
from django.conf import settings
from django.test import RequestFactory
from pygeoapi.api import APIRequest
from pygeoapi.openapi import get_oas

from layers.serving.hints import PageHint, current_page_hint
from sdi.ogcapi import adapter, api_cache, bbox, paging
from sdi.ogcapi.conformance import CONFORMANCE_CLASSES

pytestmark = pytest.mark.django_db

SLUG = "mekong-delta-districts-population-2009"  # 228 features
ITEMS = f"http://localhost/ogcapi/collections/{SLUG}/items"
CQL2_JSON = json.dumps({"op": "=", "args": [{"property": "Ten_Tinh"}, "Cần Thơ"]})


@pytest.fixture
def api(django_db_setup):
    adapter.install()
    return api_cache.build_api("http://localhost/ogcapi", frozenset({SLUG}))


def pygeoapi_items(api, params: dict, hint: PageHint | None = None, request=None):
    """pygeoapi's own get_collection_items on a Django request, with the provider hint the web layer would set."""
    request = request or RequestFactory().get(f"/ogcapi/collections/{SLUG}/items", params, HTTP_HOST="localhost")
    token = current_page_hint.set(hint)
    try:
        return itemtypes_api.get_collection_items(api, APIRequest.from_django(request, api.locales), SLUG)
    finally:
        current_page_hint.reset(token)


def rels(content: str, rel: str) -> list[str]:
    return [link["href"] for link in json.loads(content)["links"] if link["rel"] == rel]


def test_contract_pygeoapi_appends_its_own_next_link_which_provider_links_drop(api):
    """Seam 4. The last keyset page (ids 201-228): pygeoapi still adds an offset link past the end when the
    provider gives a plain list of links (if not, the seam may go), and adds none to ProviderLinks."""
    last_page = {"limit": 100, "cursor": 200}
    _, status, content = pygeoapi_items(api, last_page, PageHint(cursor=200, keyset_links=True,
                                                                 links=lambda end: []))
    assert status == 200 and len(json.loads(content)["features"]) == 28
    assert rels(content, "next") and "offset=100" in rels(content, "next")[0], "pygeoapi no longer adds its own " \
        "next link: review sdi/ogcapi/adapter.py seam 4 (ProviderLinks)"
    _, status, content = pygeoapi_items(api, last_page, PageHint(
        cursor=200, keyset_links=True, links=paging.page_links(f"{ITEMS}?limit=100&cursor=200", "application/geo+json")))
    assert status == 200 and rels(content, "next") == [] and rels(content, "prev") == []
    # and a page that goes on has exactly our keyset link
    _, _, content = pygeoapi_items(api, {"limit": 100}, PageHint(
        keyset_links=True, links=paging.page_links(f"{ITEMS}?limit=100", "application/geo+json")))
    assert rels(content, "next") == [f"{ITEMS}?limit=100&cursor=100"]


def test_contract_the_empty_features_marker_appears_once(api):
    """Seam 5. The splice needs pygeoapi to write `"features":[]` exactly once in its compact JSON."""
    hint = PageHint(raw_json=True)
    _, status, content = pygeoapi_items(api, {"limit": 5}, hint)
    assert status == 200 and content.count(adapter.EMPTY_FEATURES) == 1, \
        "pygeoapi's items JSON changed shape: review sdi/ogcapi/adapter.py seam 5 (the GeoJSON splice)"
    assert json.loads(hint.outcome.features_json)[0]["id"] == 1


def test_contract_pygeoapi_reads_a_get_filter_as_cql2_text_only(api):
    """Seam 6. pygeoapi refuses CQL2 JSON in a GET `filter` (so we move it into the body); moved, it filters."""
    request = RequestFactory().get(f"/ogcapi/collections/{SLUG}/items",
                                   {"filter": CQL2_JSON, "filter-lang": "cql2-json"}, HTTP_HOST="localhost")
    _, status, content = pygeoapi_items(api, {}, request=request)
    assert status == 400 and "Bad CQL text" in content, \
        "pygeoapi now reads CQL2 JSON on GET: review sdi/ogcapi/adapter.py seam 6 (it may go)"
    adapter.move_cql2_json_filter_into_body(request)
    _, status, content = pygeoapi_items(api, {}, request=request)
    assert status == 200 and json.loads(content)["numberMatched"] == 9


def test_contract_our_transform_bbox_is_the_one_pygeoapi_calls(monkeypatch):
    """Seam 3. get_collection_items calls `transform_bbox` as a global of its module, which we replace."""
    adapter.install()
    assert itemtypes_api.transform_bbox is bbox.transform_bbox
    assert "transform_bbox" in itemtypes_api.get_collection_items.__code__.co_names, \
        "pygeoapi no longer calls itemtypes.transform_bbox: review sdi/ogcapi/adapter.py seam 3"
    monkeypatch.delattr(itemtypes_api, "transform_bbox")
    with pytest.raises(RuntimeError, match="transform_bbox"):
        adapter.install()


def test_contract_our_conformance_replaces_a_list_that_declares_too_much(api):
    """Seam 7. Same signature as pygeoapi's; pygeoapi's own list still claims classes we do not implement."""
    assert list(inspect.signature(core_api.conformance).parameters) == ["api", "request"]
    request = APIRequest.from_django(RequestFactory().get("/ogcapi/conformance", HTTP_HOST="localhost"), api.locales)
    theirs = set(json.loads(core_api.conformance(api, request)[2])["conformsTo"])
    ours = json.loads(adapter.conformance(api, request)[2])["conformsTo"]
    assert ours == CONFORMANCE_CLASSES
    assert theirs - set(ours), "pygeoapi declares only what we do: review sdi/ogcapi/adapter.py seam 7"


def test_contract_the_openapi_edits_find_what_they_edit(api):
    """Seam 8. pygeoapi's /items GET still references the free-form parameters we remove; after our edit the
    limit carries the server's bounds and every parameter we accept is declared."""
    raw = get_oas(api.config, fail_on_invalid_collection=False)
    refs = [p.get("$ref", "") for p in raw["paths"][f"/collections/{SLUG}/items"]["get"]["parameters"]]
    assert any(ref.endswith(adapter.UNDECLARED[0]) for ref in refs), \
        "pygeoapi's /items parameters changed: review sdi/ogcapi/adapter.py seam 8"
    adapter.adapt_openapi(raw, api.config["server"]["limits"])
    parameters = raw["components"]["parameters"]
    assert parameters["limit"]["schema"]["maximum"] == settings.SDI_ITEMS_MAX_LIMIT
    assert "vendorSpecificParameters" not in parameters
    refs = [p.get("$ref", "") for p in raw["paths"][f"/collections/{SLUG}/items"]["get"]["parameters"]]
    assert not any(ref.endswith(adapter.UNDECLARED) for ref in refs)
    assert {f"#/components/parameters/{name}" for name in adapter.DECLARED_ITEMS_PARAMETERS} <= set(refs)


def test_contract_pygeoapi_still_names_the_http_json_schema_uri(api):
    """Seam 9. pygeoapi's queryables name `http://json-schema.org/…` (Part 3 wants https): the rewrite is needed."""
    request = APIRequest.from_django(RequestFactory().get(f"/ogcapi/collections/{SLUG}/queryables",
                                                          HTTP_HOST="localhost"), api.locales)
    _, _, content = itemtypes_api.get_collection_queryables(api, request, SLUG)
    assert json.loads(content)["$schema"] == "http://json-schema.org/draft/2019-09/schema", \
        "pygeoapi names another JSON Schema dialect: review sdi/ogcapi/adapter.py seam 9"


def test_contract_the_logger_levels_quiet_what_pygeoapi_still_logs(api, caplog):
    """Seam 2's logger levels (settings.LOGGING): pygeoapi still warns on every page asked without offset."""
    assert logging.getLogger("pygeoapi.api.itemtypes").getEffectiveLevel() == logging.ERROR
    with caplog.at_level(logging.DEBUG, logger="pygeoapi.api.itemtypes"):
        pygeoapi_items(api, {"limit": 1})
    assert any(r.levelno == logging.WARNING and r.name == "pygeoapi.api.itemtypes" for r in caplog.records), \
        "pygeoapi no longer warns here: review the pygeoapi.api.itemtypes level in settings.LOGGING"


def test_contract_processor_errors_keep_their_status_only_through_our_manager(django_db_setup):
    """Seam 12. pygeoapi's DummyManager still turns a processor's ProcessorExecuteError into a failed job (a 400
    whatever the error), and still calls a client's subscriber URLs; our SynchronousManager lets the error
    reach execute_process, which answers its status (404 for a dataset the user may not see)."""
    from pygeoapi.process.manager.dummy import DummyManager
    from pygeoapi.util import JobStatus, Subscriber

    adapter.install()
    api = api_cache.build_api("http://localhost/ogcapi", frozenset({SLUG}))
    assert isinstance(api.manager, adapter.SynchronousManager) and "summary" in api.manager.processes
    definition = {"name": "Dummy", "processes": dict(api.manager.processes)}
    hidden = {"dataset": "t-no-such-dataset"}
    _, _, outputs, status, _ = DummyManager(definition).execute_process("summary", hidden)
    assert status == JobStatus.failed, "pygeoapi's manager now passes processor errors on: review seam 12"
    assert "_send_success_notification" in dir(DummyManager), "pygeoapi no longer notifies subscribers: seam 12"

    request = RequestFactory().post("/ogcapi/processes/summary/execution", json.dumps({"inputs": hidden}),
                                    content_type="application/json", HTTP_HOST="localhost")
    from pygeoapi.api import processes as processes_api
    _, status, content = processes_api.execute_process(api, APIRequest.from_django(request, api.locales), "summary")
    assert status == 404 and json.loads(content)["code"] == "NotFound"
    with pytest.raises(adapter.SubscriberRefused):
        api.manager.execute_process("summary", {"dataset": SLUG}, subscriber=Subscriber(success_uri="http://x/", in_progress_uri=None, failed_uri=None))


def test_contract_the_process_fast_path_answers_what_execute_process_answers(django_db_setup):
    """Seam 13. For a cached, anonymous, raw execution of `summary`, sdi/ogcapi/process_fast_path.py sends the
    status, headers and bytes pygeoapi's own execute_process gives (then views.execute's apply_gzip); the Vary
    header is the view's. tests/test_process_fast_path.py compares the two through the whole Django stack."""
    from pygeoapi.api import apply_gzip
    from pygeoapi.api import processes as processes_api

    from sdi.ogcapi import process_fast_path

    adapter.install()
    base = "http://localhost/ogcapi"
    body = json.dumps({"inputs": {"dataset": SLUG, "units": "cantho-districts", "measure": "count"}})
    api = api_cache.get_api(base, None)
    for headers in ({}, {"HTTP_ACCEPT_ENCODING": "gzip"}, {"HTTP_ACCEPT_LANGUAGE": "en"}):
        def request():
            return RequestFactory().post("/ogcapi/processes/summary/execution", body, content_type="application/json",
                                         HTTP_HOST="localhost", **headers)

        for _ in range(2):  # the first call computes the figures; the second is pygeoapi's answer to a cached one
            pygeoapi_headers, status, content = processes_api.execute_process(
                api, APIRequest.from_django(request(), api.locales), "summary")
        content = apply_gzip(pygeoapi_headers, content)
        fast = process_fast_path.answer(request(), base, "summary")
        assert fast is not None, "the fast path no longer takes a cached execution"
        assert fast.status_code == status == 200
        assert fast.content == (content.encode("utf-8") if isinstance(content, str) else content), \
            "pygeoapi's execute_process answers other bytes: review sdi/ogcapi/process_fast_path.py (seam 13)"
        assert {name: value for name, value in fast.items() if name != "Vary"} == pygeoapi_headers, \
            "pygeoapi's execute_process answers other headers: review sdi/ogcapi/process_fast_path.py (seam 13)"
