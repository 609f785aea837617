"""A dataset registered by any process is served by every server process on its next request, no restart."""
import json

import requests

from layers.models import Dataset
from layers.registry.services import DatasetMetadata, delete_dataset, import_vector_dataset

META = DatasetMetadata(title_vi="Trạm quan trắc môi trường", title_en="Environmental monitoring stations",
                       sector="environment", licence_name="CC BY 4.0", attribution="Sở Tài nguyên và Môi trường (test)")


def collection_ids(server_url):
    return {c["id"] for c in requests.get(f"{server_url}/ogcapi/collections", timeout=30).json()["collections"]}


def test_two_server_processes_pick_up_a_new_dataset_and_its_removal(committed_db, start_server, tmp_path):
    servers = [start_server(workers=2), start_server(workers=1)]
    for url in servers:
        assert "t-stations" not in collection_ids(url)  # each process has built and cached its configuration

    stations = tmp_path / "stations.geojson"
    stations.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ten_tram": "Trạm Cái Răng", "pH": 7.1},
         "geometry": {"type": "Point", "coordinates": [105.77, 10.0]}},
        {"type": "Feature", "properties": {"ten_tram": "Trạm Ô Môn", "pH": 6.8},
         "geometry": {"type": "Point", "coordinates": [105.62, 10.11]}},
    ]}, ensure_ascii=False), encoding="utf-8")
    try:
        import_vector_dataset(stations, slug="t-stations", metadata=META)
        for url in servers:
            for _ in range(3):  # several requests, so that every worker of the process answers at least once
                assert "t-stations" in collection_ids(url)
            items = requests.get(f"{url}/ogcapi/collections/t-stations/items", timeout=30).json()
            assert {f["properties"]["ten_tram"] for f in items["features"]} == {"Trạm Cái Răng", "Trạm Ô Môn"}
    finally:
        if Dataset.objects.filter(slug="t-stations").exists():
            delete_dataset("t-stations")

    for url in servers:
        for _ in range(3):
            assert "t-stations" not in collection_ids(url)
        assert requests.get(f"{url}/ogcapi/collections/t-stations/items", timeout=30).status_code == 404


def test_unpublishing_hides_a_collection_everywhere(committed_db, server):
    from layers.registry.services import registry_changed

    dataset = Dataset.objects.get(slug="cantho-bus-route-09")
    try:
        Dataset.objects.filter(pk=dataset.pk).update(published=False)
        registry_changed()
        assert "cantho-bus-route-09" not in collection_ids(server)
        assert requests.get(f"{server}/ogcapi/collections/cantho-bus-route-09/items", timeout=30).status_code == 404
    finally:
        Dataset.objects.filter(pk=dataset.pk).update(published=True)
        registry_changed()
    assert "cantho-bus-route-09" in collection_ids(server)


def test_the_import_worker_next_to_gunicorn_runs_queued_jobs(committed_db, start_server, tmp_path):
    """`make run` starts the worker with gunicorn; a queued job is published while the server keeps answering."""
    import time

    from layers.jobs.queue import submit_import
    from layers.models import ImportJob

    url = start_server(workers=1, import_worker=True)
    source = tmp_path / "queued.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ten": "Bến Ninh Kiều"}, "geometry": {"type": "Point", "coordinates": [105.79, 10.03]}}
    ]}, ensure_ascii=False), encoding="utf-8")
    job = submit_import(source, slug="t-queued", metadata=META)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED):
                break
            assert requests.get(f"{url}/ogcapi/collections", timeout=30).status_code == 200
            time.sleep(0.2)
        assert job.status == ImportJob.Status.SUCCEEDED, job.message
        assert job.progress == 100 and job.report["features"] == 1
        assert "t-queued" in collection_ids(url)
    finally:
        if Dataset.objects.filter(slug="t-queued").exists():
            delete_dataset("t-queued")
