"""Every format and encoding an admin may bring, and every way a file can be wrong: through GDAL into PostGIS."""
import json
import subprocess
import unicodedata
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from pyproj.transformer import TransformerGroup

from layers.loading import ImportRefused
from layers.loading.encodings import encode_for_tests
from layers.models import Dataset
from layers.registry.services import DatasetMetadata, current_registry_version, delete_dataset, import_vector_dataset

META = DatasetMetadata(title_vi="Thử nghiệm định dạng", title_en="Format test", sector="land",
                       licence_name="CC BY 4.0", attribution="Sở Tài nguyên và Môi trường (test)")
NAMES = ["Quận Ninh Kiều", "Quận Bình Thủy", "Quận Cái Răng", "Huyện Phong Điền", "Huyện Cờ Đỏ", "Đường Nguyễn Văn Cừ"]
POINTS = [(105.78, 10.03), (105.74, 10.08), (105.77, 9.99), (105.66, 10.00), (105.55, 10.20), (105.76, 10.04)]


@pytest.fixture
def loaded(committed_db):
    """Import under a test slug; every dataset made is deleted afterwards."""
    slugs = []

    def load(path, slug, **options):
        slugs.append(slug)
        return import_vector_dataset(path, slug=slug, metadata=options.pop("metadata", META), **options)

    yield load
    for slug in slugs:
        if Dataset.objects.filter(slug=slug).exists():
            delete_dataset(slug)


def values(dataset, column):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{dataset.table_schema}"."{dataset.table_name}" ORDER BY fid')
        return [row[0] for row in cursor.fetchall()]


def geojson(path: Path, features) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8")
    return path


def point_features(names=NAMES, points=POINTS):
    return [{"type": "Feature", "properties": {"ten": n, "ma": i},
             "geometry": {"type": "Point", "coordinates": list(p)}} for i, (n, p) in enumerate(zip(names, points))]


def shapefile(folder: Path, *, encoding: str | None, cpg: str | None, prj: bool = True, srid: int = 4326) -> Path:
    """A real shapefile written by GDAL whose .dbf text bytes are in `encoding` (legacy ones included)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = NAMES if encoding in (None, "utf-8") else [encode_for_tests(n, encoding).decode("latin-1") for n in NAMES]
    source = geojson(folder.parent / f"{folder.name}-source.geojson", point_features(names))
    shp = folder / "diem.shp"
    command = ["ogr2ogr", "-f", "ESRI Shapefile", str(shp), str(source), "-lco",
               f"ENCODING={'UTF-8' if encoding in (None, 'utf-8') else 'ISO-8859-1'}"]
    if srid != 4326:
        command += ["-t_srs", f"EPSG:{srid}"]
    subprocess.run(command, check=True, capture_output=True)
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    if cpg:
        shp.with_suffix(".cpg").write_text(cpg)
    if not prj:
        shp.with_suffix(".prj").unlink()
    return shp


def zip_folder(shp: Path, target: Path, extra: dict | None = None) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
        for part in shp.parent.glob(f"{shp.stem}.*"):
            bundle.write(part, part.name)
        for name, data in (extra or {}).items():
            bundle.writestr(name, data)
    return target


# --- formats that load -------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding, cpg", [("utf-8", "UTF-8"), ("utf-8", None), ("cp1258", "1258"),
                                           ("tcvn3", None), ("vni", None)])
def test_zipped_shapefiles_in_every_encoding_arrive_as_nfc_unicode(loaded, tmp_path, encoding, cpg):
    bundle = zip_folder(shapefile(tmp_path / "shp", encoding=encoding, cpg=cpg), tmp_path / "diem.zip")
    result = loaded(bundle, f"t-shp-{encoding.replace('-', '')}-{cpg or 'nocpg'}".lower())
    assert values(result.dataset, "ten") == NAMES
    assert all(unicodedata.is_normalized("NFC", v) for v in values(result.dataset, "ten"))
    assert result.report["encoding"] == encoding
    assert result.dataset.geometry_type == "Point" and result.dataset.feature_count == len(NAMES)


def test_declared_encoding_wins_over_detection(loaded, tmp_path):
    shp = shapefile(tmp_path / "shp", encoding="vni", cpg=None)
    result = loaded(shp, "t-shp-declared", encoding="vni")
    assert values(result.dataset, "ten") == NAMES


def test_shapefile_without_prj_is_refused_until_a_crs_is_declared(loaded, tmp_path):
    shp = shapefile(tmp_path / "shp", encoding="utf-8", cpg="UTF-8", prj=False, srid=5897)
    with pytest.raises(ImportRefused, match=r"diem.shp: the shapefile has no .prj.*EPSG:5897"):
        loaded(shp, "t-noprj")
    result = loaded(shp, "t-noprj", srid=5897)
    assert result.dataset.storage_srid == 5897
    assert "Quận Ninh Kiều" in result.dataset.districts


def test_vn2000_data_keeps_its_crs_and_its_extent_uses_the_official_datum_shift(loaded, tmp_path):
    shp = shapefile(tmp_path / "shp", encoding="utf-8", cpg="UTF-8", srid=5897)
    dataset = loaded(shp, "t-vn2000").dataset
    assert dataset.storage_srid == 5897
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT ST_X(geom), ST_Y(geom) FROM "{dataset.table_schema}"."{dataset.table_name}"')
        xs, ys = zip(*cursor.fetchall())
    official = next(t for t in TransformerGroup(5897, 4326, always_xy=True).transformers
                    if "VN-2000 to WGS 84 (2)" in t.description)  # EPSG:6960
    corners = [official.transform(x, y) for x in (min(xs), max(xs)) for y in (min(ys), max(ys))]
    lons, lats = zip(*corners)
    minx, miny, maxx, maxy = min(lons), min(lats), max(lons), max(lats)
    extent = dataset.extent.extent
    # 1e-7 degrees is about 1 cm at Cần Thơ; PROJ's own pick (EPSG:5194) would be ~0.8 m = 7e-6 degrees away.
    assert extent == pytest.approx((minx, miny, maxx, maxy), abs=1e-7)


def test_geopackage_with_several_layers_needs_a_layer_name(loaded, tmp_path):
    gpkg = tmp_path / "hai_lop.gpkg"
    points = geojson(tmp_path / "points.geojson", point_features())
    districts = settings.SDI_CONFIG_DIR / "data/cantho/admin/cantho_districts_gischinhphu.geojson"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(gpkg), str(points), "-nln", "diem"], check=True)
    subprocess.run(["ogr2ogr", "-f", "GPKG", "-update", str(gpkg), str(districts), "-nln", "ranh_gioi"], check=True)
    with pytest.raises(ImportRefused, match=r"hai_lop.gpkg: has 2 layers \(diem, ranh_gioi\); choose one"):
        loaded(gpkg, "t-gpkg")
    dataset = loaded(gpkg, "t-gpkg", layer="ranh_gioi").dataset
    assert dataset.feature_count == 9 and dataset.geometry_type == "MultiPolygon"
    assert len(dataset.districts) == 9


@pytest.mark.parametrize("driver, suffix", [("KML", "kml"), ("LIBKML", "kmz")])
def test_kml_and_kmz_load(loaded, tmp_path, driver, suffix):
    target = tmp_path / f"diem.{suffix}"
    subprocess.run(["ogr2ogr", "-f", driver, str(target), str(geojson(tmp_path / "p.geojson", point_features()))],
                   check=True, capture_output=True)
    dataset = loaded(target, f"t-{suffix}").dataset
    assert dataset.feature_count == len(NAMES)
    assert set(NAMES) <= set(values(dataset, "ten") if "ten" in dataset.fields else values(dataset, "Name"))


def test_csv_with_lon_lat_columns(loaded, tmp_path):
    csv = tmp_path / "tram.csv"
    csv.write_text("ten;kinh_do;vi_do;ph\n" + "".join(f"{n};{x};{y};7.{i}\n" for i, (n, (x, y)) in
                                                      enumerate(zip(NAMES, POINTS))), encoding="utf-8")
    dataset = loaded(csv, "t-csv").dataset
    assert dataset.geometry_type == "Point" and dataset.feature_count == len(NAMES)
    assert values(dataset, "ten") == NAMES
    assert dataset.fields["ph"] == {"type": "number"}


def test_csv_with_wkt_and_a_legacy_encoding(loaded, tmp_path):
    rows = "".join(f'"{n}","POINT ({x} {y})"\n' for n, (x, y) in zip(NAMES, POINTS))
    (tmp_path / "wkt.csv").write_bytes(b"ten,wkt\n" + encode_for_tests(rows, "cp1258"))
    dataset = loaded(tmp_path / "wkt.csv", "t-csv-wkt", encoding="cp1258").dataset
    assert values(dataset, "ten") == NAMES


def test_a_folder_on_the_server_is_accepted(loaded, tmp_path):
    shp = shapefile(tmp_path / "thu_muc", encoding="utf-8", cpg="UTF-8")
    assert loaded(shp.parent, "t-folder").dataset.feature_count == len(NAMES)


def test_polygons_and_multipolygons_are_promoted_to_multipolygons(loaded, tmp_path):
    square = [[105.70, 10.00], [105.71, 10.00], [105.71, 10.01], [105.70, 10.01], [105.70, 10.00]]
    features = [{"type": "Feature", "properties": {"n": 1}, "geometry": {"type": "Polygon", "coordinates": [square]}},
                {"type": "Feature", "properties": {"n": 2}, "geometry": {"type": "MultiPolygon", "coordinates": [[square]]}}]
    dataset = loaded(geojson(tmp_path / "mix.geojson", features), "t-promote").dataset
    assert dataset.geometry_type == "MultiPolygon"
    with connection.cursor() as cursor:
        cursor.execute("SELECT type FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s",
                       (dataset.table_schema, dataset.table_name))
        assert cursor.fetchone()[0] == "MULTIPOLYGON"


def test_empty_geometries_are_dropped_and_reported(loaded, tmp_path):
    features = point_features()[:3] + [{"type": "Feature", "properties": {"ten": "trống", "ma": 9}, "geometry": None}]
    result = loaded(geojson(tmp_path / "empty.geojson", features), "t-empties")
    assert result.dataset.feature_count == 3
    assert result.report["dropped_without_geometry"]["count"] == 1
    assert result.report["dropped_without_geometry"]["features"] == ["ma 9 (feature 4)"]  # by its own key column


BOWTIE = [[105.70, 10.00], [105.71, 10.01], [105.71, 10.00], [105.70, 10.01], [105.70, 10.00]]


def test_invalid_geometries_are_reported_then_repaired_on_request(loaded, tmp_path):
    ok = [[105.72, 10.00], [105.73, 10.00], [105.73, 10.01], [105.72, 10.00]]
    source = geojson(tmp_path / "bowtie.geojson", [
        {"type": "Feature", "properties": {"n": 1}, "geometry": {"type": "Polygon", "coordinates": [ok]}},
        {"type": "Feature", "properties": {"n": 2}, "geometry": {"type": "Polygon", "coordinates": [BOWTIE]}}])
    before = current_registry_version()
    with pytest.raises(ImportRefused, match=r"bowtie.geojson: 1 invalid geometries \(feature 2: Self-intersection"):
        loaded(source, "t-bowtie")
    assert current_registry_version() == before
    result = loaded(source, "t-bowtie", repair=True)
    assert result.report["repaired_invalid"]["count"] == 1
    assert result.dataset.geometry_type == "Polygon" or result.dataset.geometry_type == "MultiPolygon"
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT bool_and(ST_IsValid(geom)) FROM "{result.dataset.table_schema}"."{result.dataset.table_name}"')
        assert cursor.fetchone()[0] is True


# --- messages a person can act on: features named as the source names them -------------------------------

SQUARE = [[105.72, 10.00], [105.73, 10.00], [105.73, 10.01], [105.72, 10.00]]


def parcels(ids=(None, None, None), key=None):
    """A valid polygon, a bow-tie and a feature without geometry; `ids` are GeoJSON feature ids, `key` a column."""
    features = []
    for i, (geometry, own_id) in enumerate(zip(
            ({"type": "Polygon", "coordinates": [SQUARE]}, {"type": "Polygon", "coordinates": [BOWTIE]}, None), ids)):
        feature = {"type": "Feature", "properties": {"ten": f"thửa {i}", **({key: 1001 + i} if key else {})},
                   "geometry": geometry}
        if own_id is not None:
            feature["id"] = own_id
        features.append(feature)
    return features


@pytest.mark.parametrize("ids, key, bowtie, empty", [
    ((17, 42, 5), None, "id 42 (feature 2)", "id 5 (feature 3)"),  # integer ids: GDAL's FID, read back
    (("TD-1", "TD-2", "TD-3"), None, "id 'TD-2' (feature 2)", "id 'TD-3' (feature 3)"),  # strings: a column
    ((None, None, None), "ma_thua", "ma_thua 1002 (feature 2)", "ma_thua 1003 (feature 3)"),
    ((None, None, None), "OBJECTID", "OBJECTID 1002 (feature 2)", "OBJECTID 1003 (feature 3)"),
    ((None, None, None), None, "feature 2", "feature 3"),  # nothing of its own: GDAL's row number
], ids=["geojson-id", "string-id", "ma_thua", "objectid", "row"])
def test_refused_features_are_named_by_the_source_identifier_with_empty_ones_in_the_same_message(
        loaded, tmp_path, ids, key, bowtie, empty):
    source = geojson(tmp_path / "thua.geojson", parcels(ids, key))
    with pytest.raises(ImportRefused) as refused:
        loaded(source, "t-named")
    message = str(refused.value)
    assert message.startswith(f"thua.geojson: 1 invalid geometries ({bowtie}: Self-intersection"), message
    assert f"; 1 feature(s) without geometry would be dropped ({empty}); fix them at the source" in message


def test_a_shapefile_key_column_names_the_refused_feature(loaded, tmp_path):
    source = geojson(tmp_path / "thua.geojson", parcels(key="ma_thua")[:2])
    shp = tmp_path / "shp" / "thua.shp"
    shp.parent.mkdir()
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(shp), str(source)], check=True, capture_output=True)
    with pytest.raises(ImportRefused, match=r"thua.shp: 1 invalid geometries \(ma_thua 1002 \(feature 2\): Self-int"):
        loaded(shp, "t-named-shp")


def test_a_geopackage_fid_names_the_refused_feature(loaded, tmp_path):
    """A GeoPackage's own fid (5, 17, 42 here, read in that order) is not kept by ogr2ogr; it is read back."""
    source = geojson(tmp_path / "thua.geojson", parcels(ids=(17, 42, 5)))
    gpkg = tmp_path / "thua.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(gpkg), str(source), "-nln", "thua", "-preserve_fid"], check=True,
                   capture_output=True)
    with pytest.raises(ImportRefused) as refused:
        loaded(gpkg, "t-named-gpkg")
    assert str(refused.value).startswith("thua.gpkg: 1 invalid geometries (fid 42 (feature 3): Self-intersection")
    assert "without geometry would be dropped (fid 5 (feature 1))" in str(refused.value)


def test_a_csv_key_column_names_the_refused_feature(loaded, tmp_path):
    bowtie, square = (", ".join(f"{x} {y}" for x, y in ring) for ring in (BOWTIE, SQUARE))
    csv = tmp_path / "thua.csv"
    csv.write_text(f'objectid,wkt\n7,"POLYGON (({square}))"\n8,"POLYGON (({bowtie}))"\n', encoding="utf-8")
    with pytest.raises(ImportRefused, match=r"thua.csv: 1 invalid geometries \(objectid 8 \(feature 2\)"):
        loaded(csv, "t-named-csv")


def vn2000_shapefile(tmp_path, numbers_in: int, prj: int | None) -> Path:
    """Points in Cần Thơ whose numbers are in `numbers_in`, with a .prj saying `prj` (None: no .prj)."""
    shp = shapefile(tmp_path / f"shp-{numbers_in}-{prj}", encoding="utf-8", cpg="UTF-8", srid=numbers_in)
    if prj is None:
        shp.with_suffix(".prj").unlink()
    elif prj != numbers_in:
        subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-a_srs", f"EPSG:{prj}", str(shp.parent / "relabelled.shp"),
                        str(shp)], check=True, capture_output=True)
        shp = shp.parent / "relabelled.shp"
    return shp


ZONE_WARNING = (r"EPSG:9210 \(VN-2000 / TM-3 105-45\), {origin}, puts the data at lon 106\.\d+\.\.106\.\d+, .*"
                r"outside Cần Thơ and about (\d+) km east of where EPSG:5897 \(VN-2000 / TM-3 zone 482 \(Cần Thơ\)\) "
                r"puts it, inside the city .*import it again declaring that CRS")


def test_a_vn2000_zone_that_puts_the_data_outside_can_tho_is_a_warning_naming_the_right_zone(loaded, tmp_path):
    """EPSG:5897 numbers declared as EPSG:9210 (central meridian 105°45' instead of 105°) land ~82 km east, in
    Tiền Giang: published (it could be another province's data), with a warning naming EPSG:5897."""
    import re

    in_prj = loaded(vn2000_shapefile(tmp_path, 5897, prj=9210), "t-zone-prj")
    assert in_prj.dataset.storage_srid == 9210 and in_prj.dataset.districts == []  # published as declared
    (warning,) = in_prj.report["warnings"]
    found = re.search(ZONE_WARNING.format(origin="read from the .prj"), warning)
    assert found, warning
    assert 78 <= int(found.group(1)) <= 86

    declared = loaded(vn2000_shapefile(tmp_path, 5897, prj=None), "t-zone-crs", srid=9210)
    assert re.search(ZONE_WARNING.format(origin="declared with the import"), declared.report["warnings"][0])

    right = loaded(vn2000_shapefile(tmp_path, 5897, prj=5897), "t-zone-right")
    assert "warnings" not in right.report and "Quận Ninh Kiều" in right.dataset.districts


def test_data_of_another_province_in_its_own_zone_is_not_warned_about(loaded, tmp_path):
    """Hà Tiên (Kiên Giang) in VN-2000 / TM-3 104-30: no other zone puts it in Cần Thơ, so nothing to say."""
    features = [{"type": "Feature", "properties": {"ten": "Hà Tiên"},
                 "geometry": {"type": "Point", "coordinates": [104.48, 10.38]}}]
    source = geojson(tmp_path / "hatien.geojson", features)
    shp = tmp_path / "hatien" / "hatien.shp"
    shp.parent.mkdir()
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-t_srs", "EPSG:9207", str(shp), str(source)], check=True,
                   capture_output=True)
    result = loaded(shp, "t-zone-other")
    assert result.dataset.storage_srid == 9207 and "warnings" not in result.report


# --- what is refused, precisely, leaving nothing behind ----------------------------------------------

def staged_tables():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
                       (settings.SDI_STAGING_SCHEMA,))
        return cursor.fetchone()[0]


def refused(loaded, path, slug, pattern, **options):
    before = (staged_tables(), current_registry_version(), Dataset.objects.count())
    with pytest.raises(ImportRefused, match=pattern):
        loaded(path, slug, **options)
    assert (staged_tables(), current_registry_version(), Dataset.objects.count()) == before
    assert not Dataset.objects.filter(slug=slug).exists()


def test_zip_without_shp(loaded, tmp_path):
    shp = shapefile(tmp_path / "shp", encoding="utf-8", cpg="UTF-8")
    shp.unlink()
    refused(loaded, zip_folder(shp, tmp_path / "no_shp.zip"), "t-noshp",
            r"no_shp.zip: has no .shp file \(found: diem.cpg, diem.dbf, diem.prj, diem.shx\)")


def test_path_traversal_inside_a_zip(loaded, tmp_path):
    shp = shapefile(tmp_path / "shp", encoding="utf-8", cpg="UTF-8")
    bundle = zip_folder(shp, tmp_path / "evil.zip", extra={"../../etc/cron.d/x": "boom"})
    refused(loaded, bundle, "t-evil", r"evil.zip: refused, entry '../../etc/cron.d/x' would be written outside")
    assert not (tmp_path.parent.parent / "etc").exists()


def test_zip_bomb(loaded, tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("diem.shp", b"\0" * (50 * 1024 * 1024))
    refused(loaded, bomb, "t-bomb", r"bomb.zip: refused, entry 'diem.shp' expands \d+× \(zip bomb\?\)")


def test_archive_over_the_size_limit(loaded, tmp_path, settings):
    settings.SDI_MAX_UNCOMPRESSED_BYTES = 1000
    bundle = zip_folder(shapefile(tmp_path / "shp", encoding="utf-8", cpg="UTF-8"), tmp_path / "big.zip")
    refused(loaded, bundle, "t-big", r"big.zip: refused, it expands to .* MB, over the .* MB limit")


def test_mixed_geometry_types(loaded, tmp_path):
    square = [[105.70, 10.00], [105.71, 10.00], [105.71, 10.01], [105.70, 10.00]]
    features = point_features()[:2] + [
        {"type": "Feature", "properties": {"ten": "vùng", "ma": 7}, "geometry": {"type": "Polygon", "coordinates": [square]}}]
    refused(loaded, geojson(tmp_path / "mixed.geojson", features), "t-mixed",
            r"mixed.geojson: mixed geometry types \(2 Point, 1 Polygon\)")


def test_unknown_crs_code(loaded, tmp_path):
    refused(loaded, geojson(tmp_path / "p.geojson", point_features()), "t-crs", r"unknown CRS EPSG:99999", srid=99999)


def test_csv_whose_coordinate_columns_hold_text(loaded, tmp_path):
    csv = tmp_path / "sai.csv"
    csv.write_text("ten,lon,lat\nA,105.7,10.0\nB,mười,10.1\n", encoding="utf-8")
    refused(loaded, csv, "t-csvtext", r"sai.csv: row 3, column lon: 'mười' is not a number")


def test_csv_without_coordinate_columns(loaded, tmp_path):
    csv = tmp_path / "khong.csv"
    csv.write_text("ten,dia_chi\nA,B\n", encoding="utf-8")
    refused(loaded, csv, "t-csvnone", r"khong.csv: no coordinate columns")


def test_unknown_encoding(loaded, tmp_path):
    refused(loaded, geojson(tmp_path / "p.geojson", point_features()), "t-enc", r"unknown encoding 'latin-9'",
            encoding="latin-9")


# --- the command-line front door ---------------------------------------------------------------------

def manage(*args):
    return subprocess.run([str(Path(settings.BASE_DIR) / ".venv/bin/python"), "manage.py", *args],
                          cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "DATABASE_URL": database_url()})


def database_url():
    db = settings.DATABASES["default"]
    return f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def test_import_and_delete_commands(committed_db, tmp_path):
    source = geojson(tmp_path / "tram.geojson", point_features())
    ok = manage("import_dataset", str(source), "--slug", "t-cli", "--title", "Trạm quan trắc", "--sector",
                "environment", "--crs", "EPSG:4326")
    try:
        assert ok.returncode == 0, ok.stderr
        assert "published t-cli: 6 Point features" in ok.stdout
        assert Dataset.objects.get(slug="t-cli").title_vi == "Trạm quan trắc"
        duplicate = manage("import_dataset", str(source), "--slug", "t-cli")
        assert duplicate.returncode != 0
        assert duplicate.stderr.strip().splitlines()[-1] == "CommandError: dataset 't-cli' already exists (replace it explicitly)"
    finally:
        gone = manage("delete_dataset", "t-cli")
    assert gone.returncode == 0 and not Dataset.objects.filter(slug="t-cli").exists()
    missing = manage("delete_dataset", "t-cli")
    assert missing.returncode != 0 and "no dataset 't-cli'" in missing.stderr


def test_the_import_command_prints_the_zone_warning(committed_db, tmp_path):
    shp = vn2000_shapefile(tmp_path, 5897, prj=None)
    result = manage("import_dataset", str(shp), "--slug", "t-cli-zone", "--crs", "EPSG:9210")
    try:
        assert result.returncode == 0, result.stderr
        assert "published t-cli-zone: 6 Point features" in result.stdout
        assert "warning: diem.shp: EPSG:9210 (VN-2000 / TM-3 105-45), declared with the import" in result.stderr
        assert "where EPSG:5897 (VN-2000 / TM-3 zone 482 (Cần Thơ)) puts it" in result.stderr
    finally:
        if Dataset.objects.filter(slug="t-cli-zone").exists():
            delete_dataset("t-cli-zone")


def test_import_command_help_names_the_vn2000_default():
    result = manage("import_dataset", "--help")
    assert result.returncode == 0 and "EPSG:5897" in result.stdout and "--encoding" in result.stdout


def test_a_shapefile_with_multipart_polygons_loads_as_multipolygons(loaded, tmp_path):
    """A Shapefile says "Polygon" for a layer whose shapes may have several parts (as ArcGIS and QGIS write them)."""
    square = lambda x, y: [[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]  # noqa: E731
    source = geojson(tmp_path / "thua.geojson", [
        {"type": "Feature", "properties": {"ten": "một phần"}, "geometry": {"type": "Polygon",
                                                                            "coordinates": [square(105.75, 10.02)]}},
        {"type": "Feature", "properties": {"ten": "hai phần"}, "geometry": {"type": "MultiPolygon", "coordinates": [
            [square(105.77, 10.02)], [square(105.79, 10.02)]]}}])
    shp = tmp_path / "shp" / "thua.shp"
    shp.parent.mkdir()
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(shp), str(source), "-nlt", "MULTIPOLYGON",
                    "-lco", "ENCODING=UTF-8"], check=True,
                   capture_output=True)
    assert "Geometry: Polygon" in subprocess.run(["ogrinfo", "-so", str(shp), "thua"], capture_output=True,
                                                 text=True).stdout
    dataset = loaded(shp, "t-shp-multipart").dataset
    assert dataset.geometry_type == "MultiPolygon" and dataset.feature_count == 2
    assert values(dataset, "ten") == ["một phần", "hai phần"]
