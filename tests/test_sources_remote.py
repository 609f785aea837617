"""Remote sources (layers.sources.remote) against real HTTP servers on loopback: a small threaded server in this
process serving fixture pages (a file source, an OGC API, a WFS, and ones that misbehave), and the SDI's own
OGC API on a real gunicorn (conftest's `server`) read as a remote collection.

No mocks: every download goes over a socket. Secrets are put in URLs (user:password@, ?token=) and every
message and log line is checked not to show them.
"""
import base64
import io
import json
import logging
import subprocess
import threading
import unicodedata
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from layers.sources.errors import SourceFailed
from layers.sources.remote import Downloaded, RemoteLimits, SourceUnreachable, download

PASSWORD = "s3cr3t-pass"
TOKEN = "tok-9f8e7d6c"
NAMES = ["Phường An Hòa", "Quận Ninh Kiều", "Xã Nhơn Ái", "Thới An Đông", "Cồn Ấu"]  # NFC, as served


def features(start: int, stop: int) -> list[dict]:
    return [{"type": "Feature", "id": i + 1,
             "properties": {"ma_thua": f"NK-{i + 1:03d}", "ten": NAMES[i % len(NAMES)], "dien_tich": 100.5 + i},
             "geometry": {"type": "Point", "coordinates": [105.77 + i / 1000, 10.03 + i / 1000]}}
            for i in range(start, stop)]


class FixtureServer:
    """A stdlib HTTP server on a free loopback port; `routes` maps a path to a function(handler, query)."""

    def __init__(self):
        self.routes = {}
        self.requests = []  # (path, query dict, headers) of every request, for asserting what was sent
        self.release = threading.Event()  # set at teardown, so that handlers that hang let go
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                owner.requests.append((parts.path, query, dict(self.headers)))
                route = owner.routes.get(parts.path)
                if route is None:
                    return self.reply(404, b'{"code":"NotFound","description":"no such page"}', "application/json")
                route(self, query)

            def reply(self, status, body: bytes, content_type: str, headers: dict | None = None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def route(self, path):
        def register(function):
            self.routes[path] = function
            return function
        return register

    def stop(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def remote():
    server = FixtureServer()
    yield server
    server.stop()


def geojson(handler, document, status=200, headers=None):
    handler.reply(status, json.dumps(document, ensure_ascii=False).encode(), "application/geo+json", headers)


def read_features(result: Downloaded) -> list[dict]:
    document = json.loads(result.path.read_text(encoding="utf-8"))
    assert document["type"] == "FeatureCollection"
    return document["features"]


def fails(kind, url, tmp_path, *, match: str, caplog=None, **kwargs) -> str:
    """Download and expect SourceFailed whose message contains `match`; no secret in it or in the logs."""
    with pytest.raises(SourceFailed) as caught:
        download(kind, url, tmp_path / "work", **kwargs)
    message = str(caught.value)
    assert match in message, message
    assert PASSWORD not in message and TOKEN not in message, message
    if caplog is not None:
        assert PASSWORD not in caplog.text and TOKEN not in caplog.text
    return message


# --- files at a URL -------------------------------------------------------------------------------------------

def test_geojson_file_keeps_its_name_and_vietnamese_text(remote, tmp_path):
    body = json.dumps({"type": "FeatureCollection", "features": features(0, 5)}, ensure_ascii=False).encode()
    remote.routes["/data/thua-dat.geojson"] = lambda h, q: h.reply(200, body, "application/octet-stream")
    progress = []
    result = download("file", f"{remote.url}/data/thua-dat.geojson", tmp_path, srid=5897,
                      on_progress=lambda done, total, unit: progress.append((done, total, unit)))
    assert result.path.name == "thua-dat.geojson" and result.path.read_bytes() == body
    assert result.srid == 5897  # a declared CRS is passed on
    assert result.label == f"{remote.url}/data/thua-dat.geojson"
    names = [f["properties"]["ten"] for f in read_features(result)]
    assert names == NAMES and all(unicodedata.is_normalized("NFC", n) for n in names)
    assert progress[-1] == (len(body), len(body), "B")
    assert "CanTho-SDI" in remote.requests[0][2]["User-Agent"]


def test_the_loader_reads_a_downloaded_file_as_an_upload(remote, tmp_path, django_db_setup):
    """The file is what layers.loading.prepare_source opens with its allow-listed driver."""
    from layers.loading.prepare import prepare_source

    body = json.dumps({"type": "FeatureCollection", "features": features(0, 5)}, ensure_ascii=False).encode()
    remote.routes["/export"] = lambda h, q: h.reply(200, body, "application/geo+json; charset=utf-8")
    result = download("file", f"{remote.url}/export?token={TOKEN}", tmp_path / "work")
    assert result.path.suffix == ".geojson"  # from the Content-Type, since the path has none
    prepared = prepare_source(result.path, tmp_path / "prep", layer=None, srid=None, encoding=None)
    assert prepared.layer.feature_count == 5 and prepared.srid == 4326


def test_csv_by_content_type(remote, tmp_path):
    body = "ma_thua,ten,lon,lat\nNK-001,Quận Ninh Kiều,105.78,10.03\n".encode()
    remote.routes["/api/export"] = lambda h, q: h.reply(200, body, "text/csv; charset=utf-8")
    result = download("file", f"{remote.url}/api/export", tmp_path)
    assert result.path.suffix == ".csv" and result.path.read_bytes() == body and result.srid is None


def test_zipped_shapefile(remote, tmp_path):
    source = tmp_path / "src.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features(0, 3)}, ensure_ascii=False))
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(tmp_path / "thua.shp"), str(source)], check=True)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        for part in tmp_path.glob("thua.*"):
            archive.write(part, part.name)
    remote.routes["/files/thua_dat.zip"] = lambda h, q: h.reply(200, packed.getvalue(), "application/zip")
    result = download("file", f"{remote.url}/files/thua_dat.zip", tmp_path / "work")
    assert result.path.name == "thua_dat.zip"
    assert sorted(zipfile.ZipFile(result.path).namelist()) == ["thua.dbf", "thua.prj", "thua.shp", "thua.shx"]


def test_html_error_page_instead_of_geojson(remote, tmp_path):
    remote.routes["/data/parcels.geojson"] = lambda h, q: h.reply(200, b"<html><body>Dang nhap</body></html>",
                                                                  "text/html; charset=utf-8")
    fails("file", f"{remote.url}/data/parcels.geojson", tmp_path, match="answered text/html, not GeoJSON")


def test_garbage_and_cut_off_files(remote, tmp_path):
    remote.routes["/a.zip"] = lambda h, q: h.reply(200, b"not a zip at all", "application/zip")
    remote.routes["/b.geojson"] = lambda h, q: h.reply(200, b'{"type":"FeatureCollection","features":[{"ty',
                                                       "application/geo+json")
    remote.routes["/c"] = lambda h, q: h.reply(200, b"\x89PNG....", "image/png")
    fails("file", f"{remote.url}/a.zip", tmp_path, match="answered a file that is not a zip archive, not a zipped Shapefile")
    fails("file", f"{remote.url}/b.geojson", tmp_path, match="answered JSON that is cut off")
    fails("file", f"{remote.url}/c", tmp_path, match="answered image/png and its URL names no .geojson")


@pytest.mark.parametrize("url, said", [
    ("file:///etc/passwd", "only http and https sources are read, not a file: URL"),
    ("ftp://example.org/a.zip", "not a ftp: URL"),
    ("/srv/data/a.geojson", "not a URL without http:// or https://"),
    ("http://:80/a.geojson", "the URL names no host"),
])
def test_only_http_and_https(tmp_path, url, said):
    fails("file", url, tmp_path, match=said)


def test_unknown_kind(remote, tmp_path):
    fails("shapefile", f"{remote.url}/a.zip", tmp_path, match="unknown kind of source 'shapefile'")


def test_redirects_are_followed_checked_and_limited(remote, tmp_path):
    body = json.dumps({"type": "FeatureCollection", "features": features(0, 1)}).encode()
    remote.routes["/moved"] = lambda h, q: h.reply(302, b"", "text/plain", {"Location": "/data/real.geojson"})
    remote.routes["/data/real.geojson"] = lambda h, q: h.reply(200, body, "application/geo+json")
    remote.routes["/to-file"] = lambda h, q: h.reply(301, b"", "text/plain", {"Location": "file:///etc/passwd"})
    remote.routes["/circle"] = lambda h, q: h.reply(307, b"", "text/plain", {"Location": "/circle"})
    assert download("file", f"{remote.url}/moved", tmp_path / "one").path.read_bytes() == body
    fails("file", f"{remote.url}/to-file", tmp_path, match="redirected to a file: URL; only http and https are followed")
    fails("file", f"{remote.url}/circle", tmp_path, match="redirected more than 2 times",
          limits=RemoteLimits(max_redirects=2))


def test_credentials_go_to_their_own_server_only_and_are_never_shown(remote, tmp_path, caplog):
    other = FixtureServer()
    try:
        body = json.dumps({"type": "FeatureCollection", "features": features(0, 1)}).encode()
        expected = "Basic " + base64.b64encode(f"canbo:{PASSWORD}".encode()).decode()

        def private(handler, query):
            if handler.headers.get("Authorization") != expected or query.get("token") != TOKEN:
                return handler.reply(401, b'{"description":"sai mat khau"}', "application/json")
            handler.reply(200, body, "application/geo+json")
        remote.routes["/private.geojson"] = private
        remote.routes["/elsewhere"] = lambda h, q: h.reply(302, b"", "text/plain",
                                                         {"Location": f"{other.url}/copy.geojson"})
        other.routes["/copy.geojson"] = lambda h, q: h.reply(200, body, "application/geo+json")
        caplog.set_level(logging.DEBUG, logger="layers.sources.remote")

        base = f"http://canbo:{PASSWORD}@127.0.0.1:{remote.port}"
        result = download("file", f"{base}/private.geojson?token={TOKEN}", tmp_path / "ok")
        assert result.label == f"{remote.url}/private.geojson?token=***"
        download("file", f"{base}/elsewhere", tmp_path / "moved")
        assert "Authorization" not in other.requests[0][2]  # not sent on to another server

        message = fails("file", f"{base}/private.geojson?token=wrong-token-1", tmp_path, caplog=caplog,
                        match="answered HTTP 401 Unauthorized (sai mat khau)")
        assert message.startswith(f"{remote.url}/private.geojson?token=***:")
        fails("file", f"http://canbo:{PASSWORD}@127.0.0.1:{other.port}/missing.geojson?token={TOKEN}", tmp_path,
              caplog=caplog, match="answered HTTP 404 Not Found (no such page)")
        assert PASSWORD not in caplog.text and TOKEN not in caplog.text and "canbo" not in caplog.text
    finally:
        other.stop()


def test_connection_refused(tmp_path):
    from tests.conftest import free_port
    with pytest.raises(SourceUnreachable):  # may pass later, unlike a wrong answer
        download("file", f"http://127.0.0.1:{free_port()}/a.geojson", tmp_path)
    fails("file", f"http://127.0.0.1:{free_port()}/a.geojson?token={TOKEN}", tmp_path,
          match="could not connect (Connection refused)")


def test_unreachable_is_told_apart_from_a_wrong_answer(remote, tmp_path):
    remote.routes["/a.geojson"] = lambda h, q: h.reply(200, b"<html></html>", "text/html")
    with pytest.raises(SourceFailed) as caught:
        download("file", f"{remote.url}/a.geojson", tmp_path)
    assert not isinstance(caught.value, SourceUnreachable)


# --- OGC API – Features -------------------------------------------------------------------------------------------

def collection_doc(cid, crs=None):
    return {"id": cid, "title": "Thửa đất", "links": [],
            "crs": crs or ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
            "storageCrs": (crs or ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"])[-1]}


def serve_collection(remote, cid, items, crs=None):
    remote.routes[f"/ogc/collections/{cid}"] = lambda h, q: h.reply(
        200, json.dumps(collection_doc(cid, crs)).encode(), "application/json")
    remote.routes[f"/ogc/collections/{cid}/items"] = items


def test_ogcapi_three_pages(remote, tmp_path, caplog):
    all_features = features(0, 5)

    def items(handler, query):
        page = int(query.get("page", "1"))
        links = [{"rel": "self", "type": "application/geo+json", "href": "items"}]
        if page < 3:
            links += [{"rel": "next", "type": "text/html", "href": f"items?f=html&page={page + 1}"},
                      {"rel": "next", "type": "application/geo+json", "href": f"items?f=json&page={page + 1}"}]
        chunk = all_features[(page - 1) * 2: page * 2]
        geojson(handler, {"type": "FeatureCollection", "features": chunk, "links": links,
                          "numberMatched": 5, "numberReturned": len(chunk)})
    serve_collection(remote, "thua-dat", items)
    caplog.set_level(logging.DEBUG, logger="layers.sources.remote")
    progress = []
    result = download("ogcapi", f"{remote.url}/ogc/collections/thua-dat?token={TOKEN}", tmp_path,
                      on_progress=lambda *args: progress.append(args))
    assert result.features == 5 and result.srid == 4326 and result.path.name == "thua-dat.geojson"
    got = read_features(result)
    assert [f["properties"]["ma_thua"] for f in got] == [f"NK-{i:03d}" for i in range(1, 6)]
    assert [f["properties"]["ten"] for f in got] == NAMES
    assert progress == [(2, 5, "features"), (4, 5, "features"), (5, 5, "features")]
    pages = [q for path, q, _ in remote.requests if path.endswith("/items")]
    assert len(pages) == 3 and pages[0]["limit"] == "10000" and pages[0]["f"] == "json"
    assert all(q["token"] == TOKEN for q in pages)  # carried onto next links that left it out
    assert "crs" not in pages[0]  # CRS84, the default
    assert "application/geo+json" in remote.requests[1][2]["Accept"]
    assert TOKEN not in caplog.text


def test_ogcapi_asks_an_offered_crs(remote, tmp_path):
    vn2000 = "http://www.opengis.net/def/crs/EPSG/0/5897"

    def items(handler, query):
        geojson(handler, {"type": "FeatureCollection", "features": features(0, 2), "links": []},
                headers={"Content-Crs": f"<{query.get('crs', 'http://www.opengis.net/def/crs/OGC/1.3/CRS84')}>"})
    serve_collection(remote, "vn", items, crs=["http://www.opengis.net/def/crs/OGC/1.3/CRS84", vn2000])
    result = download("ogcapi", f"{remote.url}/ogc/collections/vn", tmp_path / "a", srid=5897)
    assert result.srid == 5897 and remote.requests[-1][1]["crs"] == vn2000
    # Not offered (3405), or latitude first (4756): CRS84 instead.
    assert download("ogcapi", f"{remote.url}/ogc/collections/vn", tmp_path / "b", srid=3405).srid == 4326
    assert "crs" not in remote.requests[-1][1]


def test_ogcapi_wrong_content_crs(remote, tmp_path):
    serve_collection(remote, "lying", lambda h, q: geojson(
        h, {"type": "FeatureCollection", "features": features(0, 1)},
        headers={"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4326>"}))
    fails("ogcapi", f"{remote.url}/ogc/collections/lying", tmp_path,
          match="(page 1): answered in the CRS http://www.opengis.net/def/crs/EPSG/0/4326, not the CRS84")


def test_ogcapi_next_link_loop(remote, tmp_path):
    serve_collection(remote, "loop", lambda h, q: geojson(h, {
        "type": "FeatureCollection", "features": features(0, 1),
        "links": [{"rel": "next", "type": "application/geo+json", "href": "items?f=json&limit=10000"}]}))
    fails("ogcapi", f"{remote.url}/ogc/collections/loop", tmp_path, limits=RemoteLimits(max_pages=50),
          match="/ogc/collections/loop (page 1): its next link points back to a page it already sent (a loop)")


def test_ogcapi_links_forever(remote, tmp_path):
    serve_collection(remote, "forever", lambda h, q: geojson(h, {
        "type": "FeatureCollection", "features": features(0, 1),
        "links": [{"rel": "next", "href": f"items?f=json&page={int(q.get('page', '1')) + 1}"}]}))
    fails("ogcapi", f"{remote.url}/ogc/collections/forever", tmp_path,
          match="(page 5): has more than 4 pages (the page limit)", limits=RemoteLimits(max_pages=4))


def test_ogcapi_next_link_to_another_server(remote, tmp_path):
    serve_collection(remote, "away", lambda h, q: geojson(h, {
        "type": "FeatureCollection", "features": features(0, 1),
        "links": [{"rel": "next", "href": "http://203.0.113.9:8080/ogc/collections/away/items?page=2"}]}))
    fails("ogcapi", f"{remote.url}/ogc/collections/away", tmp_path,
          match="its next link leads to another server (203.0.113.9:8080)")


def test_ogcapi_cut_mid_body(remote, tmp_path):
    def items(handler, query):
        body = json.dumps({"type": "FeatureCollection", "features": features(0, 5)}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/geo+json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[:100])
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(2)
    serve_collection(remote, "cut", items)
    fails("ogcapi", f"http://u:{PASSWORD}@127.0.0.1:{remote.port}/ogc/collections/cut", tmp_path,
          match="/ogc/collections/cut (page 1): closed the connection before its answer was complete")


def test_ogcapi_never_answers(remote, tmp_path):
    serve_collection(remote, "hang", lambda h, q: remote.release.wait(30))
    with pytest.raises(SourceUnreachable):
        download("ogcapi", f"{remote.url}/ogc/collections/hang", tmp_path, limits=RemoteLimits(read_timeout=0.5))
    fails("ogcapi", f"{remote.url}/ogc/collections/hang?token={TOKEN}", tmp_path,
          match="/ogc/collections/hang?token=*** (page 1): sent nothing for 0.5 s (the read timeout)",
          limits=RemoteLimits(read_timeout=0.5))


def test_ogcapi_total_timeout(remote, tmp_path):
    def slow(handler, query):  # answers every page, slowly, and links on forever
        remote.release.wait(0.3)
        geojson(handler, {"type": "FeatureCollection", "features": features(0, 1),
                          "links": [{"rel": "next", "href": f"items?page={int(query.get('page', '1')) + 1}"}]})
    serve_collection(remote, "slow", slow)
    fails("ogcapi", f"{remote.url}/ogc/collections/slow", tmp_path,
          match="took longer than 1 s in all (the total timeout)", limits=RemoteLimits(total_timeout=1))


def test_ogcapi_answers_html(remote, tmp_path):
    serve_collection(remote, "html", lambda h, q: h.reply(200, b"<!doctype html><p>Loi</p>", "text/html"))
    fails("ogcapi", f"{remote.url}/ogc/collections/html", tmp_path, match="(page 1): answered text/html, not GeoJSON")


def test_ogcapi_truncated_json(remote, tmp_path):
    def items(handler, query):  # no Content-Length: the body just stops
        handler.send_response(200)
        handler.send_header("Content-Type", "application/geo+json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(json.dumps({"type": "FeatureCollection", "features": features(0, 5)}).encode()[:150])
        handler.close_connection = True
    serve_collection(remote, "truncated", items)
    fails("ogcapi", f"{remote.url}/ogc/collections/truncated", tmp_path,
          match="(page 1): answered GeoJSON that is cut off")


def test_ogcapi_bigger_than_the_cap(remote, tmp_path):
    serve_collection(remote, "big", lambda h, q: geojson(h, {"type": "FeatureCollection", "features": features(0, 50)}))
    fails("ogcapi", f"{remote.url}/ogc/collections/big", tmp_path,
          match="(page 1): is larger than the limit of 2 KiB", limits=RemoteLimits(max_bytes=2048))

    def chunked(handler, query):  # no Content-Length to refuse early: counted as it arrives
        handler.send_response(200)
        handler.send_header("Content-Type", "application/geo+json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(json.dumps({"type": "FeatureCollection", "features": features(0, 50)}).encode())
        handler.close_connection = True
    serve_collection(remote, "big2", chunked)
    message = fails("ogcapi", f"{remote.url}/ogc/collections/big2", tmp_path,
                    match="(page 1): is larger than the limit of 2 KiB", limits=RemoteLimits(max_bytes=2048))
    assert "announced" not in message


def test_ogcapi_number_matched_disagrees(remote, tmp_path):
    serve_collection(remote, "short", lambda h, q: geojson(h, {
        "type": "FeatureCollection", "features": features(0, 3), "numberMatched": 7}))
    fails("ogcapi", f"{remote.url}/ogc/collections/short", tmp_path,
          match="said numberMatched 7 but its pages held 3 features")


def test_ogcapi_not_a_collection(remote, tmp_path):
    fails("ogcapi", f"{remote.url}/ogc/datasets/x", tmp_path,
          match="is not the URL of an OGC API collection (…/collections/{id})")
    remote.routes["/ogc/collections/gone"] = lambda h, q: h.reply(
        404, b'{"code":"NotFound","description":"Collection not found"}', "application/json")
    fails("ogcapi", f"{remote.url}/ogc/collections/gone", tmp_path,
          match="(collection): answered HTTP 404 Not Found (Collection not found)")
    serve_collection(remote, "notgeo", lambda h, q: geojson(h, {"type": "Feature", "properties": {}}))
    fails("ogcapi", f"{remote.url}/ogc/collections/notgeo", tmp_path,
          match="answered JSON that is not a GeoJSON FeatureCollection (type 'Feature')")


# --- this SDI's own OGC API, on a real gunicorn --------------------------------------------------------------------

def test_ogcapi_from_this_sdi(ogcapi, tmp_path):
    """133 bus stops in pages of 50 through the SDI's own keyset next links, names as published."""
    pages = []
    result = download("ogcapi", f"{ogcapi}/collections/cantho-bus-route-09-stops", tmp_path / "a",
                      limits=RemoteLimits(page_size=50), on_progress=lambda *args: pages.append(args))
    stops = read_features(result)
    assert result.features == len(stops) == 133 and result.srid == 4326
    assert pages == [(50, 133, "features"), (100, 133, "features"), (133, 133, "features")]
    with open("config/data/cantho/osm/cantho_osm_bus_route09_stops.geojson", encoding="utf-8") as f:
        published = sorted(feature["properties"].get("name") or "" for feature in json.load(f)["features"])
    assert sorted(s["properties"].get("name") or "" for s in stops) == published
    assert "Công viện Phan Văn Trị" in published
    lon, lat = stops[0]["geometry"]["coordinates"]
    assert 105 < lon < 106.5 and 9.5 < lat < 10.5  # CRS84: longitude first


def test_ogcapi_from_this_sdi_in_vn2000(ogcapi, tmp_path):
    result = download("ogcapi", f"{ogcapi}/collections/cantho-districts", tmp_path, srid=5897)
    districts = read_features(result)
    assert result.srid == 5897 and result.features == 9
    names = {d["properties"]["name"] for d in districts}
    assert "Quận Ninh Kiều" in names and all(unicodedata.is_normalized("NFC", n) for n in names)
    x, y = districts[0]["geometry"]["coordinates"][0][0][0]
    assert 500_000 < x < 650_000 and 1_050_000 < y < 1_200_000  # VN-2000 / TM-3 105°45′, easting first


# --- WFS 2.0 ------------------------------------------------------------------------------------------------------

CAPABILITIES = """<?xml version="1.0" encoding="UTF-8"?>
<wfs:WFS_Capabilities version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0"
    xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:ninhkieu="http://ninhkieu.cantho.gov.vn">
  <ows:OperationsMetadata>
    <ows:Operation name="GetFeature">
      <ows:Parameter name="outputFormat"><ows:AllowedValues>
        {formats}
      </ows:AllowedValues></ows:Parameter>
    </ows:Operation>
    <ows:Constraint name="ImplementsResultPaging"><ows:NoValues/><ows:DefaultValue>{paging}</ows:DefaultValue></ows:Constraint>
  </ows:OperationsMetadata>
  <wfs:FeatureTypeList>
    <wfs:FeatureType><wfs:Name>ninhkieu:thua_dat</wfs:Name><wfs:Title>Thửa đất</wfs:Title>
      <wfs:DefaultCRS>urn:ogc:def:crs:EPSG::5897</wfs:DefaultCRS><wfs:OtherCRS>urn:ogc:def:crs:EPSG::4326</wfs:OtherCRS>
    </wfs:FeatureType>
    <wfs:FeatureType><wfs:Name>ninhkieu:hong</wfs:Name>
      <wfs:DefaultCRS>urn:ogc:def:crs:EPSG::4326</wfs:DefaultCRS></wfs:FeatureType>
  </wfs:FeatureTypeList>
</wfs:WFS_Capabilities>"""
JSON_AND_GML = "<ows:Value>application/gml+xml; version=3.2</ows:Value><ows:Value>application/json</ows:Value>"
EXCEPTION = """<?xml version="1.0" encoding="UTF-8"?>
<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1" version="2.0.0">
  <ows:Exception exceptionCode="OperationProcessingFailed"><ows:ExceptionText>Lỗi cơ sở dữ liệu: bảng thua_dat
  bị khóa</ows:ExceptionText></ows:Exception></ows:ExceptionReport>"""


def serve_wfs(remote, formats=JSON_AND_GML, paging="TRUE", total=5, exception_status=400):
    def wfs(handler, query):
        if query.get("token") != TOKEN:
            return handler.reply(403, b"forbidden", "text/plain")
        request = query.get("request")
        if request == "GetCapabilities":
            caps = CAPABILITIES.format(formats=formats, paging=paging)
            return handler.reply(200, caps.encode(), "application/xml")
        if query.get("typeNames") == "ninhkieu:hong":
            return handler.reply(exception_status, EXCEPTION.encode(), "application/xml")
        start, count = int(query.get("startIndex", 0)), int(query.get("count", 3))
        geojson(handler, {"type": "FeatureCollection", "features": features(start, min(start + count, total)),
                          "numberMatched": total, "numberReturned": max(0, min(count, total - start))})
    remote.routes["/geoserver/wfs"] = wfs


def test_wfs_paged_geojson(remote, tmp_path, caplog):
    serve_wfs(remote)
    caplog.set_level(logging.DEBUG, logger="layers.sources.remote")
    result = download("wfs", f"{remote.url}/geoserver/wfs?typeName=ninhkieu:thua_dat&token={TOKEN}", tmp_path,
                      limits=RemoteLimits(page_size=2))
    got = read_features(result)
    assert result.features == 5 and result.srid == 5897 and result.path.name == "ninhkieu_thua_dat.geojson"
    assert [f["properties"]["ten"] for f in got] == NAMES
    pages = [q for _, q, _ in remote.requests if q.get("request") == "GetFeature"]
    assert [(q["startIndex"], q["count"]) for q in pages] == [("0", "2"), ("2", "2"), ("4", "2")]
    assert {(q["version"], q["typeNames"], q["outputFormat"], q["srsName"]) for q in pages} == {
        ("2.0.0", "ninhkieu:thua_dat", "application/json", "EPSG:5897")}
    assert "typeName" not in pages[0]
    assert TOKEN not in caplog.text


def test_wfs_asks_an_offered_crs_and_reads_unpaged(remote, tmp_path):
    serve_wfs(remote, paging="FALSE", total=3)
    result = download("wfs", f"{remote.url}/geoserver/wfs?service=WFS&typeNames=thua_dat&token={TOKEN}", tmp_path,
                      srid=4326)
    assert result.srid == 4326 and result.features == 3
    (page,) = [q for _, q, _ in remote.requests if q.get("request") == "GetFeature"]
    assert page["srsName"] == "EPSG:4326" and "startIndex" not in page


def test_wfs_unpaged_server_that_cuts_short(remote, tmp_path):
    serve_wfs(remote, paging="FALSE", total=10)  # sends its default 3 of 10
    fails("wfs", f"{remote.url}/geoserver/wfs?typeName=ninhkieu:thua_dat&token={TOKEN}", tmp_path,
          match="said numberMatched 10 but sent 3 features (it does not implement result paging")


@pytest.mark.parametrize("status", [400, 200])
def test_wfs_exception_report(remote, tmp_path, status):
    serve_wfs(remote, exception_status=status)
    fails("wfs", f"{remote.url}/geoserver/wfs?typeName=ninhkieu:hong&token={TOKEN}", tmp_path,
          match="(GetFeature page 1): answered " + ("HTTP 400 Bad Request (" if status == 400 else "an exception: ")
          + "Lỗi cơ sở dữ liệu: bảng thua_dat bị khóa")


def test_wfs_unknown_type_and_gml_only(remote, tmp_path):
    serve_wfs(remote)
    fails("wfs", f"{remote.url}/geoserver/wfs?typeName=ninhkieu:duong&token={TOKEN}", tmp_path,
          match="(GetCapabilities): has no feature type 'ninhkieu:duong' (it offers: ninhkieu:hong, ninhkieu:thua_dat)")
    fails("wfs", f"{remote.url}/geoserver/wfs?token={TOKEN}", tmp_path, match="names no feature type")
    serve_wfs(remote, formats="<ows:Value>text/csv</ows:Value><ows:Value>SHAPE-ZIP</ows:Value>")
    fails("wfs", f"{remote.url}/geoserver/wfs?typeName=ninhkieu:thua_dat&token={TOKEN}", tmp_path,
          match="offers neither GeoJSON nor GML output for GetFeature (it offers: text/csv, SHAPE-ZIP)")


def test_wfs_capabilities_with_entities_are_refused(remote, tmp_path):
    bomb = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            '<wfs:WFS_Capabilities xmlns:wfs="http://www.opengis.net/wfs/2.0" version="2.0.0">&b;'
            '</wfs:WFS_Capabilities>')
    remote.routes["/wfs"] = lambda h, q: h.reply(200, bomb.encode(), "text/xml")
    fails("wfs", f"{remote.url}/wfs?typeName=a", tmp_path, match="(GetCapabilities): answered XML with a DTD")


def test_wfs_that_ignores_start_index(remote, tmp_path):
    remote.routes["/wfs"] = lambda h, q: (
        h.reply(200, CAPABILITIES.format(formats=JSON_AND_GML, paging="TRUE").encode(), "text/xml")
        if q.get("request") == "GetCapabilities"
        else geojson(h, {"type": "FeatureCollection", "features": features(0, 2), "numberMatched": 9}))
    fails("wfs", f"{remote.url}/wfs?typeName=ninhkieu:thua_dat", tmp_path,
          match="(GetFeature page 2): sent the same page again: it ignores startIndex", limits=RemoteLimits(page_size=2))


def test_a_server_that_echoes_the_secret_back_does_not_get_it_shown(remote, tmp_path):
    """The last guard: secrets of the URL are scrubbed from whatever the server's error says."""
    remote.routes["/echo"] = lambda h, q: h.reply(
        400, json.dumps({"description": f"bad key {q.get('key')} for user canbo:{PASSWORD}"}).encode(),
        "application/json")
    message = fails("file", f"http://canbo:{PASSWORD}@127.0.0.1:{remote.port}/echo?key={TOKEN}", tmp_path,
                    match="answered HTTP 400 Bad Request (bad key *** for user canbo:***)")
    assert message.startswith(f"{remote.url}/echo?key=***:")


def test_a_compressed_answer_is_counted_as_it_unpacks(remote, tmp_path):
    """A small gzip body that unpacks past the cap (a compression bomb) stops at the cap."""
    import gzip
    document = {"type": "FeatureCollection", "features": features(0, 2), "padding": " " * 500_000}
    packed = gzip.compress(json.dumps(document).encode())
    assert len(packed) < 8192
    remote.routes["/bomb.geojson"] = lambda h, q: h.reply(200, packed, "application/geo+json",
                                                         {"Content-Encoding": "gzip"})
    fails("file", f"{remote.url}/bomb.geojson", tmp_path, match="is larger than the limit of 8 KiB",
          limits=RemoteLimits(max_bytes=8192))
    assert download("file", f"{remote.url}/bomb.geojson", tmp_path / "ok").path.stat().st_size > 500_000


# --- WFS answering GML only (read by layers.sources.remote.gml, not by GDAL's GML driver) ---------------------------

GML_ONLY = "<ows:Value>application/gml+xml; version=3.2</ows:Value><ows:Value>text/xml; subtype=gml/3.1.1</ows:Value>"


def gml_collection(members: str, matched: int | str = 5, dtd: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{dtd}'
            '<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:gml="http://www.opengis.net/gml/3.2"'
            ' xmlns:ninhkieu="http://ninhkieu.cantho.gov.vn" xmlns:xlink="http://www.w3.org/1999/xlink"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            f' numberMatched="{matched}" numberReturned="2">{members}</wfs:FeatureCollection>').encode()


def gml_member(i: int, geometry: str | None = None) -> str:
    x, y = 587000 + i * 10, 1108000 + i * 10
    geometry = geometry or (f'<gml:Polygon gml:id="p{i}" srsName="EPSG:5897"><gml:exterior><gml:LinearRing><gml:posList>'
                            f'{x} {y} {x + 5} {y} {x + 5} {y + 5} {x} {y}</gml:posList></gml:LinearRing></gml:exterior>'
                            '</gml:Polygon>')
    return (f'<wfs:member><ninhkieu:thua_dat gml:id="thua_dat.{i + 1}">'
            f'<gml:boundedBy><gml:Envelope srsName="EPSG:5897"><gml:lowerCorner>{x} {y}</gml:lowerCorner>'
            f'<gml:upperCorner>{x + 5} {y + 5}</gml:upperCorner></gml:Envelope></gml:boundedBy>'
            f'<ninhkieu:ma_thua>NK-{i + 1:03d}</ninhkieu:ma_thua><ninhkieu:ten>{NAMES[i % 5]}</ninhkieu:ten>'
            f'<ninhkieu:chu_so_huu xsi:nil="true"/>'
            f'<ninhkieu:hinh>{geometry}</ninhkieu:hinh></ninhkieu:thua_dat></wfs:member>')


def serve_gml_wfs(remote, page):
    def wfs(handler, query):
        if query.get("request") == "GetCapabilities":
            return handler.reply(200, CAPABILITIES.format(formats=GML_ONLY, paging="TRUE").encode(), "text/xml")
        handler.reply(200, page(int(query["startIndex"]), int(query["count"])), "application/gml+xml; version=3.2")
    remote.routes["/wfs"] = wfs


def test_wfs_gml_only(remote, tmp_path, committed_db):
    serve_gml_wfs(remote, lambda start, count: gml_collection(
        "".join(gml_member(i) for i in range(start, min(start + count, 5)))))
    result = download("wfs", f"{remote.url}/wfs?typeName=ninhkieu:thua_dat", tmp_path / "work",
                      limits=RemoteLimits(page_size=2))
    got = read_features(result)
    assert result.features == 5 and result.srid == 5897
    pages = [q for _, q, _ in remote.requests if q.get("request") == "GetFeature"]
    assert [q["startIndex"] for q in pages] == ["0", "2", "4"]
    assert pages[0]["outputFormat"] == "application/gml+xml; version=3.2"
    assert got[0]["id"] == "thua_dat.1"
    assert got[0]["properties"] == {"ma_thua": "NK-001", "ten": "Phường An Hòa", "chu_so_huu": None}
    assert [f["properties"]["ten"] for f in got] == NAMES
    assert got[4]["geometry"] == {"type": "Polygon", "coordinates": [
        [[587040.0, 1108040.0], [587045.0, 1108040.0], [587045.0, 1108045.0], [587040.0, 1108040.0]]]}

    from layers.loading.prepare import prepare_source  # the written file is what the loader reads
    prepared = prepare_source(result.path, tmp_path / "prep", layer=None, srid=result.srid, encoding=None)
    assert prepared.layer.feature_count == 5


def test_wfs_gml_lat_first_urn_is_turned_to_lon_lat(remote, tmp_path):
    point = '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>10.03 105.77</gml:pos></gml:Point>'
    serve_gml_wfs(remote, lambda start, count: gml_collection(gml_member(0, point), matched=1))
    got = read_features(download("wfs", f"{remote.url}/wfs?typeName=ninhkieu:thua_dat", tmp_path))
    assert got[0]["geometry"] == {"type": "Point", "coordinates": [105.77, 10.03]}


def test_wfs_gml_reads_nothing_a_document_points_at(remote, tmp_path):
    """A linked geometry is refused, not fetched; a DTD (entities, external files) is refused before parsing."""
    linked = f'<gml:Point xlink:href="{remote.url}/steal"/>'
    serve_gml_wfs(remote, lambda start, count: gml_collection(gml_member(0, linked), matched=1))
    fails("wfs", f"{remote.url}/wfs?typeName=ninhkieu:thua_dat", tmp_path,
          match="(GetFeature page 1): feature thua_dat.1: geometry 'hinh' is a link (xlink:href); linked "
                "geometries are not fetched")
    external = f'<!DOCTYPE wfs:FeatureCollection [<!ENTITY x SYSTEM "{remote.url}/steal">]>'
    serve_gml_wfs(remote, lambda start, count: gml_collection(gml_member(0).replace("NK-001", "&x;"), dtd=external))
    fails("wfs", f"{remote.url}/wfs?typeName=ninhkieu:thua_dat", tmp_path,
          match="(GetFeature page 1): answered XML with a DTD or entities, which are refused")
    assert not [path for path, _, _ in remote.requests if path == "/steal"]


def test_wfs_gml_garbage(remote, tmp_path):
    serve_gml_wfs(remote, lambda start, count: gml_collection(
        gml_member(0, '<gml:Banana>1 2</gml:Banana>'), matched=1))
    fails("wfs", f"{remote.url}/wfs?typeName=ninhkieu:thua_dat", tmp_path,
          match="feature thua_dat.1: geometry 'hinh' is not GML that OGR can read")
    serve_gml_wfs(remote, lambda start, count: gml_collection(gml_member(0))[:300])
    fails("wfs", f"{remote.url}/wfs?typeName=ninhkieu:thua_dat", tmp_path,
          match="(GetFeature page 1): answered XML that cannot be read (")
