"""Merged datasets built in the real PostGIS (issue 11): members with different schemas and CRSs, the mapping
(rename, cast, value map, constant, target CRS), provenance, overlaps resolved by priority or clip, overlaps and
gaps reported and served, rebuild after a member is replaced (signal → task → new content), and every failure
naming merge, member, field and feature while the published merge stays as it was."""
import copy
import os
import subprocess
import sys

import pytest
import requests
from django.db import connection

from layers.jobs.tasks import build_merge
from layers.merging.build import build
from layers.merging.models import MergedDataset
from layers.merging.services import save_merge
from layers.models import Dataset
from layers.registry.services import RequestRefused
from tests.conftest import REPO, database_url_for_servers
from tests.merging_made import forget_merges, publish_member, rows, square
from tests.sources_sector import parcels, sector_database, sector_dsn  # noqa: F401 (fixtures)

PREFIX = "mtest-"
A, B, C, ZONES = f"{PREFIX}nk", f"{PREFIX}br", f"{PREFIX}cr", f"{PREFIX}zones"

# A (VN-2000 / TM-3 105-45): two parcels side by side; its codes are Vietnamese names, its area is text.
A_FEATURES = [({"so_hieu_thua": "A1", "mdsd": "Đất ở tại đô thị", "dt": "10000.5"}, square(0, 0, 100, 100)),
              ({"so_hieu_thua": "A2", "mdsd": "CLN", "dt": "10000"}, square(100, 0, 200, 100))]
# B (WGS 84): overlaps A by a 10 m strip (B1) and lies wholly inside A1 (B0); integer ids, codes already LUC/ONT.
B_FEATURES = [({"ma": 1, "loai": "ONT", "area": 10000.0}, square(190, 0, 290, 100)),
              ({"ma": 2, "loai": "LUC", "area": 10000.0}, square(290, 0, 390, 100)),
              ({"ma": 3, "loai": "XYZ", "area": 3600.0}, square(20, 20, 80, 80))]
# C (UTM 48N): 3 m north of A, leaving a 200 × 3 m slit (a gap of 600 m²).
C_FEATURES = [({"code": "C1", "kind": "ODT"}, square(0, 103, 200, 203))]
ZONE_FEATURES = [({"zone": "west"}, square(-1000, -1000, 195, 1000)), ({"zone": "east"}, square(195, -1000, 1000, 1000))]


@pytest.fixture(scope="module")
def members(django_db_setup, django_db_blocker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("merging")
    with django_db_blocker.unblock():
        forget_merges(PREFIX)
        made = {A: publish_member(folder, A, A_FEATURES, 9210), B: publish_member(folder, B, B_FEATURES, 4326),
                C: publish_member(folder, C, C_FEATURES, 32648),
                ZONES: publish_member(folder, ZONES, ZONE_FEATURES, 4326)}
        yield folder, made
        forget_merges(PREFIX)


def spec(slug: str, **changes) -> dict:
    value = {
        "slug": slug, "title_vi": "Hiện trạng sử dụng đất (gộp)", "title_en": "Land use (merged)", "sector": "land",
        "crs": "EPSG:5897", "overlap": "priority",
        "fields": [{"name": "ma_thua", "type": "text"}, {"name": "loai_dat", "type": "text"},
                   {"name": "dien_tich_m2", "type": "double precision"}, {"name": "ma_huyen", "type": "text"}],
        "members": [
            {"dataset": A, "priority": 1, "key": "so_hieu_thua",
             "fields": {"ma_thua": "so_hieu_thua",
                        "loai_dat": {"field": "mdsd", "map": {"Đất ở tại đô thị": "ODT", "CLN": "CLN"}},
                        "dien_tich_m2": {"field": "dt", "cast": "double precision"}, "ma_huyen": {"value": "916"}}},
            {"dataset": B, "priority": 2,
             "fields": {"ma_thua": "ma", "loai_dat": {"field": "loai", "map": {"ONT": "ONT"}, "unmapped": "keep"},
                        "dien_tich_m2": "area", "ma_huyen": {"value": "918"}}},
            {"dataset": C, "priority": 3, "key": "code",
             "fields": {"ma_thua": "code", "loai_dat": "kind", "dien_tich_m2": {"value": None},
                        "ma_huyen": {"value": "919"}}},
        ]}
    value.update(changes)
    return value


def published(slug: str) -> dict:
    """The merged table's features by (member, key): the values, the area (m²) and SRID of the geometry."""
    dataset = Dataset.objects.get(slug=slug)
    found = rows(f'SELECT member_dataset, member_key, ma_thua, loai_dat, dien_tich_m2, ma_huyen, member_version, '
                 f'ST_Area(geom), ST_SRID(geom), GeometryType(geom) FROM "{dataset.table_schema}"."{dataset.table_name}"')
    return {(r[0], r[1]): r[2:] for r in found}


def test_a_merge_maps_each_member_into_one_table_with_provenance_and_resolves_overlaps_by_priority(members):
    merge, created = save_merge(spec(f"{PREFIX}city"))
    assert created
    record = build(merge.pk, trigger="test")
    assert record.status == "succeeded", record.error
    dataset = Dataset.objects.get(slug=f"{PREFIX}city")
    assert dataset.storage_srid == 5897 and dataset.geometry_type == "MultiPolygon"
    assert [f["name"] for f in dataset.attribute_schema] == ["ma_thua", "loai_dat", "dien_tich_m2", "ma_huyen",
                                                             "member_dataset", "member_key", "member_version"]
    features = published(f"{PREFIX}city")
    a_version = Dataset.objects.get(slug=A).updated
    # rename, value map, cast, constant; provenance: the member's slug, its key (or fid) and version
    assert features[(A, "A1")][:4] == ("A1", "ODT", 10000.5, "916")
    assert features[(A, "A1")][4] == a_version
    assert features[(A, "A2")][:4] == ("A2", "CLN", 10000.0, "916")
    assert features[(B, "2")][:4] == ("2", "LUC", 10000.0, "918")  # unmapped: keep
    assert features[(C, "C1")][:4] == ("C1", "ODT", None, "919")  # {value: null}
    assert {v[6] for v in features.values()} == {5897} and {v[7] for v in features.values()} == {"MULTIPOLYGON"}
    # target CRS: A1 is 100 × 100 m in UTM; in TM-3 its area differs by the scale factors only (< 0.1 %)
    assert features[(A, "A1")][5] == pytest.approx(10_000, rel=1e-3)
    # priority: B1 lost the 10 m strip A covers; B0 lay wholly inside A1 and is gone
    assert features[(B, "1")][5] == pytest.approx(9_000, rel=2e-3)
    assert (B, "3") not in features
    assert len(features) == 5 and dataset.feature_count == 5
    counts = record.report["members"]
    assert counts[B]["read"] == 3 and counts[B]["trimmed"] == 1 and counts[B]["dropped"] == 1
    assert counts[B]["published"] == 2 and counts[A]["published"] == 2 and counts[C]["published"] == 1
    # the overlap A–B (10 m strip + B0) and the gap A–C (200 × 3 m), with areas and where they are
    overlaps = {(o["member_a"], o["member_b"]): o for o in record.report["overlaps"]}
    gaps = {(g["member_a"], g["member_b"]): g for g in record.report["gaps"]}
    assert set(overlaps) == {(A, B)}
    assert overlaps[(A, B)]["area_m2"] == pytest.approx(1_000 + 3_600, rel=5e-3)
    assert 105.7 < overlaps[(A, B)]["lon"] < 105.8 and 10.0 < overlaps[(A, B)]["lat"] < 10.05
    assert gaps[(A, C)]["area_m2"] == pytest.approx(600, rel=0.02)
    assert (A, B) not in gaps  # A2 and B1 overlap: no gap between them
    assert record.report["overlap_area_m2"] == pytest.approx(4_600, rel=5e-3)
    companion = Dataset.objects.get(slug=f"{PREFIX}city-overlaps")
    kinds = rows(f'SELECT kind, member_a, member_b, area_m2 FROM "{companion.table_schema}".'
                 f'"{companion.table_name}" ORDER BY kind, member_a, member_b, area_m2')
    assert {(k, a, b) for k, a, b, _ in kinds} >= {("overlap", A, B), ("gap", A, C)}
    assert sum(x for k, a, b, x in kinds if (k, a, b) == ("overlap", A, B)) == pytest.approx(4_600, rel=5e-3)
    assert MergedDataset.objects.get(pk=merge.pk).dataset == dataset


def test_overlaps_collection_is_served_over_http(members, server):
    merge, _ = save_merge(spec(f"{PREFIX}served", index_attributes=True))
    assert build(merge.pk).status == "succeeded"
    answer = requests.get(f"{server}/ogcapi/collections/{PREFIX}served-overlaps/items?f=json&limit=100", timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    found = {(f["properties"]["kind"], f["properties"]["member_a"], f["properties"]["member_b"])
             for f in answer.json()["features"]}
    assert ("overlap", A, B) in found and ("gap", A, C) in found
    merged = requests.get(f"{server}/ogcapi/collections/{PREFIX}served/items?f=json&limit=100", timeout=30).json()
    assert {f["properties"]["member_dataset"] for f in merged["features"]} == {A, B, C}
    filtered = requests.get(f"{server}/ogcapi/collections/{PREFIX}served/items?f=json&member_dataset={B}", timeout=30)
    assert {f["properties"]["member_key"] for f in filtered.json()["features"]} == {"1", "2"}
    indexed = rows("SELECT indexdef FROM pg_indexes WHERE schemaname = 'sdi_data' AND tablename = %s",
                   (f"{PREFIX}served".replace("-", "_"),))
    assert any("(member_dataset)" in i for (i,) in indexed) and any("gist (geom)" in i for (i,) in indexed)


def test_clip_rule_clips_each_member_to_its_polygon_and_keeps_one_copy(members):
    members_spec = spec(f"{PREFIX}clipped", overlap="clip")["members"][:2]
    members_spec[0]["clip"] = {"dataset": ZONES, "field": "zone", "value": "west"}
    members_spec[1]["clip"] = {"dataset": ZONES, "field": "zone", "value": "east"}
    merge, _ = save_merge(spec(f"{PREFIX}clipped", overlap="clip", members=members_spec))
    record = build(merge.pk)
    assert record.status == "succeeded", record.error
    features = published(f"{PREFIX}clipped")
    assert features[(A, "A2")][5] == pytest.approx(9_500, rel=2e-3)  # cut at x = 195
    assert features[(B, "1")][5] == pytest.approx(9_500, rel=2e-3)
    assert (B, "3") not in features and record.report["members"][B]["outside_clip"] == 1
    assert record.report["overlaps"] == []


def test_a_replaced_member_queues_a_rebuild_that_publishes_its_new_content(members):
    folder, _ = members
    merge, _ = save_merge(spec(f"{PREFIX}live"))
    assert build(merge.pk).status == "succeeded"
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = 'build_merge'")
    publish_member(folder, C, [({"code": "C9", "kind": "CLN"}, square(0, 103, 200, 203))], 32648, replace=True)
    queued = rows("SELECT (args->>'merge_id')::int FROM procrastinate_jobs WHERE task_name = 'build_merge' AND status = 'todo' "
                  "AND queueing_lock = %s", (f"merge:{merge.pk}",))
    assert [q[0] for q in queued] == [merge.pk]
    with connection.cursor() as cursor:  # the other merges with member C are not this test's
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = 'build_merge' AND queueing_lock <> %s",
                       (f"merge:{merge.pk}",))
    env = {**os.environ, "DATABASE_URL": database_url_for_servers()}
    env.pop("PGAPPNAME", None)
    worker = subprocess.run([sys.executable, "manage.py", "run_worker", "--once", "--queue", "merges"], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=300)
    assert worker.returncode == 0, worker.stderr[-2000:]
    assert rows("SELECT status FROM procrastinate_jobs WHERE task_name = 'build_merge' "
                "AND args->>'merge_id' = %s", (str(merge.pk),)) == [("succeeded",)]
    features = published(f"{PREFIX}live")
    assert (C, "C9") in features and (C, "C1") not in features and features[(C, "C9")][1] == "CLN"
    assert features[(C, "C9")][4] == Dataset.objects.get(slug=C).updated
    # the merge's own publish queued nothing more (no loop)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = 'build_merge' AND status = 'todo' "
                       "AND queueing_lock = %s RETURNING id", (f"merge:{merge.pk}",))
        assert cursor.fetchall() == []
    publish_member(folder, C, C_FEATURES, 32648, replace=True)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = 'build_merge'")


@pytest.mark.parametrize("change, message", [
    (lambda s: s["members"][1]["fields"].update(dien_tich_m2="dien_tich"),
     f"merge {PREFIX}failing, member {B}, field dien_tich_m2: member field 'dien_tich' does not exist"),
    (lambda s: s["members"][0]["fields"].update(dien_tich_m2={"field": "mdsd", "cast": "double precision"}),
     f"merge {PREFIX}failing, member {A}, field dien_tich_m2 (from mdsd), feature so_hieu_thua A1: value "
     f"'Đất ở tại đô thị' does not cast to double precision"),
    (lambda s: s["members"][1]["fields"].update(loai_dat={"field": "loai", "map": {"ONT": "ONT", "LUC": "LUC"}}),
     f"merge {PREFIX}failing, member {B}, field loai_dat (from loai), feature fid 3: value 'XYZ' is not in the "
     f"value map"),
    (lambda s: s["members"][2]["fields"].update(ma_huyen={"value": "x"}) or
     s["fields"].__setitem__(3, {"name": "ma_huyen", "type": "integer"}),
     f"merge {PREFIX}failing, member {C}, field ma_huyen: the constant 'x' does not cast to integer"),
])
def test_a_failing_build_names_member_field_and_feature_and_keeps_the_published_merge(members, change, message):
    good = spec(f"{PREFIX}failing")
    merge, _ = save_merge(good)
    assert build(merge.pk).status == "succeeded"
    before = published(f"{PREFIX}failing")
    table_before = Dataset.objects.get(slug=f"{PREFIX}failing").table_name
    bad = copy.deepcopy(good)
    change(bad)
    MergedDataset.objects.filter(pk=merge.pk).update(spec=bad)  # past the service's checks, as a member may change
    record = build(merge.pk)
    assert record.status == "failed"
    assert message in record.error, record.error
    assert published(f"{PREFIX}failing") == before
    assert Dataset.objects.get(slug=f"{PREFIX}failing").table_name == table_before
    assert rows("SELECT count(*) FROM pg_tables WHERE schemaname = 'sdi_staging' AND tablename LIKE 'merge\\_%%'")[0][0] == 0


def test_the_service_refuses_a_bad_spec_naming_the_member_and_field(members):
    bad = spec(f"{PREFIX}refused")
    bad["members"][0]["fields"]["loai_dat"] = {"field": "mdsd_x"}
    with pytest.raises(RequestRefused) as refused:
        save_merge(bad)
    assert str(refused.value).startswith(f"merge {PREFIX}refused, member {A}, field loai_dat: member field 'mdsd_x'")
    assert refused.value.field == "members[0].fields.loai_dat"
    missing = spec(f"{PREFIX}refused")
    del missing["members"][2]["fields"]["dien_tich_m2"]
    with pytest.raises(RequestRefused, match="target field 'dien_tich_m2' is not given"):
        save_merge(missing)
    with pytest.raises(RequestRefused, match="member 'x' .*|there is no dataset 'mtest-none'"):
        save_merge(spec(f"{PREFIX}refused", members=[{**spec("x")["members"][0], "dataset": f"{PREFIX}none"}]))
    with pytest.raises(RequestRefused, match="cannot be its own member"):
        save_merge(spec(A))
    with pytest.raises(RequestRefused, match="'summary' is the name of an OGC API process"):
        save_merge(spec("summary"))
    assert not MergedDataset.objects.filter(slug=f"{PREFIX}refused").exists()


def test_a_source_run_that_changed_a_member_queues_a_rebuild_with_the_runs_version(members, parcels):  # noqa: F811
    from layers.sources.harvest import harvest
    from layers.sources.services import register_source

    slug = f"{PREFIX}src"
    source = register_source(user=None, slug=slug, kind="postgres", dsn=sector_dsn(), table=parcels.qualified,
                             key="ma_thua", metadata={"title_vi": "Thửa đất", "sector": "land"})
    assert harvest(source.pk).status == "succeeded"
    merge, _ = save_merge({
        "slug": f"{PREFIX}from-source", "title_vi": "Gộp", "title_en": "Merged", "sector": "land", "crs": "EPSG:5897",
        "fields": [{"name": "ma_thua", "type": "text"}, {"name": "loai_dat", "type": "text"}],
        "members": [{"dataset": slug, "key": "ma_thua", "fields": {"ma_thua": "ma_thua", "loai_dat": "loại_đất"}}]})
    assert build(merge.pk).status == "succeeded"
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = 'build_merge'")
    parcels.sql("UPDATE {t} SET \"loại_đất\" = 'TMD' WHERE ma_thua = 'NK-0002'")
    run = harvest(source.pk)
    assert run.status == "succeeded" and run.changed == 1
    assert rows("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'build_merge' AND status = 'todo' "
                "AND queueing_lock = %s", (f"merge:{merge.pk}",))[0][0] == 1
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = 'build_merge'")
    assert build_merge(merge_id=merge.pk) == "succeeded"
    features = rows(f'SELECT member_key, loai_dat, member_version FROM sdi_data."{PREFIX.replace("-", "_")}from_source"')
    changed = {key: (use, version) for key, use, version in features}
    assert changed["NK-0002"][0] == "TMD" and changed["NK-0001"][0] == "CLN"
    run.refresh_from_db()
    assert changed["NK-0002"][1] >= run.finished


def test_a_lon_lat_target_measures_overlaps_and_gaps_in_square_metres(members):
    merge, _ = save_merge(spec(f"{PREFIX}lonlat", crs="http://www.opengis.net/def/crs/OGC/1.3/CRS84"))
    record = build(merge.pk)
    assert record.status == "succeeded", record.error
    assert Dataset.objects.get(slug=f"{PREFIX}lonlat").storage_srid == 4326
    overlaps = {(o["member_a"], o["member_b"]): o["area_m2"] for o in record.report["overlaps"]}
    gaps = {(g["member_a"], g["member_b"]): g["area_m2"] for g in record.report["gaps"]}
    assert overlaps[(A, B)] == pytest.approx(4_600, rel=5e-3)  # on the spheroid: UTM's scale factor is ~0.9997
    assert gaps[(A, C)] == pytest.approx(600, rel=0.02)
    assert published(f"{PREFIX}lonlat")[(B, "1")][6] == 4326


def test_value_map_keys_and_constants_are_read_as_nfc():
    import unicodedata

    from layers.merging.spec import parse_spec

    raw = spec(f"{PREFIX}nfc")
    raw["members"][0]["fields"]["loai_dat"]["map"] = {unicodedata.normalize("NFD", "Đất ở tại đô thị"): "ODT"}
    raw["members"][0]["fields"]["ma_huyen"] = {"value": unicodedata.normalize("NFD", "Ninh Kiều")}
    parsed = parse_spec(raw).members[0].mappings
    assert parsed[1].map == {"Đất ở tại đô thị": "ODT"} and parsed[3].value == "Ninh Kiều"
    assert unicodedata.is_normalized("NFC", next(iter(parsed[1].map)))


def test_scale_changes_a_members_unit_and_is_refused_where_no_number_is(members):
    scaled = spec(f"{PREFIX}scaled")
    scaled["members"][1]["fields"]["dien_tich_m2"] = {"field": "area", "scale": 0.0001}  # m² → ha, as a test
    merge, _ = save_merge(scaled)
    record = build(merge.pk, trigger="test")
    assert record.status == "succeeded", record.error
    features = published(f"{PREFIX}scaled")
    assert features[(B, "2")][2] == pytest.approx(1.0) and features[(A, "A2")][2] == pytest.approx(10000.0)
    for bad, words in (({"field": "mdsd", "scale": 10}, "scale needs a number: the target type is text"),
                       ({"field": "mdsd", "scale": 0}, "scale 0: give a number other than 0"),
                       ({"field": "mdsd", "scale": "x"}, "scale 'x'")):
        refused = spec(f"{PREFIX}refused")
        refused["members"][0]["fields"]["loai_dat"] = bad
        with pytest.raises(RequestRefused, match=words) as caught:
            save_merge(refused)
        assert caught.value.field == "members[0].fields.loai_dat"


def test_a_build_left_running_by_a_gone_process_is_recorded_as_failed_but_not_a_live_one(members):
    """The sweep of killed workers: a build holds its merge's lock for its whole life (here a real second session
    holds it); once no session holds it, a build still "running" was cut off and is recorded as failed."""
    import psycopg

    from layers.merging.build import LOCK_NAMESPACE, reap_interrupted_builds
    from layers.merging.models import MergeBuild
    from sdi.database import connection_kwargs

    merge, _ = save_merge(spec(f"{PREFIX}reaped"))
    record = MergeBuild.objects.create(merge=merge, trigger="test: a worker about to be killed")
    with psycopg.connect(**connection_kwargs(autocommit=True)) as builder:
        builder.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, merge.pk))
        assert reap_interrupted_builds() == 0
        record.refresh_from_db()
        assert record.status == "running", "a build whose process lives is left alone"
    # the builder's session has ended, as a killed worker's does
    assert reap_interrupted_builds() == 1
    record.refresh_from_db()
    assert record.status == "failed" and "interrupted" in record.error and record.finished is not None
    assert reap_interrupted_builds() == 0
