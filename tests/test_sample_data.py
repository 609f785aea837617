"""`manage.py sample_data` (what `make run` loads beside the real layers): synthetic land use of three districts in
three formats, encodings and CRSs, water monitoring with a time field, and the merge spec that joins them with the
Ninh Kiều sample register. Real PostGIS, real files, real HTTP."""
import unicodedata
import zipfile
from pathlib import Path

import psycopg
import pytest
import requests
import yaml
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from psycopg import sql

from layers.crs.sql import to_wgs84, transform_sql
from layers.loading.encodings import encode
from layers.management.commands.sample_sector import SLUG as NINH_KIEU
from layers.models import Dataset
from layers.registry.services import delete_dataset
from layers.samples import land_use_codes
from layers.samples.catalogue import SAMPLES, SLUGS, fingerprint
from layers.sources.models import Source
from tests.sources_sector import admin_kwargs

SAMPLE_DB = "sdi_test_sample_data_sector"
BINH_THUY, CAI_RANG, PHONG_DIEN = "binh-thuy-hien-trang-su-dung-dat", "cai-rang-land-use", "phong-dien-land-use"
READINGS, STATIONS = "quan-trac-moi-truong", "tram-quan-trac"
SPEC = Path(settings.SDI_CONFIG_DIR, "merges/cantho-land-use.yml")
OWN_DISTRICT = {BINH_THUY: "918", CAI_RANG: "919", PHONG_DIEN: "926", NINH_KIEU: "916"}


@pytest.fixture(scope="module")
def samples(django_db_setup, django_db_blocker, tmp_path_factory):
    """The Ninh Kiều sample source and the sample datasets, made once for this module and removed afterwards."""
    folder = tmp_path_factory.mktemp("samples")
    with override_settings(SDI_SAMPLE_SECTOR_DB=SAMPLE_DB, SDI_SAMPLES_DIR=folder), django_db_blocker.unblock():
        call_command("sample_sector", verbosity=0)
        call_command("sample_data", verbosity=0)
        yield folder
        for slug in (*SLUGS, NINH_KIEU):
            if Dataset.objects.filter(slug=slug).exists():
                delete_dataset(slug)
        Source.objects.filter(slug=NINH_KIEU).delete()
        with psycopg.connect(**admin_kwargs("postgres")) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(SAMPLE_DB)))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(f"{SAMPLE_DB}_reader")))


def columns(slug: str) -> list[str]:
    return [c["name"] for c in Dataset.objects.get(slug=slug).attribute_schema]


def table(dataset: Dataset) -> sql.Composable:
    return sql.Identifier(dataset.table_schema, dataset.table_name)


def rows(query: sql.Composable, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(connection.connection), params)
        return cursor.fetchall()


def test_the_four_district_layers_arrive_with_their_own_schemas_and_crss(samples):
    assert columns(BINH_THUY) == ["SoHieu", "MucDichSD", "DienTich", "NgayCN"]
    assert columns(CAI_RANG) == ["parcel_id", "landuse", "area_ha", "surveyed"]
    assert columns(PHONG_DIEN) == ["MA_THUA", "SO_TO", "SO_THUA", "MA_LOAI", "DT", "MA_HUYEN", "NAM_KK"]
    assert {"ma_thua", "ma_loai_dat", "ten_loai_dat", "dien_tich_m2"} <= set(columns(NINH_KIEU))
    srids = {slug: Dataset.objects.get(slug=slug).storage_srid for slug in OWN_DISTRICT}
    assert srids == {BINH_THUY: 5897, CAI_RANG: 4326, PHONG_DIEN: 5897, NINH_KIEU: 5897}
    for slug in (BINH_THUY, CAI_RANG, PHONG_DIEN):
        dataset = Dataset.objects.get(slug=slug)
        assert dataset.geometry_type == "MultiPolygon" and 1000 < dataset.feature_count < 5000, slug
    # the loader's district facts: each touches only its own district (Bình Thủy's border strip: Ninh Kiều too)
    assert set(Dataset.objects.get(slug=BINH_THUY).districts) == {"Quận Bình Thuỷ", "Quận Ninh Kiều"}
    assert Dataset.objects.get(slug=CAI_RANG).districts == ["Quận Cái Răng"]
    assert Dataset.objects.get(slug=PHONG_DIEN).districts == ["Huyện Phong Điền"]
    # each keeps its own code list
    assert {v for (v,) in rows(sql.SQL('SELECT DISTINCT "MA_LOAI" FROM {}').format(
        table(Dataset.objects.get(slug=PHONG_DIEN))))} == set(land_use_codes.PHONG_DIEN_2014)
    assert {v for (v,) in rows(sql.SQL("SELECT DISTINCT landuse FROM {}").format(
        table(Dataset.objects.get(slug=CAI_RANG))))} == set(land_use_codes.CAI_RANG)


def test_every_sample_says_it_is_synthetic(samples):
    for slug in SLUGS:
        dataset = Dataset.objects.get(slug=slug)
        assert "DỮ LIỆU MẪU" in dataset.title_vi and "SYNTHETIC" in dataset.title_en, slug
        assert "KHÔNG CÓ THẬT" in dataset.abstract_vi and "SYNTHETIC" in dataset.abstract_en, slug
        assert "DỮ LIỆU MẪU" in dataset.attribution and "SYNTHETIC" in dataset.attribution, slug
        assert dataset.licence_name.startswith("CC0") and dataset.sector.code in ("land", "environment"), slug


def test_encode_writes_the_tcvn3_bytes_of_a_land_use_name():
    assert encode("Đất ở tại đô thị", "tcvn3") == b"\xa7\xcat \xeb t\xb9i \xae\xab th\xde"  # "§Êt ë t¹i ®« thÞ"


def test_binh_thuy_is_a_tcvn3_shapefile_that_is_served_as_unicode(samples, server):
    bundle = zipfile.ZipFile(samples / "binh_thuy_hien_trang_su_dung_dat.zip")
    assert sorted(Path(n).suffix for n in bundle.namelist()) == [".dbf", ".prj", ".shp", ".shx"]  # no .cpg
    dbf = bundle.read("HTSDD_BinhThuy.dbf")
    assert encode("Đất ở tại đô thị", "tcvn3") in dbf and "Đất ở tại đô thị".encode() not in dbf
    with pytest.raises(UnicodeDecodeError):
        dbf.decode("utf-8")
    assert dbf[29] == 0, "the .dbf names no code page, as an old program leaves it"

    answer = requests.get(f"{server}/ogcapi/collections/{BINH_THUY}/items",
                          params={"MucDichSD": "Đất ở tại đô thị", "limit": 5, "f": "json"}, timeout=30)
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page["numberMatched"] > 100
    assert {f["properties"]["MucDichSD"] for f in page["features"]} == {"Đất ở tại đô thị"}
    names = {v for (v,) in rows(sql.SQL('SELECT DISTINCT "MucDichSD" FROM {}').format(
        table(Dataset.objects.get(slug=BINH_THUY))))}
    assert names == set(land_use_codes.BINH_THUY)
    assert all(unicodedata.is_normalized("NFC", n) for n in names)


def outside_own_district(slug: str, tolerance_m: float = 0) -> int:
    """Features whose point on surface is not in their own real district (within `tolerance_m`)."""
    dataset, districts = Dataset.objects.get(slug=slug), Dataset.objects.get(slug=settings.SDI_DISTRICTS_DATASET)
    point = to_wgs84(sql.SQL("ST_PointOnSurface(p.geom)"), dataset.storage_srid)
    return rows(sql.SQL("""
        SELECT count(*) FROM {parcels} p, {districts} d
         WHERE d.level2_id = %s AND NOT ST_DWithin({point}::geography, d.geom::geography, %s)
    """).format(parcels=table(dataset), districts=table(districts), point=point),
        (OWN_DISTRICT[slug], tolerance_m))[0][0]


def test_parcels_lie_in_their_own_real_district(samples):
    assert outside_own_district(CAI_RANG) == 0
    assert outside_own_district(PHONG_DIEN) == 0
    assert outside_own_district(BINH_THUY, tolerance_m=40) == 0  # the strip reaches ≤ 30 m into Ninh Kiều
    assert outside_own_district(BINH_THUY) > 0, "some parcels of the border strip lie in Ninh Kiều"


def test_binh_thuy_overlaps_ninh_kieu_along_the_border_and_leaves_one_gap(samples):
    binh_thuy, ninh_kieu = Dataset.objects.get(slug=BINH_THUY), Dataset.objects.get(slug=NINH_KIEU)
    districts = Dataset.objects.get(slug=settings.SDI_DISTRICTS_DATASET)
    district = transform_sql(sql.SQL("d.geom"), 4326, 5897)
    overlap, gap = rows(sql.SQL("""
        WITH nk AS (SELECT {district} AS geom FROM {districts} d WHERE d.level2_id = '916'),
             bt AS (SELECT {district} AS geom FROM {districts} d WHERE d.level2_id = '918'),
             into_nk AS (SELECT ST_Union(ST_Intersection(p.geom, nk.geom)) AS geom FROM {bt_parcels} p, nk
                          WHERE ST_Intersects(p.geom, nk.geom)),
             near_border AS (SELECT ST_Intersection(bt.geom, ST_Buffer(nk.geom, 20)) AS geom FROM bt, nk),
             covered AS (SELECT ST_Union(p.geom) AS geom FROM {bt_parcels} p, near_border n
                          WHERE ST_Intersects(p.geom, n.geom))
        SELECT ST_Area(into_nk.geom),
               ST_Area(ST_Difference(near_border.geom, ST_Buffer(covered.geom, 2)))
          FROM into_nk, near_border, covered
    """).format(district=district, districts=table(districts), bt_parcels=table(binh_thuy)))[0]
    assert overlap > 100_000, "a strip of Bình Thủy parcels reaches into Ninh Kiều (a survey mismatch)"
    assert 3_000 < gap < 20_000, "one stretch of the border is left uncovered on the Bình Thủy side"
    # and the Ninh Kiều register's parcels really are under that strip, so a merge sees both
    both = rows(sql.SQL("SELECT count(*) FROM {bt} b JOIN {nk} n ON ST_Intersects(b.geom, n.geom) "
                        "AND ST_Area(ST_Intersection(b.geom, n.geom)) > 50").format(
        bt=table(binh_thuy), nk=table(ninh_kieu)))[0][0]
    assert both > 50


def test_every_district_has_stations_and_each_station_lies_in_its_district(samples):
    stations, districts = Dataset.objects.get(slug=STATIONS), Dataset.objects.get(slug=settings.SDI_DISTRICTS_DATASET)
    placed = rows(sql.SQL("SELECT d.name, count(*) FILTER (WHERE ST_Within(s.geom, d.geom)), count(*) "
                          "FROM {d} d LEFT JOIN {s} s ON s.quan_huyen = d.name GROUP BY d.name").format(
        d=table(districts), s=table(stations)))
    assert len(placed) == 9 and all(inside == total >= 2 for _, inside, total in placed), placed
    riverside = rows(sql.SQL("SELECT count(*) FROM {} WHERE vi_tri = 'ven sông, kênh'").format(table(stations)))
    assert riverside[0][0] >= 6, "stations stand by the real rivers where they cross a district"


def test_monitoring_readings_filter_by_datetime_over_http(samples, server):
    readings = Dataset.objects.get(slug=READINGS)
    assert readings.time_field == "thoi_gian" and readings.feature_count == 20 * 24
    assert Dataset.objects.get(slug=STATIONS).feature_count == 20
    quarter = requests.get(f"{server}/ogcapi/collections/{READINGS}/items", timeout=30, params={
        "datetime": "2025-01-01T00:00:00Z/2025-03-31T23:59:59Z", "limit": 1000, "f": "json"})
    assert quarter.status_code == 200, quarter.text
    page = quarter.json()
    assert page["numberMatched"] == 60 and len(page["features"]) == 60
    properties = [f["properties"] for f in page["features"]]
    assert {p["thoi_gian"][:7] for p in properties} == {"2025-01", "2025-02", "2025-03"}
    assert len({p["ma_tram"] for p in properties}) == 20
    exceeded = [p for p in properties if p["vuot_quy_chuan"]]
    assert exceeded and all(p["thong_so_vuot"] for p in exceeded)
    assert all(not p["thong_so_vuot"] for p in properties if not p["vuot_quy_chuan"])
    year = requests.get(f"{server}/ogcapi/collections/{READINGS}/items", timeout=30, params={
        "datetime": "2024-01-01T00:00:00Z/2024-12-31T23:59:59Z", "limit": 1, "f": "json"}).json()
    assert year["numberMatched"] == 240


def test_a_second_run_imports_nothing_and_rewrites_no_file(samples):
    before = {s.slug: (s.path().stat().st_mtime_ns, Dataset.objects.get(slug=s.slug).table_name,
                       Dataset.objects.get(slug=s.slug).updated) for s in SAMPLES}
    with override_settings(SDI_SAMPLES_DIR=samples):
        call_command("sample_data", verbosity=0)
        after = {s.slug: (s.path().stat().st_mtime_ns, Dataset.objects.get(slug=s.slug).table_name,
                          Dataset.objects.get(slug=s.slug).updated) for s in SAMPLES}
        assert after == before
        assert Dataset.objects.filter(slug__in=SLUGS).count() == len(SLUGS)
        for sample in SAMPLES:  # the dataset records the bytes it was loaded from
            assert fingerprint(sample.path().read_bytes()) in Dataset.objects.get(slug=sample.slug).source


def test_sample_files_are_deterministic(samples, tmp_path):
    with override_settings(SDI_SAMPLES_DIR=tmp_path):
        call_command("sample_data", "--no-import", verbosity=0)
        for sample in SAMPLES:
            assert sample.path().read_bytes() == (samples / sample.filename).read_bytes(), sample.filename


def member_value_field(rule) -> str | None:
    """The member field a target field is taken from (None for a constant)."""
    return rule if isinstance(rule, str) else rule.get("field")


def test_the_merge_spec_matches_its_members_and_the_national_code_list(samples):
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    assert (spec["slug"], spec["crs"], spec["overlap"], spec["sector"]) == ("cantho-land-use", "EPSG:5897",
                                                                             "priority", "land")
    assert "DỮ LIỆU MẪU" in spec["title_vi"] and "SYNTHETIC" in spec["title_en"]
    target = {f["name"]: f["type"] for f in spec["fields"]}
    assert target == {"ma_thua": "text", "loai_dat": "text", "ten_loai_dat": "text",
                      "dien_tich_m2": "double precision", "ma_huyen": "text", "quan_huyen": "text"}
    members = spec["members"]
    assert [m["dataset"] for m in sorted(members, key=lambda m: m["priority"])][0] == NINH_KIEU
    assert {m["dataset"] for m in members} == set(OWN_DISTRICT)
    for member in members:
        slug = member["dataset"]
        fields = columns(slug)
        assert member["key"] in fields, slug
        assert set(member["fields"]) == set(target), f"{slug}: maps every target field"
        for name, rule in member["fields"].items():
            source = member_value_field(rule)
            assert source is None or source in fields, f"{slug}: {name} reads {source!r}, not a field of {slug}"
        assert member["fields"]["ma_huyen"] == {"value": OWN_DISTRICT[slug]}
        codes, names = member["fields"]["loai_dat"], member["fields"]["ten_loai_dat"]
        assert codes["field"] == names["field"] and codes["unmapped"] == "error"
        dataset = Dataset.objects.get(slug=slug)
        values = {v for (v,) in rows(sql.SQL("SELECT DISTINCT {} FROM {}").format(
            sql.Identifier(codes["field"]), table(dataset)))}
        assert values <= set(codes["map"]), f"{slug}: values without a code: {sorted(values - set(codes['map']))}"
        assert set(codes["map"]) == set(names["map"]), slug
        for value, code in codes["map"].items():
            assert names["map"][value] == land_use_codes.national_name(code), f"{slug}: {value} -> {code}"


def test_a_slug_that_real_data_replaced_is_left_alone(samples):
    sample_source = Dataset.objects.get(slug=STATIONS).source
    real = "tram_quan_trac_2025.csv (sha256:0123) — Sở TN&MT"
    Dataset.objects.filter(slug=STATIONS).update(source=real)
    try:
        with override_settings(SDI_SAMPLES_DIR=samples):
            (samples / "tram_quan_trac_nuoc_mat.csv").write_text("ma_tram,lon,lat\nX,105.7,10.0\n")  # a changed file
            call_command("sample_data", verbosity=0)
            assert Dataset.objects.get(slug=STATIONS).source == real, "the sample is not imported over real data"
            assert (samples / "tram_quan_trac_nuoc_mat.csv").read_text().startswith("ma_tram,lon,lat\nX")
            call_command("sample_data", "--reset", verbosity=0)
            assert Dataset.objects.get(slug=STATIONS).source == real, "--reset keeps real data"
            assert Dataset.objects.filter(slug__in=SLUGS).count() == len(SLUGS)
    finally:
        Dataset.objects.filter(slug=STATIONS).update(source=sample_source)
        with override_settings(SDI_SAMPLES_DIR=samples):
            call_command("sample_data", verbosity=0)  # the sample's own file again
