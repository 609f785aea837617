"""Loading through GDAL: what is refused, with which message, and that a refusal changes nothing."""
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from layers.loading import ImportRefused
from layers.models import Dataset
from layers.registry.services import DatasetMetadata, current_registry_version, delete_dataset, import_vector_dataset

DISTRICTS = settings.SDI_CONFIG_DIR / "data" / "cantho" / "admin" / "cantho_districts_gischinhphu.geojson"
META = DatasetMetadata(title_vi="Thử nghiệm", title_en="Test", sector="environment",
                       licence_name="CC BY 4.0", attribution="Test data")


def snapshot():
    """Everything a failed load must leave untouched."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN (%s, %s) ORDER BY 1, 2",
            (settings.SDI_DATA_SCHEMA, settings.SDI_STAGING_SCHEMA),
        )
        tables = cursor.fetchall()
    rows = list(Dataset.objects.order_by("slug").values_list("slug", "feature_count", "updated"))
    return tables, rows, current_registry_version()


def points_geojson(path: Path, points: list[tuple[float, float, str]]) -> Path:
    features = [
        {"type": "Feature", "properties": {"ten": name}, "geometry": {"type": "Point", "coordinates": [x, y]}}
        for x, y, name in points
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def cleanup(committed_db):
    slugs = []
    yield slugs
    for slug in slugs:
        if Dataset.objects.filter(slug=slug).exists():
            delete_dataset(slug)


def test_missing_file_is_refused_by_name(committed_db, tmp_path):
    before = snapshot()
    with pytest.raises(ImportRefused, match="nothing.geojson: file not found"):
        import_vector_dataset(tmp_path / "nothing.geojson", slug="t-missing", metadata=META)
    assert snapshot() == before


def test_geojson_with_a_syntax_error_is_refused_and_leaves_nothing(committed_db, tmp_path):
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": ', encoding="utf-8")
    before = snapshot()
    with pytest.raises(ImportRefused, match="broken.geojson: GDAL cannot read it"):
        import_vector_dataset(broken, slug="t-broken", metadata=META)
    assert snapshot() == before


def test_a_file_that_is_not_geodata_is_refused(committed_db, tmp_path):
    fake = tmp_path / "parcels.gpkg"
    fake.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # a truncated GeoPackage
    before = snapshot()
    with pytest.raises(ImportRefused, match="parcels.gpkg"):
        import_vector_dataset(fake, slug="t-truncated", metadata=META)
    assert snapshot() == before


def test_zero_features_are_refused(committed_db, tmp_path):
    empty = points_geojson(tmp_path / "empty.geojson", [])
    before = snapshot()
    with pytest.raises(ImportRefused, match="empty.geojson: contains 0 features"):
        import_vector_dataset(empty, slug="t-empty", metadata=META, srid=4326)
    assert snapshot() == before


def test_coordinates_outside_vietnam_for_the_declared_crs_are_refused(committed_db):
    """Lon/lat degrees declared as VN-2000 TM-3 metres land near the equator: the classic wrong-CRS mistake."""
    before = snapshot()
    with pytest.raises(ImportRefused, match=r"EPSG:5897 .* not in or near Vietnam"):
        import_vector_dataset(DISTRICTS, slug="t-wrong-crs", metadata=META, srid=5897)
    assert snapshot() == before


def test_swapped_axes_are_refused(committed_db, tmp_path):
    swapped = points_geojson(tmp_path / "swapped.geojson", [(10.03, 105.78, "Ninh Kiều")])
    with pytest.raises(ImportRefused, match="swapped x/y"):
        import_vector_dataset(swapped, slug="t-swapped", metadata=META)


def test_duplicate_slug_is_refused_without_touching_the_published_dataset(committed_db, tmp_path):
    before = snapshot()
    with pytest.raises(ImportRefused, match="'cantho-districts' already exists"):
        import_vector_dataset(DISTRICTS, slug="cantho-districts", metadata=META)
    assert snapshot() == before


def test_bad_slug_and_unknown_sector_are_refused(committed_db):
    with pytest.raises(ImportRefused, match="slug 'Bad Slug!'"):
        import_vector_dataset(DISTRICTS, slug="Bad Slug!", metadata=META)
    with pytest.raises(ImportRefused, match="unknown sector 'nowhere'"):
        import_vector_dataset(DISTRICTS, slug="t-sector", metadata=DatasetMetadata(**{**META.__dict__, "sector": "nowhere"}))


def test_replace_swaps_the_table_keeps_the_id_and_a_failed_replace_changes_nothing(cleanup, tmp_path):
    cleanup.append("t-replace")
    first = points_geojson(tmp_path / "v1.geojson", [(105.78, 10.03, "Cái Khế"), (105.77, 10.04, "An Hòa")])
    dataset = import_vector_dataset(first, slug="t-replace", metadata=META).dataset
    version = current_registry_version()
    assert dataset.feature_count == 2

    second = points_geojson(tmp_path / "v2.geojson", [(105.78, 10.03, "a"), (105.77, 10.04, "b"), (105.76, 10.05, "c")])
    replaced = import_vector_dataset(second, slug="t-replace", metadata=META, replace=True).dataset
    assert replaced.pk == dataset.pk and replaced.feature_count == 3
    assert current_registry_version() > version

    broken = tmp_path / "v3.geojson"
    broken.write_text("{not json", encoding="utf-8")
    before = snapshot()
    with pytest.raises(ImportRefused):
        import_vector_dataset(broken, slug="t-replace", metadata=META, replace=True)
    assert snapshot() == before
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{replaced.table_schema}"."{replaced.table_name}"')
        assert cursor.fetchone()[0] == 3


def test_decomposed_vietnamese_text_is_stored_as_nfc(cleanup, tmp_path):
    cleanup.append("t-nfc")
    decomposed = "Ninh Kie\u0302\u0300u"  # "Ninh Kiều" with combining marks (NFD-like)
    dataset = import_vector_dataset(points_geojson(tmp_path / "nfd.geojson", [(105.78, 10.03, decomposed)]),
                                    slug="t-nfc", metadata=META).dataset
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT ten FROM "{dataset.table_schema}"."{dataset.table_name}"')
        assert cursor.fetchone()[0] == "Ninh Kiều"


def test_delete_removes_row_and_table(cleanup, tmp_path):
    dataset = import_vector_dataset(points_geojson(tmp_path / "d.geojson", [(105.78, 10.03, "x")]), slug="t-delete",
                                    metadata=META).dataset
    delete_dataset("t-delete")
    assert not Dataset.objects.filter(slug="t-delete").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", (f'"{dataset.table_schema}"."{dataset.table_name}"',))
        assert cursor.fetchone()[0] is None


def test_default_catalogue_is_idempotent(committed_db, capsys):
    version = current_registry_version()
    call_command("load_default_datasets")
    assert "all up to date" in capsys.readouterr().out
    assert current_registry_version() == version


def test_default_catalogue_with_a_missing_file_stops_naming_it_and_keeps_loaded_data(committed_db, tmp_path):
    catalogue = tmp_path / "datasets.yml"
    catalogue.write_text(
        f"datasets:\n"
        f"  - {{slug: cantho-districts, file: {DISTRICTS}, sector: land, title_vi: a, title_en: a,"
        f" licence_name: x, attribution: y}}\n"
        f"  - {{slug: t-gone, file: gone/missing.geojson, sector: land, title_vi: b, title_en: b,"
        f" licence_name: x, attribution: y}}\n",
        encoding="utf-8",
    )
    before = snapshot()
    with pytest.raises(CommandError, match="missing.geojson is missing"):
        call_command("load_default_datasets", "--catalogue", str(catalogue))
    assert snapshot() == before


def test_default_catalogue_with_a_corrupt_file_stops_naming_it(committed_db, tmp_path):
    corrupt = tmp_path / "corrupt.geojson"
    corrupt.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    catalogue = tmp_path / "datasets.yml"
    catalogue.write_text(
        f"datasets:\n  - {{slug: t-corrupt, file: {corrupt}, sector: land, title_vi: b, title_en: b,"
        f" licence_name: x, attribution: y}}\n",
        encoding="utf-8",
    )
    before = snapshot()
    with pytest.raises(CommandError, match="corrupt.geojson"):
        call_command("load_default_datasets", "--catalogue", str(catalogue))
    assert snapshot() == before
