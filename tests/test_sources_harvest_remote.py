"""Remote sources harvested end to end: this SDI's own OGC API on its live gunicorn as the remote OGC API, and a
loopback HTTP server as a sector's file and WFS service that changes, answers garbage, or goes away. Each run
goes through harvest() exactly as the scheduler's would; a failed run leaves the published dataset as it was."""
import json
import unicodedata
import uuid

import pytest
from django.db import connection
from psycopg import sql

from layers.models import Dataset
from layers.sources.harvest import harvest
from layers.sources.models import FeatureChange, Source
from layers.sources import services
from layers.sources.services import register_source
from tests.sources_sector import forget_sources
from tests.test_sources_remote import TOKEN, FixtureServer, features, geojson, serve_wfs

PREFIX = "srcr-"


@pytest.fixture
def db(committed_db):
    yield
    forget_sources(PREFIX)


@pytest.fixture
def remote():
    server = FixtureServer()
    yield server
    server.stop()


def register(kind: str, url: str, key: str, **extra) -> Source:
    return register_source(user=None, slug=f"{PREFIX}{uuid.uuid4().hex[:8]}", kind=kind, url=url, key=key,
                           metadata={"title_vi": "Nguồn từ xa (thử)", "sector": "land", "attribution": "thử"},
                           **extra)


def published(slug: str) -> list[tuple]:
    dataset = Dataset.objects.get(slug=slug)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT fid, ma_thua, ten, dien_tich, ST_AsText(geom) FROM {}.{} ORDER BY ma_thua")
                       .format(sql.Identifier(dataset.table_schema), sql.Identifier(dataset.table_name)))
        return cursor.fetchall()


def test_this_sdis_own_ogc_api_as_a_remote_source(db, ogcapi):
    source = register("ogcapi", f"{ogcapi}/collections/cantho-districts", "level2_id")
    run = harvest(source.pk)
    assert run.status == "succeeded", run.error
    assert run.added == 9
    copy = Dataset.objects.get(slug=source.slug)
    original = Dataset.objects.get(slug="cantho-districts")
    assert copy.feature_count == 9 and copy.geometry_type == original.geometry_type
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT name FROM {}.{}").format(sql.Identifier(copy.table_schema),
                                                                 sql.Identifier(copy.table_name)))
        names = sorted(name for (name,) in cursor.fetchall())
    assert "Quận Ninh Kiều" in names and all(unicodedata.is_normalized("NFC", n) for n in names)
    again = harvest(source.pk)
    assert (again.status, again.added, again.changed, again.removed) == ("succeeded", 0, 0, 0)


def test_a_file_at_a_url_is_kept_in_sync_and_a_bad_answer_changes_nothing(db, remote):
    document = {"type": "FeatureCollection", "features": features(0, 5)}

    @remote.route("/dia-chinh/thua-dat.geojson")
    def serve(handler, query):
        geojson(handler, document)

    source = register("file", f"{remote.url}/dia-chinh/thua-dat.geojson", "ma_thua")
    first = harvest(source.pk)
    assert (first.status, first.added) == ("succeeded", 5), first.error
    before = published(source.slug)

    # the sector edits its file: one parcel's area changes, one goes, one comes
    document["features"] = features(0, 6)
    document["features"][1]["properties"]["dien_tich"] = 999.5
    del document["features"][3]
    run = harvest(source.pk)
    assert (run.status, run.added, run.changed, run.removed) == ("succeeded", 1, 1, 1), run.error
    changed = FeatureChange.objects.get(run=run, action="changed")
    assert changed.key == "NK-002" and changed.old["dien_tich"] == 101.5 and changed.new["dien_tich"] == 999.5
    assert FeatureChange.objects.get(run=run, action="removed").key == "NK-004"
    after = published(source.slug)
    kept = {row[1]: row[0] for row in before}
    assert all(kept[key] == fid for fid, key, *_ in after if key in kept), "features that stay keep their fid"
    settled = published(source.slug)

    # garbage, a duplicate key, and a server that is gone: each a failed run naming the source, nothing written
    @remote.route("/dia-chinh/thua-dat.geojson")
    def garbage(handler, query):
        handler.reply(200, b'{"type": "FeatureCollection", "features": [{"type": "Feat', "application/geo+json")

    broken = harvest(source.pk)
    assert broken.status == "failed" and remote.url.split("//")[1] in broken.error and not broken.unreachable
    assert published(source.slug) == settled

    twice = {"type": "FeatureCollection", "features": features(0, 3) + features(0, 1)}

    @remote.route("/dia-chinh/thua-dat.geojson")
    def duplicated(handler, query):
        geojson(handler, twice)

    duplicate = harvest(source.pk)
    assert duplicate.status == "failed" and "NK-001" in duplicate.error and "ma_thua" in duplicate.error
    assert published(source.slug) == settled

    remote.stop()
    gone = harvest(source.pk)
    assert gone.status == "failed" and gone.unreachable, gone.error
    assert published(source.slug) == settled
    assert Dataset.objects.get(slug=source.slug).feature_count == len(settled)


def test_a_wfs_feature_type_is_harvested_with_its_token_kept_secret(db, remote, caplog):
    serve_wfs(remote, total=5)
    source = register("wfs", f"{remote.url}/geoserver/wfs?typeName=ninhkieu:thua_dat&token={TOKEN}", "ma_thua",
                      crs="EPSG:4326")
    run = harvest(source.pk)
    assert (run.status, run.added) == ("succeeded", 5), run.error
    rows = published(source.slug)
    assert [r[1] for r in rows] == [f"NK-{i:03d}" for i in range(1, 6)]
    assert TOKEN not in json.dumps(run.report, ensure_ascii=False) and TOKEN not in caplog.text
    assert "token=***" in services.source_label(source)


def test_a_token_in_a_source_url_is_never_shown_over_rest(db, remote, client):
    from django.contrib.auth.models import User

    source = register("file", f"{remote.url}/data.geojson?f=json&api_key={TOKEN}", "ma_thua")
    admin = User.objects.create_superuser(f"{PREFIX}admin")
    try:
        client.force_login(admin)
        answer = client.get(f"/api/sources/{source.slug}")
        assert answer.status_code == 200
        assert answer.json()["url"].endswith("/data.geojson?f=json&api_key=***")
        assert TOKEN not in answer.content.decode()
        page = client.get(f"/admin/layers/source/{source.pk}/change/").content.decode()
        assert TOKEN not in page and "api_key=***" in page
    finally:
        admin.delete()
