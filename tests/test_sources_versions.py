"""A re-harvest of a sector's table reads row versions (xmin), not hashes: only rows with a new key or a new version
are fetched, and of those only rows whose hash changed are written (issue 10's speed, layers/sources/postgres.py).

Where xmins cannot be compared with the last run's (a view, a re-created table, a key table from before versions
were kept) the run compares hashes, and still writes only what really changed.
"""
import psycopg
from django.core.management import call_command
from django.db import connection
from psycopg import sql

from layers.models import Dataset
from layers.sources.harvest import harvest
from layers.sources.models import Source, keys_table
from layers.sources.services import register_source
from tests.sources_sector import PARCELS, SECTOR_DB, admin_kwargs, parcels, sector_database, sector_dsn  # noqa: F401
from tests.test_sources_postgres import db, new_slug, published, register, snapshot  # noqa: F401


def counts(run) -> tuple:
    return run.status, run.error, (run.added, run.changed, run.removed)


def test_a_rerun_fetches_only_rows_with_a_new_version_and_writes_only_real_changes(db, parcels):
    source = register(parcels)
    assert harvest(source.pk).status == "succeeded"
    before = published(source.slug)
    parcels.sql("UPDATE {t} SET \"diện_tích\" = 999 WHERE ma_thua = 'NK-0001'")
    parcels.sql("UPDATE {t} SET \"loại_đất\" = \"loại_đất\" WHERE ma_thua IN ('NK-0002', 'NK-0003')")  # no change
    run = harvest(source.pk)
    assert counts(run) == ("succeeded", "", (0, 1, 0))
    assert run.report["compared_by"] == "recent versions" and run.report["fetched"] == 3, run.report
    after = published(source.slug)
    assert after["NK-0001"][1] != before["NK-0001"][1] and after["NK-0001"][2] == 999
    assert all(after[k][:2] == before[k][:2] for k in before if k != "NK-0001"), "only the real change is written"
    again = harvest(source.pk)
    assert counts(again) == ("succeeded", "", (0, 0, 0))
    assert again.report["fetched"] == 0, "the new versions of the unchanged rows were kept"


def test_a_view_has_no_row_versions_and_is_compared_by_hash(db, parcels):
    view = f"{parcels.qualified}_v"
    parcels.sql(f"CREATE VIEW {view} AS SELECT * FROM {{t}}")
    try:
        source = register_source(user=None, slug=new_slug(), kind="postgres", dsn=sector_dsn(), table=view,
                                 key="ma_thua", metadata={"title_vi": "Thửa đất (view)", "sector": "land"})
        assert counts(harvest(source.pk))[:2] == ("succeeded", "")
        before = published(source.slug)
        parcels.sql("UPDATE {t} SET \"diện_tích\" = 7 WHERE ma_thua = 'NK-0005'")
        run = harvest(source.pk)
        assert counts(run) == ("succeeded", "", (0, 1, 0))
        assert run.report["compared_by"] == "hash" and run.report["fetched"] == 1, run.report
        after = published(source.slug)
        assert all(after[k][:2] == before[k][:2] for k in before if k != "NK-0005")
    finally:
        parcels.sql(f"DROP VIEW IF EXISTS {view}")


def test_a_recreated_table_is_compared_by_hash_then_by_version_again(db, parcels):
    source = register(parcels)
    assert harvest(source.pk).status == "succeeded"
    before = published(source.slug)
    # A dump and restore, as a land office might do: every row gets a new xmin, in a table with a new oid.
    parcels.sql("CREATE TABLE {t}_copy AS SELECT * FROM {t}")
    parcels.sql("DROP TABLE {t}")
    parcels.sql(f"ALTER TABLE {{t}}_copy RENAME TO {parcels.name}")
    parcels.sql("ALTER TABLE {t} ADD PRIMARY KEY (ma_thua)")
    parcels.sql("UPDATE {t} SET \"chủ_sử_dụng\" = 'Lê Thị Mới' WHERE ma_thua = 'NK-0009'")
    run = harvest(source.pk)
    assert counts(run) == ("succeeded", "", (0, 1, 0))
    assert run.report["compared_by"] == "hash" and run.report["fetched"] == 1, run.report
    after = published(source.slug)
    assert all(after[k][:2] == before[k][:2] for k in before if k != "NK-0009"), "the restore rewrote nothing"
    again = harvest(source.pk)
    assert counts(again) == ("succeeded", "", (0, 0, 0))
    assert again.report["compared_by"] == "recent versions" and again.report["fetched"] == 0, again.report


def test_a_transaction_open_during_a_run_is_read_by_the_next_one(db, parcels):
    """The rows of a transaction that the last run's snapshot could not see yet are read by the next run, though
    their xmin is older than that snapshot's end (which is why the snapshot's oldest running xid is kept)."""
    source = register(parcels)
    assert harvest(source.pk).status == "succeeded"
    with psycopg.connect(**{**admin_kwargs(SECTOR_DB), "autocommit": False}) as office:
        office.execute(sql.SQL("UPDATE {} SET \"diện_tích\" = 4242 WHERE ma_thua = 'NK-0004'").format(
            sql.SQL(parcels.qualified)))  # open, not committed, while the run reads
        during = harvest(source.pk)
        assert counts(during) == ("succeeded", "", (0, 0, 0))
        office.commit()
    after = harvest(source.pk)
    assert counts(after) == ("succeeded", "", (0, 1, 0)), after.report
    assert after.report["compared_by"] == "recent versions", after.report
    assert published(source.slug)["NK-0004"][2] == 4242


def test_a_removed_or_renamed_key_makes_the_run_compare_every_key(db, parcels):
    """Rows written since the last run cannot show a deletion: when the counts say a row has gone (here one gone
    and one new, so the table's size is the same), every key is read and the run removes what went."""
    source = register(parcels)
    assert harvest(source.pk).status == "succeeded"
    parcels.sql("UPDATE {t} SET ma_thua = 'NK-9999' WHERE ma_thua = 'NK-0007'")
    run = harvest(source.pk)
    assert counts(run) == ("succeeded", "", (1, 0, 1)), run.report
    assert run.report["compared_by"] == "version", run.report
    keys = set(published(source.slug))
    assert "NK-9999" in keys and "NK-0007" not in keys and len(keys) == PARCELS
    parcels.sql("INSERT INTO {t} SELECT 'NK-0100', \"chủ_sử_dụng\", \"diện_tích\", \"loại_đất\", \"ngày_cấp\", "
                "ST_Translate(hinh, 0, 600) FROM {t} WHERE ma_thua = 'NK-0001'")
    added = harvest(source.pk)
    assert counts(added) == ("succeeded", "", (1, 0, 0)) and added.report["compared_by"] == "recent versions"


def test_a_key_table_from_before_versions_were_kept_is_upgraded_by_its_next_run(db, parcels):
    source = register(parcels)
    assert harvest(source.pk).status == "succeeded"
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("ALTER TABLE {} DROP COLUMN version").format(keys_table(source.pk)))
    source.refresh_from_db()  # ... and the sector's context as such a run stored it: no snapshot xmin, no row count
    Source.objects.filter(pk=source.pk).update(sector_state={k: v for k, v in source.sector_state.items()
                                                             if k not in ("xmin", "rows")})
    before = snapshot(source.slug)
    run = harvest(source.pk)
    assert counts(run) == ("succeeded", "", (0, 0, 0))
    assert run.report["fetched"] == PARCELS, "no stored version: every row is fetched and its hash compared"
    assert snapshot(source.slug) == before
    assert harvest(source.pk).report["fetched"] == 0


def test_delete_dataset_removes_a_source_that_never_published(db, parcels):
    parcels.sql("UPDATE {t} SET hinh = NULL")  # no feature has a geometry: the first run fails
    source = register(parcels)
    assert harvest(source.pk).status == "failed"
    assert not Dataset.objects.filter(slug=source.slug).exists()
    call_command("delete_dataset", source.slug)
    assert not Source.objects.filter(pk=source.pk).exists(), "the slug is free to be registered again"


def test_the_extent_follows_moved_and_removed_features_and_stays_when_only_attributes_change(db, parcels):
    source = register(parcels)
    assert harvest(source.pk).status == "succeeded"
    first = Dataset.objects.get(slug=source.slug).extent.extent
    parcels.sql("UPDATE {t} SET \"diện_tích\" = \"diện_tích\" + 1")  # attributes only: nothing to measure again
    assert counts(harvest(source.pk)) == ("succeeded", "", (0, PARCELS, 0))
    assert Dataset.objects.get(slug=source.slug).extent.extent == first
    parcels.sql("UPDATE {t} SET hinh = ST_Translate(hinh, 3000, 0) WHERE ma_thua = 'NK-0001'")  # moved east 3 km
    assert counts(harvest(source.pk)) == ("succeeded", "", (0, 1, 0))
    moved = Dataset.objects.get(slug=source.slug).extent.extent
    assert moved[2] > first[2] + 0.02, (first, moved)
    parcels.sql("DELETE FROM {t} WHERE ma_thua = 'NK-0001'")
    assert counts(harvest(source.pk)) == ("succeeded", "", (0, 0, 1))
    dataset = Dataset.objects.get(slug=source.slug)
    assert dataset.extent.extent[2] < moved[2] - 0.02 and dataset.feature_count == PARCELS - 1
