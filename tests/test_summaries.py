"""summarise(): exact figures per district and ward on hand-made geometries, against the real PostGIS."""
import pytest
from django.contrib.auth.models import User
from django.db import connection

from layers.models import Dataset
from layers.registry.services import delete_dataset
from layers.summaries import cache
from layers.summaries.compute import SummaryRequest, summarise
from layers.summaries.errors import NotVisible, SummaryRefused
from tests.summaries_made import (CAI_RANG, NINH_KIEU, PREFIX, anchors, expected_by_unit, line_features, load,
                                  parcels_features, point_features)

PARCELS, ROADS, STATIONS, HIDDEN = (f"{PREFIX}parcels", f"{PREFIX}roads", f"{PREFIX}stations", f"{PREFIX}hidden")
RELATIVE = 2e-3  # TM-3 zone 482 against the ellipsoid: scale error well under 0.1 % at Cần Thơ


@pytest.fixture(scope="module")
def made(django_db_setup, django_db_blocker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("summaries")
    with django_db_blocker.unblock():
        points = anchors()
        load(folder, PARCELS, parcels_features(points))
        load(folder, ROADS, line_features(points))
        load(folder, STATIONS, point_features(points))
        load(folder, HIDDEN, parcels_features(points), access="restricted")
        User.objects.create_superuser(f"{PREFIX}boss", password="pw")
        yield {"points": points, "folder": folder}
        User.objects.filter(username__startswith=PREFIX).delete()
        for slug in Dataset.objects.filter(slug__startswith=PREFIX).values_list("slug", flat=True):
            delete_dataset(slug)


@pytest.fixture
def db(made, django_db_blocker):
    with django_db_blocker.unblock():
        yield made


def by_name(result, category=None) -> dict:
    return {row["unit_name"]: row for row in result["rows"] if row["category"] == category}


def district_codes() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, level2_id FROM sdi_data.cantho_districts")
        return dict(cursor.fetchall())


def tm3_area(table: str) -> float:
    """The dataset's whole area in the summary's CRS (EPSG:5897 through the pinned SRID)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sum(ST_Area(ST_Transform(geom, 905897))) FROM sdi_data.{table}")
        return cursor.fetchone()[0]


def test_a_polygon_across_two_districts_is_split_by_area(db):
    result = summarise(SummaryRequest(PARCELS), None)
    assert result["measure"] == "area" and result["unit_of_measure"] == "m²"
    expected = expected_by_unit(PARCELS.replace("-", "_"), "cantho_districts", "level2_id", "polygon")
    codes = district_codes()
    rows = by_name(result)
    assert set(expected) == {codes[NINH_KIEU], codes[CAI_RANG]}
    for name in (NINH_KIEU, CAI_RANG):
        assert rows[name]["area_m2"] == pytest.approx(expected[codes[name]][0], rel=RELATIVE)
        assert rows[name]["value"] == rows[name]["area_m2"]
    # split exactly: the parts add up to the whole, and nothing is counted twice
    assert result["totals"]["area_m2"] == pytest.approx(tm3_area(PARCELS.replace("-", "_")), rel=1e-9)
    cai_rang_share = rows[CAI_RANG]["area_m2"] / (rows[CAI_RANG]["area_m2"] + rows[NINH_KIEU]["area_m2"])
    assert 0.05 < cai_rang_share < 0.5  # part of the straddling square (and only of it) is in Cái Răng


def test_every_district_is_listed_with_zeros_and_rows_follow_the_names(db):
    result = summarise(SummaryRequest(PARCELS), None)
    assert len(result["rows"]) == 9
    empty = [row for row in result["rows"] if row["unit_name"] not in (NINH_KIEU, CAI_RANG)]
    assert len(empty) == 7 and all(row["count"] == 0 and row["area_m2"] == 0 and row["value"] == 0 for row in empty)
    names = [row["unit_name"] for row in result["rows"]]
    assert names[0].startswith("Huyện Cờ Đỏ") and names[-1] == "Quận Thốt Nốt"


def test_each_feature_is_counted_once(db):
    result = summarise(SummaryRequest(PARCELS, measure="count"), None)
    rows = by_name(result)
    assert result["unit_of_measure"] == "features"
    assert result["totals"]["count"] == 3
    assert rows[NINH_KIEU]["count"] + rows[CAI_RANG]["count"] == 3
    assert rows[NINH_KIEU]["count"] >= 2  # the two small squares inside Ninh Kiều


def test_a_line_across_a_boundary_is_split_by_length(db):
    result = summarise(SummaryRequest(ROADS), None)
    assert result["measure"] == "length" and result["unit_of_measure"] == "m"
    expected = expected_by_unit(ROADS.replace("-", "_"), "cantho_districts", "level2_id", "line")
    codes = {code: name for name, code in district_codes().items()}
    assert len(expected) >= 2
    rows = by_name(result)
    for code, (length, _, _) in expected.items():
        assert rows[codes[code]]["length_m"] == pytest.approx(length, rel=RELATIVE)
    assert result["totals"]["count"] == 1


def test_points_are_counted_once_where_they_are(db):
    result = summarise(SummaryRequest(STATIONS), None)
    rows = by_name(result)
    assert result["measure"] == "count"
    assert (rows[NINH_KIEU]["count"], rows[CAI_RANG]["count"]) == (2, 1)
    assert result["totals"]["count"] == 3 and "area_m2" not in rows[NINH_KIEU]


def test_a_sum_is_apportioned_by_area(db):
    result = summarise(SummaryRequest(PARCELS, measure="sum", attribute="gia_tri"), None)
    expected = expected_by_unit(PARCELS.replace("-", "_"), "cantho_districts", "level2_id", "polygon", "gia_tri")
    codes = district_codes()
    rows = by_name(result)
    for name in (NINH_KIEU, CAI_RANG):
        assert rows[name]["value"] == pytest.approx(expected[codes[name]][1], rel=RELATIVE)
    assert result["totals"]["value"] == pytest.approx(1040.0, rel=1e-9)  # every parcel is wholly in some district
    assert 10 + 30 < rows[NINH_KIEU]["value"] < 1040
    assert result["unit_of_measure"] == "gia_tri"


def test_a_mean_is_weighted_by_area(db):
    result = summarise(SummaryRequest(PARCELS, measure="mean", attribute="gia_tri"), None)
    expected = expected_by_unit(PARCELS.replace("-", "_"), "cantho_districts", "level2_id", "polygon", "gia_tri")
    codes = district_codes()
    rows = by_name(result)
    assert rows[NINH_KIEU]["value"] == pytest.approx(expected[codes[NINH_KIEU]][2], rel=RELATIVE)
    assert rows[CAI_RANG]["value"] == pytest.approx(1000.0)  # only the straddling parcel reaches Cái Răng
    assert [row["value"] for row in result["rows"] if row["count"] == 0 and row["area_m2"] == 0] == [None] * 7


def test_points_sum_and_mean_take_the_whole_value(db):
    summed = by_name(summarise(SummaryRequest(STATIONS, measure="sum", attribute="giuong"), None))
    mean = by_name(summarise(SummaryRequest(STATIONS, measure="mean", attribute="giuong"), None))
    assert (summed[NINH_KIEU]["value"], summed[CAI_RANG]["value"]) == (40.0, 5.0)
    assert (mean[NINH_KIEU]["value"], mean[CAI_RANG]["value"]) == (20.0, 5.0)


def test_grouping_by_a_category(db):
    result = summarise(SummaryRequest(PARCELS, category="loai"), None)
    plain = by_name(summarise(SummaryRequest(PARCELS), None))
    odt, luc = by_name(result, "ODT"), by_name(result, "LUC")
    assert set(odt) == {NINH_KIEU, CAI_RANG} and set(luc) == {NINH_KIEU}
    assert odt[NINH_KIEU]["area_m2"] + luc[NINH_KIEU]["area_m2"] == pytest.approx(plain[NINH_KIEU]["area_m2"], rel=1e-9)
    assert odt[CAI_RANG]["area_m2"] == pytest.approx(plain[CAI_RANG]["area_m2"], rel=1e-9)
    keys = [(row["unit_name"], row["category"]) for row in result["rows"] if row["unit_name"] == NINH_KIEU]
    assert keys == [(NINH_KIEU, "LUC"), (NINH_KIEU, "ODT")]
    assert [t["category"] for t in result["totals"]["by_category"]] == ["LUC", "ODT"]
    assert len(by_name(result, None)) == 7  # the districts with nothing: one row each, category null


def test_wards_2025_that_do_not_nest_in_districts(db):
    result = summarise(SummaryRequest(PARCELS, units="cantho-wards-2025"), None)
    expected = expected_by_unit(PARCELS.replace("-", "_"), "cantho_wards_2025", "code", "polygon")
    rows = {row["unit_code"]: row for row in result["rows"]}
    assert len(result["rows"]) == 103
    assert len(expected) >= 2
    for code, (area, _, _) in expected.items():
        assert rows[code]["area_m2"] == pytest.approx(area, rel=RELATIVE)
    assert result["totals"]["area_m2"] == pytest.approx(tm3_area(PARCELS.replace("-", "_")), rel=1e-9)
    assert result["units_title_en"].startswith("Wards and communes")


def test_communes_2009_as_units(db):
    result = summarise(SummaryRequest(STATIONS, units="cantho-communes-2009"), None)
    assert len(result["rows"]) == 85 and result["totals"]["count"] == 3


def test_a_second_call_is_cached_and_a_replaced_dataset_gets_new_figures(db):
    first = summarise(SummaryRequest(STATIONS, units="cantho-wards-2025"), None)
    again = summarise(SummaryRequest(STATIONS, units="cantho-wards-2025"), None)
    assert again["cached"] is True and again["rows"] == first["rows"]
    cache.memo_clear()  # another process: the row in PostgreSQL answers
    stored = summarise(SummaryRequest(STATIONS, units="cantho-wards-2025"), None)
    assert stored["cached"] is True and stored["rows"] == first["rows"]

    load(db["folder"], STATIONS, point_features(db["points"])[:1], replace=True)  # a re-import: one station left
    replaced = summarise(SummaryRequest(STATIONS, units="cantho-wards-2025"), None)
    assert replaced["cached"] is False and replaced["totals"]["count"] == 1
    assert replaced["dataset_version"] != first["dataset_version"]
    from layers.summaries.models import SummaryCache
    dataset = Dataset.objects.get(slug=STATIONS)
    assert set(SummaryCache.objects.filter(dataset=dataset).values_list("dataset_version", flat=True)) == {dataset.updated}
    load(db["folder"], STATIONS, point_features(db["points"]), replace=True)


def test_a_hidden_dataset_does_not_exist(db):
    with pytest.raises(NotVisible):
        summarise(SummaryRequest(HIDDEN), None)
    summarise(SummaryRequest(HIDDEN), User.objects.get(username=f"{PREFIX}boss"))  # a superuser sees it
    with pytest.raises(NotVisible):  # and the answer the superuser left in this process's memo is not shared
        summarise(SummaryRequest(HIDDEN), None)
    with pytest.raises(SummaryRefused) as hidden_units:  # as unknown units: the same words
        summarise(SummaryRequest(PARCELS, units=HIDDEN, unit_code_field="ma_thua", unit_name_field="loai"), None)
    with pytest.raises(SummaryRefused) as unknown_units:
        summarise(SummaryRequest(PARCELS, units=f"{PREFIX}nowhere"), None)
    assert hidden_units.value.field == unknown_units.value.field == "units"
    assert str(hidden_units.value).replace(HIDDEN, "X") == str(unknown_units.value).replace(f"{PREFIX}nowhere", "X")


@pytest.mark.parametrize("request_, field, words", [
    (SummaryRequest(PARCELS, measure="sum", attribute="khong_co"), "attribute", "khong_co"),
    (SummaryRequest(PARCELS, measure="sum", attribute="loai"), "attribute", "not numeric"),
    (SummaryRequest(PARCELS, measure="mean"), "attribute", "needs a numeric attribute"),
    (SummaryRequest(PARCELS, category="mau"), "category", "mau"),
    (SummaryRequest(PARCELS, measure="volume"), "measure", "volume"),
    (SummaryRequest(STATIONS, measure="area"), "measure", "polygons"),
    (SummaryRequest(PARCELS, units=STATIONS), "units", "not polygons"),
    (SummaryRequest(PARCELS, units=PARCELS), "unit_code_field", "not a known unit layer"),
    (SummaryRequest(PARCELS, units=PARCELS, unit_code_field="ma_thua", unit_name_field="ten"), "unit_name_field", "'ten'"),
    (SummaryRequest(PARCELS, category="lo\x00ai"), "category", "at most 200"),
    (SummaryRequest(PARCELS, units="x" * 201), "units", "at most 200"),
])
def test_bad_requests_are_refused_naming_the_field(db, request_, field, words):
    with pytest.raises(SummaryRefused) as refused:
        summarise(request_, None)
    assert refused.value.field == field and words in str(refused.value)


def test_any_polygon_dataset_serves_as_units_with_named_fields(db):
    result = summarise(SummaryRequest(STATIONS, units=PARCELS, unit_code_field="ma_thua", unit_name_field="loai"), None)
    counts = {row["unit_code"]: row["count"] for row in result["rows"]}
    # units are expected to partition the area; these two overlap, so each counts both Ninh Kiều stations
    assert counts == {"1": 0, "2": 2, "3": 2}
    assert [row["unit_name"] for row in result["rows"]] == ["LUC", "ODT", "ODT"]
