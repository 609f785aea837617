"""The fast path for cached `summary` executions (sdi/ogcapi/process_fast_path.py): pygeoapi's own answer byte
for byte, headers included, and only where nothing else could change the answer. A contract test of a pygeoapi
seam (adapter seam 13): an upgrade that changes execute_process's answer fails here."""
import codecs
import gzip
import json

import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from rest_framework.authtoken.models import Token

from layers.models import Dataset
from layers.registry.services import delete_dataset, registry_changed
from layers.summaries import cache
from sdi.ogcapi import process_fast_path
from tests.summaries_made import anchors, load, parcels_features, point_features

pytestmark = pytest.mark.django_db

PREFIX = "t-psf-"
OPEN, CLOSED = f"{PREFIX}open", f"{PREFIX}closed"
PATH = "/ogcapi/processes/summary/execution"
BASE = "http://testserver/ogcapi"


@pytest.fixture(scope="module")
def made(django_db_setup, django_db_blocker, tmp_path_factory):
    """A public point layer and a restricted parcel layer whose owner is a plain (not staff) user."""
    folder = tmp_path_factory.mktemp("process-fast")
    with django_db_blocker.unblock():
        points = anchors()
        load(folder, OPEN, point_features(points))
        closed = load(folder, CLOSED, parcels_features(points), access="restricted")
        owner = User.objects.create_user(f"{PREFIX}owner", password="pw")
        other = User.objects.create_user(f"{PREFIX}other", password="pw")
        closed.owners.add(owner)
        registry_changed()
        yield {"owner": Token.objects.create(user=owner).key, "other": Token.objects.create(user=other).key}
        User.objects.filter(username__startswith=PREFIX).delete()
        for slug in (OPEN, CLOSED):
            delete_dataset(slug)


def post(body, ordinary: bool = False, query: str = "", raw: bytes | None = None, **headers):
    """The whole Django stack's answer. `ordinary`: with an unknown session cookie (still anonymous), which the
    fast path leaves to pygeoapi."""
    client = Client()
    if ordinary:
        client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-session"
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    return client.post(PATH + query, data=data, content_type="application/json", **headers)


def fast_path_answered(response) -> bool:
    return getattr(response, "sdi_fast_path", False)


BODIES = [
    {"inputs": {"dataset": OPEN}},
    {"inputs": {"dataset": OPEN, "units": "cantho-wards-2025", "measure": "count"}, "response": "raw"},
    {"inputs": {"dataset": "cantho-districts", "measure": "area", "category": "name"}},
]
HEADERS = [
    {},
    {"HTTP_ACCEPT_LANGUAGE": "en"},
    {"HTTP_ACCEPT_LANGUAGE": "vi-VN,vi;q=0.9,en;q=0.5"},
    {"HTTP_ACCEPT": "text/html"},
    {"HTTP_ACCEPT": "application/json"},
    {"HTTP_ACCEPT_ENCODING": "gzip, deflate"},
    {"HTTP_ORIGIN": "https://qgis.example"},
]


@pytest.mark.parametrize("headers", HEADERS)
@pytest.mark.parametrize("body", BODIES)
def test_the_fast_answer_is_pygeoapis_byte_for_byte(made, body, headers):
    assert post(body, **headers).status_code == 200  # a first call computes the figures and fills the memo
    fast = post(body, **headers)
    assert fast_path_answered(fast)
    ordinary = post(body, ordinary=True, **headers)
    assert not fast_path_answered(ordinary)
    assert fast.status_code == ordinary.status_code == 200
    assert fast.content == ordinary.content
    assert dict(fast.headers) == dict(ordinary.headers)
    content = gzip.decompress(fast.content) if fast.get("Content-Encoding") == "gzip" else fast.content
    result = json.loads(content)
    assert result["dataset"] == body["inputs"]["dataset"] and result["cached"] is True
    assert fast["Content-Type"].startswith("application/json") and fast["Content-Language"] == "en-US"


def test_everything_else_is_left_to_pygeoapi(made):
    """Anything that could change the answer, or who may see it, goes the ordinary way."""
    body = {"inputs": {"dataset": OPEN, "measure": "count"}}
    post(body)
    factory = RequestFactory()

    def fast(data, query="", **headers):
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        request = factory.post(PATH + query, data=raw, content_type="application/json", **headers)
        return process_fast_path.answer(request, BASE, "summary")

    assert fast(body) is not None
    assert fast({"inputs": {"dataset": OPEN, "measure": "count", "units": ""}}) is not None  # the same request
    with_session = factory.post(PATH, data=json.dumps(body), content_type="application/json")
    with_session.COOKIES[settings.SESSION_COOKIE_NAME] = "x"
    assert process_fast_path.answer(with_session, BASE, "summary") is None
    assert process_fast_path.answer(factory.post(PATH, data=json.dumps(body), content_type="application/json"),
                                    BASE, "other-process") is None
    assert fast(body, HTTP_AUTHORIZATION=f"Token {made['owner']}") is None
    assert fast(body, HTTP_PREFER="respond-async") is None
    assert fast(body, HTTP_PREFER="wait") is None
    assert fast(body, query="?f=json") is None
    for other in ({**body, "response": "document"}, {**body, "outputs": {"summary": {}}},
                  {**body, "subscriber": {"successUri": "http://127.0.0.1:9/hook"}},
                  {"inputs": {**body["inputs"], "colour": "red"}}, {"inputs": {**body["inputs"], "measure": 1}},
                  {"inputs": {"dataset": OPEN, "measure": "length"}},  # never computed: not in the memo
                  {"inputs": {"dataset": "no-such-dataset"}}, {"inputs": {}}, {}):
        assert fast(other) is None, other
    for raw in (codecs.BOM_UTF8 + json.dumps(body).encode(), json.dumps(body).encode("utf-16"), b"[1]"):
        assert fast(raw) is None, raw
    bom = post(body, raw=codecs.BOM_UTF8 + json.dumps(body).encode())  # pygeoapi's own answer to it
    assert bom.status_code == 400 and not fast_path_answered(bom)


def test_a_restricted_summary_cached_by_its_owner_is_404_for_others_as_before(ogcapi, made):
    """Over real HTTP (one gunicorn worker, so one memo): the owner's calls fill the memo; an anonymous client
    and another signed-in user get the very same 404 as before it was filled."""
    url = f"{ogcapi}/processes/summary/execution"
    body = {"inputs": {"dataset": CLOSED, "measure": "area"}}

    def call(token=None):
        headers = {"Authorization": f"Token {token}"} if token else {}
        return requests.post(url, json=body, headers=headers, timeout=60)

    before, other_before = call(), call(made["other"])
    assert before.status_code == other_before.status_code == 404
    assert before.json()["code"] == "NotFound" and CLOSED in before.json()["description"]
    for _ in range(2):
        owners = call(made["owner"])
        assert owners.status_code == 200 and owners.json()["dataset"] == CLOSED
    assert owners.json()["cached"] is True
    for token, earlier in ((None, before), (made["other"], other_before)):
        after = call(token)
        assert after.status_code == 404 and after.content == earlier.content
        assert after.headers["Content-Type"] == earlier.headers["Content-Type"]


def test_a_dataset_hidden_since_it_was_cached_is_404(made):
    """The memo is keyed by the registry version: a change of access shows on the next call."""
    body = {"inputs": {"dataset": OPEN, "units": "cantho-districts", "measure": "count"}}
    post(body)
    assert fast_path_answered(post(body))
    try:
        Dataset.objects.filter(slug=OPEN).update(access_level=Dataset.Access.RESTRICTED)
        registry_changed()
        hidden = post(body)
        assert hidden.status_code == 404 and json.loads(hidden.content)["code"] == "NotFound"
        assert not fast_path_answered(hidden)
    finally:  # the test's transaction is rolled back, and the registry version with it: forget this version
        cache.memo_clear()
        process_fast_path.forget()
