"""`manage.py sample_sector` (what `make run` shows a new user): a real second database with a labelled synthetic
land register, registered as a scheduled source, harvested once, then edited and harvested again."""
import json
import unicodedata

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from psycopg import sql

from layers.management.commands.sample_sector import EVERY, SLUG
from layers.models import Dataset
from layers.registry.services import delete_dataset
from layers.sources.models import FeatureChange, Source, SourceRun
from layers.sources.sample_sector import SCHEMA, TABLE, database, reader_role
from tests.sources_sector import admin_kwargs

SAMPLE_DB = "sdi_test_sample_sector"


@pytest.fixture
def sample(committed_db, settings):
    settings.SDI_SAMPLE_SECTOR_DB = SAMPLE_DB
    yield
    if Dataset.objects.filter(slug=SLUG).exists():
        delete_dataset(SLUG)
    Source.objects.filter(slug=SLUG).delete()
    with psycopg.connect(**admin_kwargs("postgres")) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(SAMPLE_DB)))
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(f"{SAMPLE_DB}_reader")))


def published_rows(dataset: Dataset) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT ma_thua, ma_loai_dat, ten_loai_dat FROM {}.{} ORDER BY ma_thua").format(
            sql.Identifier(dataset.table_schema), sql.Identifier(dataset.table_name)))
        return cursor.fetchall()


def test_the_sample_sector_is_set_up_registered_harvested_and_kept_in_sync(sample, capsys):
    call_command("sample_sector")
    assert database() == SAMPLE_DB
    source = Source.objects.get(slug=SLUG)
    assert source.kind == "postgres" and source.every.total_seconds() == 3600 and EVERY == "1h"
    assert source.table == f"{SCHEMA}.{TABLE}" and source.key_field == "ma_thua"
    assert f"user={reader_role()}" in source.dsn or reader_role() in source.dsn
    # the read-only role's password is stored encrypted, never in the DSN
    with psycopg.connect(**admin_kwargs(SAMPLE_DB)) as sector:
        parcels = sector.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(SCHEMA, TABLE))).fetchone()[0]
        label = sector.execute("SELECT obj_description(%s::regclass)", (f"{SCHEMA}.{TABLE}",)).fetchone()[0]
        can_write = sector.execute("SELECT has_table_privilege(%s, %s, 'UPDATE')",
                                   (reader_role(), f"{SCHEMA}.{TABLE}")).fetchone()[0]
    assert "password=" not in source.dsn and source.secret
    assert "KHÔNG CÓ THẬT" in label and "SYNTHETIC" in label, "the sample database says it is not real"
    assert not can_write, "the SDI reads the sector through a role that cannot change it"
    assert parcels > 10_000

    dataset = Dataset.objects.get(slug=SLUG)
    assert dataset.feature_count == parcels and dataset.storage_srid == 5897
    assert "MẪU" in dataset.title_vi and "SAMPLE" in dataset.title_en
    assert "Quận Ninh Kiều" in dataset.districts or any("Ninh Kiều" in d for d in dataset.districts)
    rows = published_rows(dataset)
    names = {name for _, _, name in rows}
    assert "Đất ở tại đô thị" in names and all(unicodedata.is_normalized("NFC", n) for n in names)
    first = SourceRun.objects.filter(source=source).get()
    assert (first.status, first.added) == ("succeeded", parcels)

    # a second `make run` keeps the register and writes nothing
    call_command("sample_sector")
    again = SourceRun.objects.filter(source=source).order_by("-started").first()
    assert (again.status, again.added, again.changed, again.removed) == ("succeeded", 0, 0, 0)
    assert published_rows(dataset) == rows

    # the land office re-classifies 10 parcels, splits 2 and retires 2: the next run shows just that
    call_command("sample_sector", "--change", "10")
    edited = SourceRun.objects.filter(source=source).order_by("-started").first()
    assert edited.status == "succeeded"
    assert (edited.added, edited.removed) == (2, 2) and edited.changed >= 10
    reclassified = FeatureChange.objects.filter(run=edited, action="changed",
                                                old__ma_loai_dat="ODT", new__ma_loai_dat="TMD")
    assert reclassified.count() == 10
    assert Dataset.objects.get(slug=SLUG).feature_count == parcels
    out = capsys.readouterr().out
    assert "10 re-classified, 2 split off, 2 retired" in out and "2 added" in out
    call_command("source_runs", SLUG, "--json")
    history = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in history] == ["succeeded"] * 3 and history[0]["removed"] == 2
