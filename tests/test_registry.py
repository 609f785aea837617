"""The registry after `load_default_datasets`: sectors, datasets, their tables and what was measured."""
import json
import unicodedata

import pytest
from django.conf import settings
from django.contrib.gis.gdal import DataSource
from django.db import connection

from layers.models import Dataset, Sector

pytestmark = pytest.mark.django_db

DATA = settings.SDI_CONFIG_DIR / "data" / "cantho"
EXPECTED = {
    # slug: (file, feature count, geometry type)
    "cantho-districts": ("admin/cantho_districts_gischinhphu.geojson", 9, "MultiPolygon"),
    "cantho-city-boundary": ("admin/cantho_city_boundary_gischinhphu.geojson", 1, "MultiPolygon"),
    "cantho-districts-population-2009": ("admin/cantho_districts_odm_pop2009.geojson", 9, "Polygon"),
    "mekong-delta-districts-population-2009": ("admin/mekong_delta_districts_odm_pop2009.geojson", 228, "Polygon"),
    "mekong-delta-provinces": ("admin/mekong_delta_provinces_odm.geojson", 13, "MultiPolygon"),
    "cantho-bus-route-09": ("osm/cantho_osm_bus_route09.geojson", 1, "MultiLineString"),
    "cantho-bus-route-09-stops": ("osm/cantho_osm_bus_route09_stops.geojson", 133, "Point"),
}


def test_the_17_sectors_are_seeded():
    assert Sector.objects.count() == 17
    assert set(Sector.objects.values_list("code", flat=True)) >= {"land", "environment", "transport", "population"}
    assert Sector.objects.get(code="land").name_vi == "Đất đai"


def test_every_default_dataset_is_registered_with_measured_facts():
    manifest = {entry["file"]: entry for entry in json.loads((DATA / "manifest.json").read_text())}
    assert set(Dataset.objects.values_list("slug", flat=True)) >= set(EXPECTED)
    for slug, (file, count, geometry_type) in EXPECTED.items():
        dataset = Dataset.objects.get(slug=slug)
        assert dataset.feature_count == count == manifest[file]["features"], slug
        assert dataset.geometry_type == geometry_type, slug
        assert dataset.storage_srid == 4326
        columns = [c["name"] for c in dataset.attribute_schema]
        assert columns == DataSource(str(DATA / file))[0].fields, f"{slug}: columns not in the source's order"
        # GDAL adds the GeoJSON string feature "id" as a column of its own.
        assert set(columns) - {"id"} == set(manifest[file]["attributes"]), slug
        minx, miny, maxx, maxy = dataset.extent.extent
        assert manifest[file]["bbox"] == pytest.approx([minx, miny, maxx, maxy], abs=1e-5), slug
        assert dataset.attribution and dataset.licence_name and dataset.sector_id


def test_each_dataset_has_its_own_table_with_primary_key_and_gist_index():
    for dataset in Dataset.objects.filter(slug__in=EXPECTED):
        assert dataset.table_schema == settings.SDI_DATA_SCHEMA != "public"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s AND i.indisprimary",
                (dataset.table_schema, dataset.table_name),
            )
            assert cursor.fetchone()[0] == 1, dataset.slug
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
                (dataset.table_schema, dataset.table_name),
            )
            assert any("USING gist (geom)" in row[0] for row in cursor.fetchall()), dataset.slug
            cursor.execute(f'SELECT count(*) FROM "{dataset.table_schema}"."{dataset.table_name}"')
            assert cursor.fetchone()[0] == dataset.feature_count


def test_integer_attributes_keep_their_type():
    dataset = Dataset.objects.get(slug="cantho-districts-population-2009")
    assert dataset.fields["Dan_So"] == {"type": "integer"}
    assert dataset.fields["Ten_Huyen"] == {"type": "string"}


def test_vietnamese_names_are_stored_as_nfc_utf8():
    dataset = Dataset.objects.get(slug="cantho-districts")
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT name FROM "{dataset.table_schema}"."{dataset.table_name}" ORDER BY level2_id')
        names = [row[0] for row in cursor.fetchall()]
    assert "Quận Ninh Kiều" in names
    assert all(unicodedata.is_normalized("NFC", name) for name in names)
    assert len(names) == 9
