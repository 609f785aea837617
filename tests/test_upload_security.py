"""Uploads that try to make GDAL read the database, server files or URLs, through the real loader and over HTTP.

Each attack here worked (or fails differently) without layers/loading/gdal_safety.py: only the driver a suffix
names may open a file, VRT and formats that reference other data are refused, GDAL's network access is off.
"""
import http.server
import json
import sqlite3
import stat
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.authtoken.models import Token

from layers.loading import ImportRefused
from layers.models import Dataset, ImportJob
from layers.registry.services import DatasetMetadata, current_registry_version, delete_dataset, import_vector_dataset
from tests.conftest import run_next_queued_import

PREFIX = "t-sec-"
META = DatasetMetadata(title_vi="Thử tấn công", title_en="Attack test", sector="land",
                       licence_name="CC BY 4.0", attribution="test")
FIELDS = {"title_vi": "Thử tấn công", "title_en": "Attack test", "sector": "land", "licence_name": "CC BY 4.0",
          "attribution": "test"}
SECRET = "TOPSECRET-do-not-publish"


# --- fixtures ---------------------------------------------------------------------------------------------------

class RecordingServer:
    """A real HTTP server on 127.0.0.1 that records every request it gets (it should get none)."""

    def __init__(self):
        self.requests: list[str] = []
        recorded = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                recorded.append(self.path)
                body = json.dumps({"type": "FeatureCollection", "features": [point_feature(SECRET)]}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def web():
    server = RecordingServer()
    yield server
    server.stop()


@pytest.fixture
def loaded(committed_db):
    slugs = []

    def load(path, slug, **options):
        slugs.append(slug)
        return import_vector_dataset(path, slug=slug, metadata=META, **options)

    yield load
    for slug in slugs:
        if Dataset.objects.filter(slug=slug).exists():
            delete_dataset(slug)


def point_feature(name, x=105.78, y=10.03):
    return {"type": "Feature", "properties": {"ten": name}, "geometry": {"type": "Point", "coordinates": [x, y]}}


def state():
    """Everything a refused upload must leave as it was: tables, registry rows and version."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_schema, table_name FROM information_schema.tables "
                       "WHERE table_schema IN (%s, %s) ORDER BY 1, 2",
                       (settings.SDI_DATA_SCHEMA, settings.SDI_STAGING_SCHEMA))
        tables = cursor.fetchall()
    return tables, sorted(Dataset.objects.values_list("slug", flat=True)), current_registry_version()


def published_text_contains(needle: str) -> bool:
    """Whether any published or staged table holds `needle` in any column."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN (%s, %s)",
                       (settings.SDI_DATA_SCHEMA, settings.SDI_STAGING_SCHEMA))
        for schema, table in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}" t WHERE t::text LIKE %s', (f"%{needle}%",))
            if cursor.fetchone()[0]:
                return True
    return False


def refused(loaded, path, slug, pattern, tmp_path, **options) -> str:
    """Load `path`, expect a refusal matching `pattern`, and check nothing changed and no server path is shown."""
    before = state()
    with pytest.raises(ImportRefused, match=pattern) as refusal:
        loaded(path, slug, **options)
    assert state() == before
    message = str(refusal.value)
    assert str(tmp_path) not in message and "/tmp/" not in message and "sdi-import-" not in message
    return message


def pg_connection_string() -> str:
    db = settings.DATABASES["default"]
    return (f"PG:dbname='{db['NAME']}' host='{db['HOST']}' port='{db['PORT']}' user='{db['USER']}' "
            f"password='{db['PASSWORD']}'")


def pg_vrt(path: Path) -> Path:
    """The reviewer's attack: a VRT whose layer is an SQL query on our own database (users' password hashes)."""
    path.write_text(
        "<OGRVRTDataSource><OGRVRTLayer name=\"users\">"
        f"<SrcDataSource>{pg_connection_string()}</SrcDataSource>"
        "<SrcSQL>SELECT username, password, ST_SetSRID(ST_MakePoint(105.78, 10.03), 4326) AS geom FROM auth_user"
        "</SrcSQL></OGRVRTLayer></OGRVRTDataSource>", encoding="utf-8")
    return path


def csv_file_vrt(path: Path, secret_file: Path) -> Path:
    """A VRT that reads a local file of the server through the CSV: prefix."""
    path.write_text(
        "<OGRVRTDataSource><OGRVRTLayer name=\"env\">"
        f"<SrcDataSource>CSV:{secret_file}</SrcDataSource><LayerSRS>EPSG:4326</LayerSRS>"
        "<GeometryField encoding=\"PointFromColumns\" x=\"lon\" y=\"lat\"/>"
        "</OGRVRTLayer></OGRVRTDataSource>", encoding="utf-8")
    return path


def secret_file(tmp_path: Path) -> Path:
    secret = tmp_path / "server" / "env"
    secret.parent.mkdir()
    secret.write_text(f"line,lon,lat\nSDI_SECRET_KEY={SECRET},105.78,10.03\n", encoding="utf-8")
    return secret


# --- the loader (layers.registry.services.import_vector_dataset) ---------------------------------------------------------

def test_a_vrt_reading_our_database_is_refused_and_publishes_nothing(loaded, tmp_path, staff):
    assert User.objects.filter(password__startswith="pbkdf2_sha256$").exists()  # there are hashes to steal
    message = refused(loaded, pg_vrt(tmp_path / "users.vrt"), f"{PREFIX}pg", r"^users\.vrt: \.vrt is not an accepted",
                      tmp_path, srid=4326)
    assert "GeoPackage (.gpkg)" in message and "CSV (.csv)" in message  # the accepted formats are named
    assert not published_text_contains("pbkdf2_sha256$")


def test_a_vrt_reading_a_server_file_is_refused(loaded, tmp_path):
    vrt = csv_file_vrt(tmp_path / "env.vrt", secret_file(tmp_path))
    refused(loaded, vrt, f"{PREFIX}csvfile", r"^env\.vrt: \.vrt is not an accepted format", tmp_path, srid=4326)
    assert not published_text_contains(SECRET)


@pytest.mark.parametrize("suffix, driver", [(".geojson", "GeoJSON"), (".gpkg", "GPKG"), (".kml", "LIBKML"),
                                            (".csv", "CSV")])
def test_a_vrt_renamed_to_an_accepted_suffix_is_read_only_by_that_suffix_s_driver(loaded, tmp_path, suffix, driver):
    vrt = csv_file_vrt(tmp_path / f"harmless{suffix}", secret_file(tmp_path))
    before = state()
    with pytest.raises(ImportRefused) as refusal:
        loaded(vrt, f"{PREFIX}renamed", srid=4326)
    assert state() == before
    assert str(refusal.value).startswith(f"harmless{suffix}: ")
    assert str(vrt) not in str(refusal.value)  # (a CSV's refusal quotes its header: the uploader's own text)
    assert not published_text_contains(SECRET)


def test_vsicurl_sources_make_no_request(loaded, tmp_path, web):
    vrt = tmp_path / "remote.vrt"
    vrt.write_text("<OGRVRTDataSource><OGRVRTLayer name=\"r\">"
                   f"<SrcDataSource>/vsicurl/{web.url}/internal.geojson</SrcDataSource>"
                   "</OGRVRTLayer></OGRVRTDataSource>", encoding="utf-8")
    refused(loaded, vrt, f"{PREFIX}vsicurl", r"^remote\.vrt: \.vrt is not an accepted format", tmp_path, srid=4326)
    for path in (f"/vsicurl/{web.url}/internal.geojson", f"/VSICURL/{web.url}/x.geojson",
                 f"/vsizip/{tmp_path}/x.zip/x.shp", f"{pg_connection_string()}", f"CSV:{secret_file(tmp_path)}"):
        message = refused(loaded, Path(path) if path.startswith("/") else path, f"{PREFIX}vsi",
                          r"^the source must be a plain file or folder on this server", tmp_path)
        assert settings.DATABASES["default"]["PASSWORD"] not in message
    assert web.requests == []


def test_a_geojson_crs_link_is_not_fetched(loaded, tmp_path, web, monkeypatch):
    """GDAL 3.6 fetches a GeoJSON "link" CRS over HTTP, in-process and in ogr2ogr: the network is off for both,
    even when no_proxy would let curl bypass a proxy for 127.0.0.1."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    source = tmp_path / "link.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [point_feature("Bến Ninh Kiều")],
                                  "crs": {"type": "link", "properties": {"href": f"{web.url}/crs", "type": "ogcwkt"}}}),
                      encoding="utf-8")
    result = loaded(source, f"{PREFIX}crslink", srid=4326)
    assert result.dataset.feature_count == 1
    assert web.requests == []


def test_a_geopackage_view_over_a_virtualogr_table_leaks_nothing(loaded, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text(f"id,secret,WKT\n1,{SECRET},POINT (105.78 10.03)\n", encoding="utf-8")
    source = tmp_path / "source.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [point_feature("Bến Ninh Kiều")]}),
                      encoding="utf-8")
    gpkg = tmp_path / "view.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(gpkg), str(source), "-nln", "base"], check=True, capture_output=True)
    with sqlite3.connect(gpkg) as db:
        # SQLite's own module cannot make a VirtualOGR table, so it is written into the schema directly.
        db.execute("PRAGMA writable_schema=ON")
        db.execute("INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES "
                   "('table', 'leak_vt', 'leak_vt', 0, ?)", (f"CREATE VIRTUAL TABLE leak_vt USING VirtualOGR('{secret}')",))
        db.execute("PRAGMA writable_schema=OFF")
        db.execute("CREATE VIEW leak AS SELECT b.fid AS fid, b.geom AS geom, "
                   "(SELECT group_concat(secret) FROM leak_vt) AS s FROM base b")
        db.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                   "VALUES ('leak', 'features', 'leak', 4326)")
        db.execute("INSERT INTO gpkg_geometry_columns VALUES ('leak', 'geom', 'POINT', 4326, 0, 0)")
    refused(loaded, gpkg, f"{PREFIX}gpkgview", r"^view\.gpkg: ", tmp_path, layer="leak")
    assert not published_text_contains(SECRET)


def test_a_geopackage_view_calling_ogr_sql_functions_is_refused(loaded, tmp_path, web):
    source = tmp_path / "source.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [point_feature("Bến Ninh Kiều")]}),
                      encoding="utf-8")
    gpkg = tmp_path / "functions.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(gpkg), str(source), "-nln", "base"], check=True, capture_output=True)
    with sqlite3.connect(gpkg) as db:
        db.execute("CREATE VIEW leak AS SELECT b.fid AS fid, b.geom AS geom, "
                   f"ogr_datasource_load_layers('{tmp_path / 'source.geojson'}') AS s FROM base b")
        db.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                   "VALUES ('leak', 'features', 'leak', 4326)")
        db.execute("INSERT INTO gpkg_geometry_columns VALUES ('leak', 'geom', 'POINT', 4326, 0, 0)")
    refused(loaded, gpkg, f"{PREFIX}gpkgfn", r"^functions\.gpkg: GDAL cannot read it as GPKG data", tmp_path)


def kml_with_links(target: Path, href: str) -> Path:
    target.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Placemark><name>Bến Ninh Kiều</name><Point><coordinates>105.78,10.03</coordinates></Point></Placemark>"
        f"<NetworkLink><name>more</name><Link><href>{href}</href></Link></NetworkLink>"
        f"<Placemark><name>styled</name><styleUrl>{href}#style</styleUrl>"
        "<Point><coordinates>105.79,10.04</coordinates></Point></Placemark>"
        "</Document></kml>", encoding="utf-8")
    return target


def test_kml_network_links_and_styles_are_not_followed(loaded, tmp_path, web):
    result = loaded(kml_with_links(tmp_path / "links.kml", f"{web.url}/more.kml"), f"{PREFIX}kml")
    assert result.dataset.feature_count == 2
    assert web.requests == []


def test_a_kmz_network_link_to_a_server_file_reads_nothing_outside_the_archive(loaded, tmp_path, web):
    outside = tmp_path / "outside.kml"
    outside.write_text('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
                       f"<Document><Placemark><name>{SECRET}</name><Point><coordinates>105.7,10.0</coordinates>"
                       "</Point></Placemark></Document></kml>", encoding="utf-8")
    inside = kml_with_links(tmp_path / "p.kml", "#nothing").read_text(encoding="utf-8")
    kmz = tmp_path / "links.kmz"
    for href in (str(outside), "../outside.kml", f"file://{outside}", f"{web.url}/more.kml"):
        doc = ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
               f"<NetworkLink><Link><href>{href}</href></Link></NetworkLink>"
               "<NetworkLink><Link><href>layers/p.kml</href></Link></NetworkLink></Document></kml>")
        with zipfile.ZipFile(kmz, "w") as bundle:
            bundle.writestr("doc.kml", doc)
            bundle.writestr("layers/p.kml", inside)
        result = loaded(kmz, f"{PREFIX}kmz")
        assert result.dataset.feature_count == 2
        assert not published_text_contains(SECRET)
        delete_dataset(f"{PREFIX}kmz")
    assert web.requests == []


def shapefile(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    source = folder.parent / f"{folder.name}.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection",
                                  "features": [point_feature(n, 105.7 + i / 100) for i, n in enumerate(names)]}),
                      encoding="utf-8")
    shp = folder / "diem.shp"
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(shp), str(source), "-lco", "ENCODING=UTF-8"],
                   check=True, capture_output=True)
    return shp


@pytest.mark.parametrize("dbf_rows", [3, 7])
def test_a_shapefile_whose_dbf_and_shp_counts_differ_is_refused(loaded, tmp_path, dbf_rows):
    shp = shapefile(tmp_path / "six", [f"điểm {i}" for i in range(5)])
    other = shapefile(tmp_path / "other", [f"khác {i}" for i in range(dbf_rows)])
    shp.with_suffix(".dbf").write_bytes(other.with_suffix(".dbf").read_bytes())
    bundle = tmp_path / "lech.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for part in shp.parent.iterdir():
            archive.write(part, part.name)
    refused(loaded, bundle, f"{PREFIX}dbf",
            rf"^lech\.zip: diem\.shp holds 5 shapes but diem\.dbf holds {dbf_rows} records", tmp_path)


def zip_with(target: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return target


def symlink(name: str, points_to: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so the mode bits are read
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return (info, points_to.encode())


def test_a_zip_with_a_symbolic_link_is_refused_cleanly(loaded, tmp_path):
    feature = json.dumps({"type": "FeatureCollection", "features": [point_feature("a")]}).encode()
    into_dir = zip_with(tmp_path / "link_dir.zip", [symlink("data", "/etc"), ("data/diem.geojson", feature)])
    refused(loaded, into_dir, f"{PREFIX}link", r"^link_dir\.zip: refused, entry 'data' is a symbolic link", tmp_path)
    alone = zip_with(tmp_path / "link_only.zip", [symlink("etc", "/etc/"), ("diem.geojson", feature)])
    refused(loaded, alone, f"{PREFIX}link", r"^link_only\.zip: refused, entry 'etc' is a symbolic link", tmp_path)
    clash = zip_with(tmp_path / "clash.zip", [("data", b"x"), ("data/diem.geojson", feature)])
    refused(loaded, clash, f"{PREFIX}link", r"^clash\.zip: refused, entry 'data/diem\.geojson' cannot be unpacked",
            tmp_path)


def test_refusals_name_the_file_never_a_server_path(loaded, tmp_path):
    deep = tmp_path / "srv" / "uploads" / "0123abcd"
    deep.mkdir(parents=True)
    broken = deep / "hong.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    refused(loaded, broken, f"{PREFIX}path", r"^hong\.geojson: GDAL cannot read it as GeoJSON data", tmp_path)
    refused(loaded, deep / "missing.geojson", f"{PREFIX}path", r"^missing\.geojson: file not found", tmp_path)
    fake = deep / "parcels.gpkg"
    fake.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    refused(loaded, fake, f"{PREFIX}path", r"^parcels\.gpkg: ", tmp_path)
    (deep / "notes.gml").write_text("<x/>", encoding="utf-8")
    refused(loaded, deep / "notes.gml", f"{PREFIX}path", r"^notes\.gml: \.gml is not an accepted format", tmp_path)


# --- the REST API over HTTP -------------------------------------------------------------------------------------

@pytest.fixture
def staff(committed_db):
    users = {"staff": User.objects.create_user(f"{PREFIX}staff", password="pw", is_staff=True),
             "root": User.objects.create_superuser(f"{PREFIX}root", password="pw")}
    yield {name: Token.objects.create(user=user).key for name, user in users.items()}
    for job in ImportJob.objects.filter(slug__startswith=PREFIX):
        job.delete()
    for slug in Dataset.objects.filter(slug__startswith=PREFIX).values_list("slug", flat=True):
        delete_dataset(slug)
    User.objects.filter(username__startswith=PREFIX).delete()


def post(server, token, path: Path | None = None, **fields):
    files = {"file": (path.name, path.read_bytes(), "application/octet-stream")} if path else None
    return requests.post(f"{server}/api/datasets", headers={"Authorization": f"Token {token}"},
                         data={**FIELDS, **fields}, files=files, timeout=60)


def upload_folders() -> set[str]:
    root = Path(settings.SDI_UPLOAD_DIR)
    return {p.name for p in root.iterdir()} if root.is_dir() else set()


def test_rest_upload_of_a_database_vrt_is_refused_before_anything_is_saved(server, staff, tmp_path):
    before, folders, jobs = state(), upload_folders(), ImportJob.objects.count()
    response = post(server, staff["staff"], pg_vrt(tmp_path / "users.vrt"), slug=f"{PREFIX}rest-pg")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("users.vrt: .vrt is not an accepted format") and "GeoJSON" in detail
    assert (state(), upload_folders(), ImportJob.objects.count()) == (before, folders, jobs)
    assert not published_text_contains("pbkdf2_sha256$")


def test_rest_upload_of_a_vrt_named_geojson_fails_in_its_job_without_leaking(server, staff, tmp_path, web):
    vrt = tmp_path / "diem.geojson"
    vrt.write_text("<OGRVRTDataSource><OGRVRTLayer name=\"users\">"
                   f"<SrcDataSource>{pg_connection_string()}</SrcDataSource>"
                   "<SrcSQL>SELECT username, password, ST_SetSRID(ST_MakePoint(105.78, 10.03), 4326) AS geom "
                   "FROM auth_user</SrcSQL></OGRVRTLayer>"
                   f"<OGRVRTLayer name=\"web\"><SrcDataSource>/vsicurl/{web.url}/x.geojson</SrcDataSource>"
                   "</OGRVRTLayer></OGRVRTDataSource>", encoding="utf-8")
    before = state()
    response = post(server, staff["staff"], vrt, slug=f"{PREFIX}rest-renamed", crs="EPSG:4326")
    assert response.status_code == 202, response.text
    job = run_next_queued_import()
    assert job.pk == response.json()["id"]
    status = requests.get(response.json()["url"], headers={"Authorization": f"Token {staff['staff']}"},
                          timeout=30).json()
    assert status["status"] == "failed"
    assert status["message"].startswith("diem.geojson: GDAL cannot read it as GeoJSON data")
    assert str(settings.SDI_UPLOAD_DIR) not in status["message"] and "/" not in status["message"].split("(")[0]
    assert state() == before
    assert not published_text_contains("pbkdf2_sha256$")
    assert web.requests == []


def test_rest_source_paths_must_be_plain_server_files(server, staff, tmp_path, web):
    for source_path in (f"/vsicurl/{web.url}/x.geojson", pg_connection_string(), f"CSV:{secret_file(tmp_path)}"):
        response = post(server, staff["root"], source_path=source_path, slug=f"{PREFIX}rest-path")
        assert response.status_code == 400
        assert response.json()["detail"].startswith("source_path: the source must be a plain file or folder")
        assert settings.DATABASES["default"]["PASSWORD"] not in response.text
    assert web.requests == []
