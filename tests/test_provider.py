"""The PostGIS provider on its own: a pygeoapi provider definition in, GeoJSON out, no Django involved."""
import json

import pytest
from django.conf import settings
from pygeoapi.crs import CrsTransformSpec
from pygeoapi.provider.base import ProviderInvalidQueryError, ProviderItemNotFoundError

from layers.serving.hints import PageHint, current_page_hint
from layers.serving.options import ServingOptions
from layers.serving.provider import PostGISProvider
from layers.models import Dataset

pytestmark = pytest.mark.django_db


def districts_definition(**extra) -> dict:
    """A provider definition of the Mekong districts table, in the shape of pygeoapi's PostgreSQL provider's."""
    db = settings.DATABASES["default"]
    return {
        "name": "layers.serving.provider.PostGISProvider", "type": "feature",
        "data": {"host": db["HOST"], "port": db["PORT"], "dbname": db["NAME"], "user": db["USER"],
                 "password": db["PASSWORD"]},
        "table": f"{settings.SDI_DATA_SCHEMA}.mekong_delta_districts_population_2009",
        "id_field": "fid", "geom_field": "geom",
        "storage_crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        **extra,
    }


@pytest.fixture
def definition(django_db_setup):
    return districts_definition()


def test_works_without_precomputed_fields_or_count(definition):
    provider = PostGISProvider(definition)
    assert list(provider.fields)[:3] == ["OBJECTID", "f_code", "Ten_Tinh"]
    assert provider.fields["Dan_So"] == {"type": "integer"}
    result = provider.query(limit=5)
    assert result["numberMatched"] == 228 and result["numberReturned"] == 5
    assert [f["id"] for f in result["features"]] == [1, 2, 3, 4, 5]


def test_hits_counts_exactly_with_filters(definition):
    provider = PostGISProvider(definition)
    hits = provider.query(resulttype="hits", properties=[("Ten_Tinh", "Cần Thơ")])
    assert hits == {"type": "FeatureCollection", "features": [], "numberMatched": 9, "numberReturned": 0}


def test_sorting_selecting_properties_and_skipping_geometry(definition):
    provider = PostGISProvider(definition)
    result = provider.query(limit=3, sortby=[{"property": "Dan_So", "order": "-"}],
                            select_properties=["Ten_Huyen", "Dan_So"], skip_geometry=True)
    populations = [f["properties"]["Dan_So"] for f in result["features"]]
    assert populations == sorted(populations, reverse=True)
    assert all(set(f["properties"]) == {"Ten_Huyen", "Dan_So"} and f["geometry"] is None for f in result["features"])
    largest = provider.query(limit=1000, skip_geometry=True)["features"]
    assert populations[0] == max(f["properties"]["Dan_So"] for f in largest)


def test_output_crs_is_transformed_by_postgis_with_authority_axis_order(definition):
    provider = PostGISProvider(definition)
    lonlat = provider.get(1)["geometry"]["coordinates"][0][0]
    spec = CrsTransformSpec(source_crs_uri="http://www.opengis.net/def/crs/OGC/1.3/CRS84", source_crs_wkt="",
                            target_crs_uri="http://www.opengis.net/def/crs/EPSG/0/4326", target_crs_wkt="")
    latlon = provider.get(1, crs_transform_spec=spec)["geometry"]["coordinates"][0][0]
    assert latlon == [lonlat[1], lonlat[0]]
    spec_3857 = CrsTransformSpec(source_crs_uri="", source_crs_wkt="",
                                 target_crs_uri="http://www.opengis.net/def/crs/EPSG/0/3857", target_crs_wkt="")
    x, y = provider.get(1, crs_transform_spec=spec_3857)["geometry"]["coordinates"][0][0]
    assert 1.1e7 < x < 1.2e7 and 0.9e6 < y < 1.3e6


def test_values_reach_sql_as_parameters(definition):
    provider = PostGISProvider(definition)
    hostile = "x' OR '1'='1"
    assert provider.query(resulttype="hits", properties=[("Ten_Huyen", hostile)])["numberMatched"] == 0
    with pytest.raises(ProviderInvalidQueryError):
        provider.query(properties=[("Dan_So", "1; DROP TABLE x")])
    with pytest.raises(ProviderItemNotFoundError):
        provider.get("1 OR 1=1")
    assert Dataset.objects.filter(slug="mekong-delta-districts-population-2009").exists()


def test_unfiltered_count_comes_from_the_registry_when_given(definition):
    """The registry's count differs from the table's 228 rows here, so the test sees which one is used."""
    provider = PostGISProvider({**definition, "feature_count": 1000})
    assert provider.query(limit=1)["numberMatched"] == 1000  # the registry's, not counted
    box = [105.7, 10.0, 105.8, 10.1]
    counted = PostGISProvider(definition).query(limit=1000, bbox=box)
    assert provider.query(limit=1, bbox=box)["numberMatched"] == counted["numberReturned"] < 228  # filtered: counted


def test_http_geojson_spliced_from_postgis_text_equals_the_provider_output(definition, ogcapi):
    """The web layer splices PostGIS's JSON text into pygeoapi's response; it must equal the parsed path."""
    import requests

    provider = PostGISProvider(definition)
    expected = provider.query(limit=50)["features"]
    served = requests.get(f"{ogcapi}/collections/mekong-delta-districts-population-2009/items",
                          params={"limit": 50}, timeout=30).json()
    assert served["features"] == expected
    assert served["numberReturned"] == 50 and served["numberMatched"] == 228


def query_with_hint(provider, hint, **kwargs):
    token = current_page_hint.set(hint)
    try:
        return provider.query(**kwargs)
    finally:
        current_page_hint.reset(token)


def test_the_provider_reads_one_row_past_the_page_to_say_whether_more_follow(definition):
    """228 rows: a page of 114 at offset 114 is full and the last one; the last keyset page too."""
    provider = PostGISProvider(definition)
    ends = []
    hint = PageHint(links=lambda end: ends.append(end) or [])
    for offset in (0, 114):
        assert query_with_hint(provider, hint, limit=114, offset=offset)["numberReturned"] == 114
    last = query_with_hint(provider, PageHint(cursor=200, keyset_links=True, links=hint.links), limit=28)
    assert [f["id"] for f in last["features"]] == list(range(201, 229))
    assert [(end.more, end.keyset) for end in ends] == [(True, False), (False, False), (False, True)]
    assert ends[2].last_id == 228


def test_raw_json_comes_back_through_the_hint(definition):
    provider = PostGISProvider(definition)
    hint = PageHint(raw_json=True)
    collection = query_with_hint(provider, hint, limit=3)
    assert collection["features"] == [] and collection["numberReturned"] == 3
    assert [f["id"] for f in json.loads(hint.outcome.features_json)] == [1, 2, 3]


def test_serving_options_come_from_the_definition(definition):
    """exact_count_max_rows=0: a filtered page leaves numberMatched out rather than count (hits still counts)."""
    cantho = [("Ten_Tinh", "Cần Thơ")]
    assert PostGISProvider(definition).query(limit=1, properties=cantho)["numberMatched"] == 9
    frugal = PostGISProvider({**definition, "serving": {"exact_count_max_rows": 0}})
    assert "numberMatched" not in frugal.query(limit=1, properties=cantho)
    assert frugal.query(resulttype="hits", properties=cantho)["numberMatched"] == 9


def test_the_generated_definition_carries_the_settings_serving_options(django_db_setup):
    from sdi.ogcapi.config import collection_resource, database_definition

    dataset = Dataset.objects.get(slug="mekong-delta-districts-population-2009")
    provider = collection_resource(dataset, database_definition())["providers"][0]
    assert provider["serving"] == settings.SDI_SERVING.as_definition()
    assert ServingOptions.from_definition(provider["serving"]) == settings.SDI_SERVING
