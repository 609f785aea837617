"""The pygeoapi API cache builds each (base URL, visible set) once, however many first requests arrive together
(issue 9, defect 5: it was built outside its lock, once per concurrent request)."""
import threading
import time

from django.db import connection

from sdi.ogcapi import api_cache


def test_concurrent_first_requests_build_the_api_once(committed_db, monkeypatch):
    builds = []
    real_build = api_cache.build_api

    def counted_build(base_url, slugs):
        builds.append(base_url)
        time.sleep(0.2)  # a slow build widens the window in which the other requests arrive
        return real_build(base_url, slugs)

    monkeypatch.setattr(api_cache, "build_api", counted_build)
    base_url = "http://concurrent.example/ogcapi"
    start = threading.Barrier(8)
    apis, errors = [], []

    def first_request():
        try:
            start.wait()
            apis.append(api_cache.get_api(base_url, None))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and len(apis) == 8
    assert builds == [base_url], f"built {len(builds)} times"
    assert all(api is apis[0] for api in apis)
    assert api_cache.get_api(base_url, None) is apis[0] and len(builds) == 1  # and served from the cache after
