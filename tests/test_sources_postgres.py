"""Sources kept in sync: a real sector PostgreSQL database harvested by key (issue 10).

The sector is a second database in the test cluster (tests/sources_sector.py). Every failure case checks that
the published table, its registry row and the registry version are exactly as they were before the run.
"""
import json
import logging
import os
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from psycopg import sql

from layers.models import Dataset
from layers.registry.services import current_registry_version
from layers.sources.harvest import LOCK_NAMESPACE, SourceBusy, harvest, reap_interrupted_runs
from layers.sources.models import FeatureChange, Source, SourceRun, keys_table
from layers.sources.schedule import due_source_ids
from layers.sources.services import register_source
from tests.conftest import REPO, database_url_for_servers
from tests.sources_sector import (PARCELS, SECTOR_DB, SectorTable, admin_kwargs, parcels,  # noqa: F401
                                  forget_sources, sector_database, sector_dsn)

PREFIX = "src-"


@pytest.fixture
def db(committed_db):
    yield
    forget_sources(PREFIX)


def new_slug() -> str:
    return f"{PREFIX}{uuid.uuid4().hex[:8]}"


def register(table: SectorTable, slug: str | None = None, **extra) -> Source:
    return register_source(user=None, slug=slug or new_slug(), kind="postgres", dsn=extra.pop("dsn", sector_dsn()),
                           table=table.qualified, key=extra.pop("key", "ma_thua"),
                           metadata={"title_vi": "Thửa đất Ninh Kiều (thử)", "sector": "land",
                                     "attribution": "VP ĐKĐĐ Ninh Kiều"}, **extra)


def published(slug: str) -> dict:
    """key → (fid, row xmin, diện tích) of the published table: xmin changes only when a row is written."""
    dataset = Dataset.objects.get(slug=slug)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT ma_thua, fid, xmin::text, \"diện_tích\" FROM {}.{}").format(
            sql.Identifier(dataset.table_schema), sql.Identifier(dataset.table_name)))
        return {key: (fid, xmin, float(area)) for key, fid, xmin, area in cursor.fetchall()}


def key_rows(source_id: int) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (keys_table(source_id).as_string(None),))
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(keys_table(source_id)))
        return cursor.fetchone()[0]


def snapshot(slug: str) -> tuple:
    """Everything a failed run must leave as it was: the rows, the registry row, the registry version."""
    dataset = Dataset.objects.get(slug=slug)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT md5(string_agg(t::text, '|' ORDER BY fid)), count(*) FROM {}.{} t").format(
            sql.Identifier(dataset.table_schema), sql.Identifier(dataset.table_name)))
        rows = cursor.fetchone()
    values = Dataset.objects.filter(slug=slug).values().get()
    values["extent"] = values["extent"].wkt
    return rows, values, current_registry_version(), FeatureChange.objects.filter(dataset=dataset).count()


def test_the_first_run_creates_the_dataset_in_vn2000_with_the_sector_own_column_names(db, parcels):
    source = register(parcels)
    run = harvest(source.pk)
    assert run.status == "succeeded", run.error
    assert (run.added, run.changed, run.removed) == (PARCELS, 0, 0)
    dataset = Dataset.objects.get(slug=source.slug)
    assert dataset.feature_count == PARCELS and dataset.storage_srid == 9210
    assert dataset.geometry_type == "Polygon" and dataset.sector.code == "land"
    assert [c["name"] for c in dataset.attribute_schema] == ["ma_thua", "chủ_sử_dụng", "diện_tích", "loại_đất",
                                                             "ngày_cấp"]
    assert dataset.districts == ["Quận Ninh Kiều"]
    source.refresh_from_db()
    assert source.dataset == dataset
    assert key_rows(source.pk) == PARCELS
    # One summary entry, not a copy of every feature (say why: docs/sources.md)
    (entry,) = FeatureChange.objects.filter(dataset=dataset)
    assert entry.action == "added" and entry.key == "" and entry.new["features"] == PARCELS
    assert set(published(source.slug)) == {f"NK-{i:04d}" for i in range(1, PARCELS + 1)}


def test_a_rerun_writes_only_what_changed_keeps_fids_and_logs_old_and_new_values(db, parcels):
    source = register(parcels)
    assert harvest(source.pk).status == "succeeded"
    before, version = published(source.slug), current_registry_version()
    parcels.sql("UPDATE {t} SET \"diện_tích\" = 999.5 WHERE ma_thua IN ('NK-0001', 'NK-0002')")
    parcels.sql("UPDATE {t} SET hinh = ST_Translate(hinh, 5, 0) WHERE ma_thua = 'NK-0003'")
    parcels.sql("DELETE FROM {t} WHERE ma_thua = 'NK-0004'")
    parcels.sql("INSERT INTO {t} VALUES ('NK-9000', 'Trần Thị Bé', 42, 'ONT', '2025-05-05', "
                "ST_MakeEnvelope(502500, 1108500, 502510, 1108510, 9210))")
    run = harvest(source.pk)
    assert run.status == "succeeded", run.error
    assert (run.added, run.changed, run.removed) == (1, 3, 1)
    after = published(source.slug)
    assert "NK-0004" not in after and after["NK-9000"][2] == 42
    assert after["NK-9000"][0] > max(fid for fid, _, _ in before.values())
    for key in ("NK-0001", "NK-0002", "NK-0003"):
        assert after[key][0] == before[key][0], "a changed feature keeps its id"
        assert after[key][1] != before[key][1]
    untouched = [k for k in before if k not in ("NK-0001", "NK-0002", "NK-0003", "NK-0004")]
    assert all(after[k][:2] == before[k][:2] for k in untouched), "rows that did not change were not written"
    assert Dataset.objects.get(slug=source.slug).feature_count == PARCELS
    assert current_registry_version() > version
    log = {(c.action, c.key): c for c in FeatureChange.objects.filter(run=run)}
    assert set(log) == {("changed", "NK-0001"), ("changed", "NK-0002"), ("changed", "NK-0003"),
                        ("removed", "NK-0004"), ("added", "NK-9000")}
    changed = log[("changed", "NK-0001")]
    assert changed.old["diện_tích"] == 101 and changed.new["diện_tích"] == 999.5
    assert changed.fid == before["NK-0001"][0]
    assert changed.new["geometry"]["type"] == "Polygon" and 105.7 < changed.new["geometry"]["coordinates"][0][0][0] < 105.8
    moved = log[("changed", "NK-0003")]
    assert moved.old["geometry"] != moved.new["geometry"]
    assert log[("removed", "NK-0004")].old["chủ_sử_dụng"] == "Nguyễn Văn 4" and log[("removed", "NK-0004")].new is None
    assert log[("added", "NK-9000")].old is None and log[("added", "NK-9000")].new["loại_đất"] == "ONT"


def test_a_rerun_with_nothing_changed_writes_nothing(db, parcels):
    source = register(parcels)
    harvest(source.pk)
    before, version = snapshot(source.slug), current_registry_version()
    run = harvest(source.pk)
    assert run.status == "succeeded" and (run.added, run.changed, run.removed) == (0, 0, 0)
    assert snapshot(source.slug) == before and current_registry_version() == version


FAILURES = {
    "dropped column": ("ALTER TABLE {t} DROP COLUMN \"loại_đất\"", ["'loại_đất'", "gone"]),
    "renamed column": ("ALTER TABLE {t} RENAME COLUMN \"diện_tích\" TO dien_tich_m2",
                       ["'diện_tích'", "'dien_tich_m2'", "renamed"]),
    "retyped column": ("ALTER TABLE {t} ALTER COLUMN \"ngày_cấp\" TYPE text", ["'ngày_cấp'", "date → string"]),
    "invalid geometry": ("UPDATE {t} SET hinh = ST_GeomFromText('POLYGON((502000 1108000, 502010 1108010, "
                         "502010 1108000, 502000 1108010, 502000 1108000))', 9210) WHERE ma_thua = 'NK-0007'",
                         ["invalid geometries", "NK-0007", "Self-intersection"]),
    "duplicate keys": ("ALTER TABLE {t} DROP CONSTRAINT {t_pkey}; UPDATE {t} SET ma_thua = 'NK-0001' "
                       "WHERE ma_thua IN ('NK-0002', 'NK-0003')", ["'ma_thua'", "not unique", "'NK-0001' ×3"]),
    "empty keys": ("ALTER TABLE {t} DROP CONSTRAINT {t_pkey}; UPDATE {t} SET ma_thua = '' WHERE ma_thua = 'NK-0002'; "
                   "ALTER TABLE {t} ALTER COLUMN ma_thua DROP NOT NULL; UPDATE {t} SET ma_thua = NULL "
                   "WHERE ma_thua = 'NK-0003'", ["'ma_thua'", "empty in 2 row(s)"]),
    "missing key column": ("ALTER TABLE {t} RENAME COLUMN ma_thua TO so_thua", ["'ma_thua'", "missing"]),
    "gone table": ("DROP TABLE {t}", ["no table or view"]),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_broken_source_fails_the_run_with_a_precise_reason_and_leaves_the_dataset_untouched(db, parcels, case):
    source = register(parcels)
    assert harvest(source.pk).status == "succeeded"
    parcels.sql("UPDATE {t} SET \"diện_tích\" = 1 WHERE ma_thua = 'NK-0010'")  # a change that must NOT land
    before = snapshot(source.slug)
    statement, expected = FAILURES[case]
    for part in statement.split("; "):
        parcels.conn.execute(part.format(t=parcels.qualified, t_pkey=f"{parcels.name}_pkey"))
    run = harvest(source.pk)
    assert run.status == "failed" and run.finished is not None
    assert run.error.startswith(f"source {source.slug} (")
    for words in expected:
        assert words in run.error, run.error
    assert snapshot(source.slug) == before
    assert not FeatureChange.objects.filter(run=run).exists()


def test_a_first_run_with_duplicate_keys_creates_no_dataset(db, parcels):
    parcels.sql("ALTER TABLE {t} DROP CONSTRAINT " + f"{parcels.name}_pkey")
    parcels.sql("UPDATE {t} SET ma_thua = 'NK-0005' WHERE ma_thua = 'NK-0006'")
    source = register(parcels)
    run = harvest(source.pk)
    assert run.status == "failed" and "'NK-0005' ×2" in run.error
    assert not Dataset.objects.filter(slug=source.slug).exists()


def test_an_unreachable_database_fails_the_run_naming_the_source(db, parcels):
    dsn = sector_dsn().replace(f"port={connection.settings_dict['PORT']}", "port=1")
    source = register(parcels, dsn=dsn)
    run = harvest(source.pk)
    assert run.status == "failed"
    assert run.error.startswith(f"source {source.slug} (") and "cannot connect" in run.error
    assert run.unreachable, "a database that does not answer may answer later: the task queue retries the run"


def test_a_wrong_password_fails_and_no_password_appears_anywhere(db, parcels, caplog, capsys):
    password = "Mật-khẩu-sai-8731"
    source = register(parcels, dsn=sector_dsn(password))
    stored = Source.objects.filter(pk=source.pk).values().get()
    assert password not in json.dumps(stored, default=str, ensure_ascii=False)
    with caplog.at_level(logging.DEBUG):
        run = harvest(source.pk)
    assert run.status == "failed" and "password authentication failed" in run.error
    assert not run.unreachable, "a wrong password stays wrong: no retry"
    call_command("source_runs", source.slug, "--json")
    shown = capsys.readouterr().out
    assert json.loads(shown)[0]["status"] == "failed"
    for text in (run.error, json.dumps(run.report), caplog.text, shown):
        assert password not in text
    # ... while the right password, kept encrypted, works
    Source.objects.filter(pk=source.pk).delete()
    assert harvest(register(parcels, dsn=sector_dsn()).pk).status == "succeeded"


def test_the_command_line_registers_harvests_and_lists_runs(db, parcels, capsys):
    slug = new_slug()
    call_command("add_source", slug, "--postgres", sector_dsn(), "--table", parcels.qualified, "--key", "ma_thua",
                 "--every", "15m", "--title", "Thửa đất", "--sector", "land", "--crs", "EPSG:9210")
    source = Source.objects.get(slug=slug)
    assert source.every.total_seconds() == 900 and source.srid == 9210 and "password" not in source.dsn
    assert source.pk in due_source_ids(), "a scheduled source runs soon after it is added"
    env = {**os.environ, "DATABASE_URL": database_url_for_servers()}
    env.pop("PGAPPNAME", None)
    done = subprocess.run([sys.executable, "manage.py", "harvest", slug], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{slug}: {PARCELS} added, 0 changed, 0 removed" in done.stdout
    assert source.pk not in due_source_ids(), "the next run is an interval away"
    parcels.sql("DROP TABLE {t}")
    failed = subprocess.run([sys.executable, "manage.py", "harvest", slug], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    assert failed.returncode != 0 and "no table or view" in failed.stderr
    capsys.readouterr()
    call_command("source_runs", slug, "--json")
    runs = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in runs] == ["failed", "succeeded"], "newest first"
    assert {"started", "finished", "status", "added", "changed", "removed", "error"} <= set(runs[0])
    assert runs[1]["added"] == PARCELS and "no table or view" in runs[0]["error"]
    with pytest.raises(CommandError, match="already has a source"):
        call_command("add_source", slug, "--postgres", sector_dsn(), "--table", parcels.qualified)
    with pytest.raises(CommandError, match="every '5x'"):
        call_command("add_source", new_slug(), "--postgres", sector_dsn(), "--table", "a.b", "--every", "5x")
    with pytest.raises(CommandError, match="slug 'summary' is the name of an OGC API process"):
        call_command("add_source", "summary", "--postgres", sector_dsn(), "--table", parcels.qualified)
    with pytest.raises(CommandError, match="no source"):
        call_command("harvest", new_slug())


def test_deleting_the_dataset_removes_its_source_runs_keys_and_change_log(db, parcels):
    source = register(parcels)
    harvest(source.pk)
    parcels.sql("DELETE FROM {t} WHERE ma_thua = 'NK-0001'")
    harvest(source.pk)
    dataset = Dataset.objects.get(slug=source.slug)
    assert FeatureChange.objects.filter(dataset=dataset).count() == 2
    call_command("delete_dataset", source.slug)
    assert not Source.objects.filter(pk=source.pk).exists()
    assert not SourceRun.objects.filter(source_id=source.pk).exists()
    assert key_rows(source.pk) is None, "the source's key table is dropped"
    assert not FeatureChange.objects.filter(dataset_id=dataset.pk).exists()


def test_two_harvests_of_one_source_never_overlap(db, parcels):
    """A run blocked mid-read (the land office holds a lock on its table) keeps the source's lock; a second run
    is refused and records nothing; the first one completes once the table is free."""
    source = register(parcels)
    lock = psycopg.connect(**{**admin_kwargs(SECTOR_DB), "autocommit": False})
    lock.execute(f"LOCK TABLE {parcels.qualified} IN ACCESS EXCLUSIVE MODE")
    env = {**os.environ, "DATABASE_URL": database_url_for_servers()}
    env.pop("PGAPPNAME", None)
    first = subprocess.Popen([sys.executable, "manage.py", "harvest", source.slug], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (_lock_held(source.pk) and SourceRun.objects.filter(source=source, status="running").exists()):
            assert time.monotonic() < deadline and first.poll() is None, "the first run never took the lock"
            time.sleep(0.1)
        with pytest.raises(SourceBusy, match="already in progress"):
            harvest(source.pk)
        assert SourceRun.objects.filter(source=source).count() == 1
    finally:
        lock.rollback()
        lock.close()
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    (run,) = SourceRun.objects.filter(source=source)
    assert run.status == "succeeded" and run.added == PARCELS


def _lock_held(source_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
                       "AND objid = %s AND granted)", (LOCK_NAMESPACE, source_id))
        return cursor.fetchone()[0]


def test_a_run_whose_process_died_is_reaped_as_failed_and_its_staging_dropped(db, parcels):
    source = register(parcels)
    staging = f"src_{uuid.uuid4().hex[:16]}"
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE TABLE sdi_staging.{} (fid int)").format(sql.Identifier(staging)))
    run = SourceRun.objects.create(source=source, owner="elsewhere pid 1", owner_token=2_000_000_001,
                                   staging=staging)
    assert reap_interrupted_runs() >= 1
    run.refresh_from_db()
    assert run.status == "failed" and "interrupted" in run.error and run.finished is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", (f"sdi_staging.{staging}",))
        assert cursor.fetchone()[0] is None


def test_a_run_after_the_dataset_was_replaced_by_an_upload_publishes_in_full(db, parcels, tmp_path):
    """An upload gives the features new ids; the source's recorded ids are then stale, so the next run
    publishes the whole table again instead of writing into the wrong features."""
    from layers.registry.services import DatasetMetadata, import_vector_dataset

    source = register(parcels)
    assert harvest(source.pk).status == "succeeded"
    upload = tmp_path / "thay.geojson"
    upload.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"ma_thua": "NK-0001", "ghi_chu": "tải lên"},
        "geometry": {"type": "Point", "coordinates": [105.78, 10.03]}}]}), encoding="utf-8")
    meta = DatasetMetadata.of(Dataset.objects.get(slug=source.slug))
    import_vector_dataset(upload, slug=source.slug, metadata=meta, replace=True)
    parcels.sql("UPDATE {t} SET \"diện_tích\" = 7 WHERE ma_thua = 'NK-0002'")
    run = harvest(source.pk)
    assert run.status == "succeeded", run.error
    assert run.report.get("first_run") and run.added == PARCELS
    dataset = Dataset.objects.get(slug=source.slug)
    assert dataset.feature_count == PARCELS and dataset.geometry_type == "Polygon"
    assert published(source.slug)["NK-0002"][2] == 7


@pytest.mark.parametrize("dsn, refusal", [
    ("host=127.0.0.1 dbname=x user=u passfile=/etc/shadow", "may not set 'passfile'"),
    ("host=127.0.0.1 dbname=x sslkey=/root/.ssh/id_rsa", "may not set 'sslkey'"),
    ("host=127.0.0.1 dbname=x options='-c default_transaction_read_only=off'", "may not set 'options'"),
    ("own", "the SDI's own database cannot be a source"),
    ("host=127.0.0.1 dbname='unclosed", "cannot be read"),
])
def test_a_connection_string_that_would_read_server_files_or_the_sdi_itself_is_refused(db, dsn, refusal):
    if dsn == "own":
        own = connection.settings_dict
        dsn = f"host={own['HOST']} port={own['PORT']} dbname={own['NAME']} user={own['USER']} password=x"
    slug = new_slug()
    with pytest.raises(CommandError, match=refusal):
        call_command("add_source", slug, "--postgres", dsn, "--table", "dia_chinh.thua_dat")
    assert not Source.objects.filter(slug=slug).exists()
