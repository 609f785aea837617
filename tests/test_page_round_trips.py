"""An /items page costs two round trips to PostgreSQL (the registry version, then the page), where it took four
(Django's connection check, the version, the pool's connection check, the page); and its features JSON goes
from PostgreSQL into the response as bytes, never decoded. Each shortcut keeps what the round trip it replaces
was for: a connection that died since the last request (a database restart) costs no request."""
import json
import time

import psycopg
import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext

from layers.registry.services import current_registry_version
from layers.serving.hints import PageHint, current_page_hint
from layers.serving.provider import PostGISProvider
from sdi.database import connection_kwargs
from sdi.ogcapi import api_cache
from tests.test_provider import districts_definition

DISTRICTS = "mekong-delta-districts-population-2009"


@pytest.fixture
def definition(django_db_setup):
    """A provider with a pool of its own (its statement timeout differs from every other test's), so that
    killing its connections touches no other test."""
    return districts_definition(serving={"statement_timeout_ms": 29_417, "pool_size": 3})


def terminate(pids: list[int] | None = None) -> int:
    """Kill these backends (all of the test database's but this one when None), as a database restart does,
    from a connection of its own, and wait until they are gone. How many were killed."""
    with psycopg.connect(**connection_kwargs(autocommit=True)) as own:
        targets = pids or [pid for (pid,) in own.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
        killed = own.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid = ANY(%s)",
                             [targets]).fetchone()[0]
        for _ in range(100):
            if own.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [targets]).fetchone()[0] == 0:
                return killed
            time.sleep(0.05)
    raise AssertionError(f"backends {targets} still running")


@pytest.mark.django_db
def test_a_page_survives_a_restart_that_killed_every_pooled_connection(definition):
    """The pool no longer tests each connection it hands out (a round trip per page). After a restart every
    idle connection in it is dead: the first read that fails makes the pool test them all, then is retried,
    so the page is served; retrying on the next dead connection alone would answer 503."""
    provider = PostGISProvider(definition)
    pool = provider.pool
    with pool.connection() as a, pool.connection() as b, pool.connection() as c:
        pids = [conn.info.backend_pid for conn in (a, b, c)]
    assert pool.get_stats()["pool_available"] == 3
    assert terminate(pids) == 3
    page = provider.query(limit=5)
    assert [feature["id"] for feature in page["features"]] == [1, 2, 3, 4, 5]
    with pool.connection() as conn:
        assert conn.info.backend_pid not in pids


@pytest.mark.django_db
def test_the_page_json_comes_as_utf8_bytes_and_is_spliced_unchanged(definition):
    """raw_json pages hand the web layer PostgreSQL's bytes; Vietnamese text survives them as NFC."""
    hint = PageHint(raw_json=True)
    token = current_page_hint.set(hint)
    try:
        PostGISProvider(definition).query(limit=228, properties=[("Ten_Tinh", "Cần Thơ")])
    finally:
        current_page_hint.reset(token)
    assert isinstance(hint.outcome.features_json, bytes)
    names = {feature["properties"]["Ten_Tinh"] for feature in json.loads(hint.outcome.features_json)}
    assert names == {"Cần Thơ"}


def test_the_registry_version_query_is_the_connection_check(django_db_setup, django_db_blocker):
    """Outside a transaction, as a server's request runs: with a connection kept from an earlier request, the
    version is read in one query on it, which stands for Django's own check (no ORM query; the check is not
    run after it). When that connection has died since, it is closed and the ORM reconnects."""
    with django_db_blocker.unblock():
        expected = current_registry_version()
        connection.health_check_done = False  # as at the start of a request
        with CaptureQueriesContext(connection) as orm:
            assert api_cache.registry_version() == expected
        assert orm.captured_queries == [] and connection.health_check_done
        first = connection.connection.info.backend_pid

        terminate([first])
        connection.health_check_done = False
        with CaptureQueriesContext(connection) as orm:
            assert api_cache.registry_version() == expected
        assert len(orm.captured_queries) == 1, "the dead connection is replaced and the ORM reads the version"
        assert connection.connection.info.backend_pid != first
        connection.close()


def test_a_server_whose_connections_all_died_serves_its_next_page(ogcapi):
    """The whole path on a real server: kill every connection it holds (Django's and the pool's), and its
    next /items page is the same page, not a 503."""
    url = f"{ogcapi}/collections/{DISTRICTS}/items?limit=20"
    served = requests.get(url, timeout=30)
    assert served.status_code == 200 and len(served.json()["features"]) == 20
    assert terminate() >= 2  # every other connection to the test database: the server's two at least
    again = requests.get(url, timeout=30)
    assert again.status_code == 200, again.text
    assert again.json()["features"] == served.json()["features"]
