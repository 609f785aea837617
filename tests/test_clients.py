"""Real clients: GDAL's OGC API – Features driver (what QGIS's GDAL-based tools and ogr2ogr use)."""
import subprocess

import pytest
from django.contrib.gis.gdal import DataSource

from layers.models import Dataset

pytestmark = pytest.mark.django_db


def test_gdal_oapif_lists_every_collection(ogcapi):
    source = DataSource(f"OAPIF:{ogcapi}")
    names = {source[i].name for i in range(len(source))}
    assert names == set(Dataset.objects.filter(published=True).values_list("slug", flat=True))


@pytest.mark.parametrize("slug", ["cantho-districts", "cantho-bus-route-09-stops", "mekong-delta-districts-population-2009"])
def test_gdal_oapif_reads_every_feature_with_attributes_and_geometry(ogcapi, slug):
    dataset = Dataset.objects.get(slug=slug)
    layer = DataSource(f"OAPIF:{ogcapi}/collections/{slug}")[0]
    features = list(layer)
    assert len(features) == dataset.feature_count
    assert set(dataset.fields) <= set(layer.fields)
    assert all(feature.geom is not None and not feature.geom.empty for feature in features)
    assert layer.geom_type.name.replace("Multi", "") in dataset.geometry_type
    geometry = features[0].geom
    assert 103 < geometry.centroid.x < 107 and 8 < geometry.centroid.y < 12  # lon/lat, not swapped


def test_gdal_reads_vietnamese_attributes_and_integers(ogcapi):
    layer = DataSource(f"OAPIF:{ogcapi}/collections/cantho-districts-population-2009")[0]
    rows = {feature.get("Code_vung"): feature for feature in layer}
    assert rows["92916"].get("Ten_Tinh") == "Cần Thơ"
    assert sum(feature.get("Dan_So") for feature in rows.values()) == 1188432


def test_ogr2ogr_copies_a_collection_out_of_the_api(ogcapi, tmp_path):
    """The round trip an analyst does: ogr2ogr from the SDI to a GeoPackage."""
    target = tmp_path / "districts.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{ogcapi}", "cantho-districts"],
                   check=True, capture_output=True, timeout=120)
    info = subprocess.run(["ogrinfo", "-so", "-al", str(target)], check=True, capture_output=True, text=True).stdout
    assert "Feature Count: 9" in info
    assert "name: String" in info
    names = subprocess.run(["ogrinfo", "-q", "-geom=NO", "-sql", "SELECT name FROM \"cantho-districts\" WHERE level2_id = '916'",
                            str(target)], check=True, capture_output=True, text=True).stdout
    assert "Quận Ninh Kiều" in names
