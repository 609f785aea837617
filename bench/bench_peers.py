#!/usr/bin/env python
"""Side-by-side OGC API – Features benchmark: the Cần Thơ SDI (our PostGIS provider behind our Django views)
against tipg and stock pygeoapi 0.24 (its SQLAlchemy PostgreSQL provider), all three on the same PostGIS
table of 1,000,000 synthetic parcels (EPSG:5897), 2 workers each, run one server at a time.

    .venv/bin/python bench/bench_peers.py                      # everything (~30-45 min on 2 cores)
    .venv/bin/python bench/bench_peers.py --only ours --duration 10 --no-walk

Steps: make/check bench/out/parcels_1000000.gpkg; load it once with `manage.py import_dataset` (slug
bench-parcels-1m, skipped when already published with 1,000,000 features; --reload forces it and times it);
install the peers into bench/out/peers-venv (never into .venv); then for each server: start it, check that
each request type returns a valid FeatureCollection, run `wrk -t2 -c8` for --duration seconds after a
--warmup per request type, walk the whole table by `next` links (limit=10000) sampling each worker's RSS,
stop it. Results are merged into bench/out/peers-results.json (so --only re-runs one server) and printed
as markdown (also written to bench/out/peers-results.md). Only loopback addresses are used.
"""
import argparse
import json
import os
import platform
import random
import shutil
import signal
import string
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
PEERS = REPO / "bench" / "peers"
PEERS_VENV = OUT / "peers-venv"
LOGS = OUT / "peers-logs"
RESULTS_JSON = OUT / "peers-results.json"
RESULTS_MD = OUT / "peers-results.md"
GPKG = OUT / "parcels_1000000.gpkg"
SLUG = "bench-parcels-1m"
SCHEMA, TABLE = "sdi_data", "bench_parcels_1m"
COUNT = 1_000_000
# The project-local cluster of deploy/postgis.sh (SDI_PG_PORT, as `make`), unless DATABASE_URL names another.
DATABASE_URL = os.environ.get("DATABASE_URL") or \
    f"postgis://sdi:sdi@127.0.0.1:{os.environ.get('SDI_PG_PORT', '54329')}/sdi"
PEER_REQUIREMENTS = PEERS / "requirements.txt"  # pinned: tipg on uvicorn[standard] (uvloop + httptools), ...
EPSG5897 = "http://www.opengis.net/def/crs/EPSG/0/5897"
WORKERS = 2

SERVERS = {
    "ours": {"port": 8101, "items": f"/ogcapi/collections/{SLUG}/items", "label": "Cần Thơ SDI"},
    "tipg": {"port": 8102, "items": f"/collections/{SCHEMA}.{TABLE}/items", "label": "tipg"},
    "pygeoapi": {"port": 8103, "items": f"/collections/{TABLE}/items", "label": "stock pygeoapi"},
}

# Request types: (key, title). Every server gets the same random boxes / offsets / ids (fixed seeds).
KINDS = [
    ("page1", "a. first page `limit=1000`"),
    ("deep_offset", "a. random deep page `limit=1000&offset=<0..999000>`"),
    ("deep_cursor", "a. random deep page, keyset `limit=1000&cursor=<id>` (ours only: what our next links use)"),
    ("bbox", "b. random ~1 km² `bbox` (CRS84) `&limit=100`"),
    ("prop_filter", "c. property equality `ma_loai_dat=ODT&limit=100`"),
    ("cql_filter", "c. CQL2 text `filter=ma_loai_dat='ODT'&limit=100`"),
    ("item", "d. `items/{id}`, random ids"),
    ("crs", "e. `crs=EPSG:5897&limit=1000` (storage CRS, no transformation)"),
]
PATHS_PER_KIND = 2000

_running: list[subprocess.Popen] = []


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- processes ------------------------------------------------------------------------------------------

def stop_process(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """Stop a server we started (its own process group: the master and its workers)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
    if proc in _running:
        _running.remove(proc)


def stop_all(*_args) -> None:
    for proc in list(_running):
        stop_process(proc, grace=5)


class Interrupted(Exception):
    """A signal (Ctrl-C, kill) asked the benchmark to stop."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def on_signal(signum, _frame):
    stop_all()
    raise Interrupted(signum)


def run(command, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, **kwargs)


def ours_env(**extra) -> dict:
    """Environment for our processes: the benchmark database, and the checkout's signing key that `make`
    generates (.sdi/secret_key) unless SDI_SECRET_KEY is set (the settings refuse to start without one)."""
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, **extra}
    key_file = REPO / ".sdi" / "secret_key"
    if not env.get("SDI_SECRET_KEY") and key_file.exists():
        env["SDI_SECRET_KEY"] = key_file.read_text().strip()
    return env


def worker_pids(master: int) -> list[int]:
    """Direct children of a server's master process (gunicorn / uvicorn workers), not helper processes."""
    children = []
    for task in Path(f"/proc/{master}/task").glob("*"):
        try:
            children += [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            pass
    workers = []
    for pid in sorted(set(children)):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "resource_tracker" not in cmdline:
            workers.append(pid)
    return workers


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_busy_fraction(seconds: float = 2.0) -> float:
    """Share of the machine's CPU time that was busy over a short window (other sessions' load)."""
    def sample():
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields), idle
    total1, idle1 = sample()
    time.sleep(seconds)
    total2, idle2 = sample()
    return 1 - (idle2 - idle1) / max(1, total2 - total1)


def _proc_cpu() -> dict[int, tuple[str, int, float, int]]:
    """pid -> (command name, process group, CPU seconds used so far, parent pid) for every process."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        comm, rest = raw[raw.index("(") + 1:raw.rindex(")")], raw[raw.rindex(")") + 2:].split()
        out[int(entry.name)] = (comm, int(rest[2]), (int(rest[11]) + int(rest[12])) / ticks, int(rest[1]))
    return out


def _foreign_backends() -> set[int]:
    """PostgreSQL backends that serve other databases than the benchmark's (other sessions' test runs)."""
    try:
        return {row[0] for row in sql("SELECT pid FROM pg_stat_activity WHERE datname IS DISTINCT FROM %s "
                                      "AND backend_type = 'client backend'", db_params()["dbname"])}
    except Exception:
        return set()


_postmaster: list[int] = []


def _benchmark_cluster(snapshot) -> set[int]:
    """The benchmark database's PostgreSQL processes: its postmaster and all its children (other sessions'
    clusters on this machine are other processes)."""
    if not _postmaster:
        import psycopg
        p = db_params()
        with psycopg.connect(host=p["host"], port=p["port"], dbname=p["dbname"], user=p["user"],
                             password=p["password"]) as conn:  # the parent of a live backend
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            _postmaster.append(int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1]))
    return {_postmaster[0]} | {pid for pid, entry in snapshot.items() if entry[3] == _postmaster[0]}


class ForeignLoad:
    """CPU used while a measurement runs: by processes that are not part of it (not the server under test, not
    wrk, not the benchmark cluster's PostgreSQL serving the benchmark database, not this script), as a share of
    the machine's cores - other sessions' test suites and clusters on the same machine show up here -, and
    by the server under test and by the benchmark database, in seconds."""

    def __init__(self, server_pgid: int):
        self.server_pgid = server_pgid

    def _split(self, snapshot, backends) -> tuple[dict[int, float], float, float]:
        mine, cluster = {os.getpid()}, _benchmark_cluster(snapshot)
        foreign, server, database = {}, 0.0, 0.0
        for pid, (comm, pgid, cpu, _) in snapshot.items():
            if pgid == self.server_pgid and self.server_pgid:
                server += cpu
            elif pid in cluster and pid not in backends:
                database += cpu
            elif pid not in mine and comm not in ("wrk", "pgbench"):  # the load generators are part of it
                foreign[pid] = cpu
        return foreign, server, database

    def __enter__(self):
        self.backends = _foreign_backends()
        self.start, self.server_start, self.database_start = self._split(_proc_cpu(), self.backends)
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.backends |= _foreign_backends()
        end, server, database = self._split(_proc_cpu(), self.backends)
        used = sum(cpu - self.start.get(pid, 0.0) for pid, cpu in end.items())
        self.share = max(0.0, used / max(0.001, time.monotonic() - self.t0) / (os.cpu_count() or 1))
        self.server_cpu = max(0.0, server - self.server_start)  # workers that exit meanwhile are missed
        self.database_cpu = max(0.0, database - self.database_start)
        return False


def wait_for_quiet(server_pgid: int, limit: float = 0.10, patience: float = 180) -> float:
    """Wait (at most `patience` s) until other processes use less than `limit` of the machine for 5 s."""
    deadline = time.monotonic() + patience
    while True:
        with ForeignLoad(server_pgid) as load:
            time.sleep(5)
        if load.share < limit or time.monotonic() > deadline:
            return load.share


def port_free(port: int) -> bool:
    import socket
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


# -- database, dataset ----------------------------------------------------------------------------------

def db_params() -> dict:
    parts = urllib.parse.urlsplit(DATABASE_URL)
    return {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432, "dbname": parts.path.lstrip("/"),
            "user": urllib.parse.unquote(parts.username or ""), "password": urllib.parse.unquote(parts.password or "")}


def sql(query: str, *params):
    import psycopg
    p = db_params()
    with psycopg.connect(host=p["host"], port=p["port"], dbname=p["dbname"], user=p["user"],
                         password=p["password"], autocommit=True) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def ensure_gpkg() -> None:
    ok = False
    if GPKG.exists():
        probe = subprocess.run(["ogrinfo", "-so", str(GPKG), "thua_dat"], capture_output=True, text=True, timeout=120)
        ok = probe.returncode == 0 and f"Feature Count: {COUNT}" in probe.stdout
    if ok:
        log(f"{GPKG.relative_to(REPO)}: {COUNT} features, ok")
        return
    log(f"making {GPKG.relative_to(REPO)} (missing or not {COUNT} features)")
    GPKG.unlink(missing_ok=True)
    run([sys.executable, "bench/make_parcels.py", "--count", str(COUNT)], cwd=REPO)


def prepare_table() -> None:
    """Same starting point for every server: table vacuumed and analysed (no autovacuum during a run), its
    heap and primary-key index read once so that the first server does not pay for a cold cache alone."""
    table = f'"{SCHEMA}"."{TABLE}"'
    sql(f"VACUUM (ANALYZE) {table}")
    sql(f"SELECT count(*), sum(ST_NPoints(geom)), sum(length(dia_chi)) FROM {table}")
    sql(f"SELECT count(*) FROM (SELECT fid FROM {table} ORDER BY fid) ordered")


def ensure_dataset(results: dict, reload: bool) -> None:
    rows = sql("SELECT feature_count, table_schema, table_name FROM layers_dataset WHERE slug = %s", SLUG)
    loaded = bool(rows) and rows[0][0] == COUNT and (rows[0][1], rows[0][2]) == (SCHEMA, TABLE)
    if loaded:
        (actual,) = sql(f'SELECT count(*) FROM "{SCHEMA}"."{TABLE}"')[0]
        loaded = actual == COUNT
    if loaded and not reload:
        log(f"dataset {SLUG} already published with {COUNT} features ({SCHEMA}.{TABLE}), not reloaded")
        return
    ensure_gpkg()
    log(f"loading {GPKG.name} with manage.py import_dataset (slug {SLUG}) ...")
    start = time.perf_counter()
    run([sys.executable, "manage.py", "import_dataset", str(GPKG.relative_to(REPO)), "--slug", SLUG,
         "--title", "Thửa đất giả lập 1M", "--sector", "land", "--replace"], cwd=REPO, env=ours_env())
    seconds = time.perf_counter() - start
    results["load"] = {"seconds": round(seconds, 1), "file_mb": round(GPKG.stat().st_size / 1e6),
                       "when": time.strftime("%Y-%m-%d %H:%M")}
    log(f"loaded in {seconds:.1f} s")


# -- peers venv, configs --------------------------------------------------------------------------------

def python312() -> str:
    candidates = [os.environ.get("PEERS_PYTHON", ""), "/root/.pyenv/versions/3.12.1/bin/python3"]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(str(p) for p in pyenv_root.glob("versions/3.1[2-9]*/bin/python3"))
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            version = subprocess.run([candidate, "-c", "import sys; print(sys.version_info >= (3, 12))"],
                                     capture_output=True, text=True)
            if version.stdout.strip() == "True":
                return candidate
    raise SystemExit("no Python >= 3.12 found for the peers venv (set PEERS_PYTHON)")


def pinned_requirements() -> dict[str, str]:
    """name -> version pinned in bench/peers/requirements.txt."""
    pins = {}
    for line in PEER_REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.split("[", 1)[0].strip()] = version.strip()
    return pins


def ensure_peers() -> dict:
    """The peers venv with exactly the pinned versions (installed or corrected with pip when they differ)."""
    python = PEERS_VENV / "bin" / "python"
    pins = pinned_requirements()
    query = [str(python), "-c", "import importlib.metadata as m, json, sys\n"
             "def v(n):\n try: return m.version(n)\n except m.PackageNotFoundError: return None\n"
             "print(json.dumps({n: v(n) for n in sys.argv[1:]}))", *pins]
    if not python.exists():
        interpreter = python312()
        log(f"creating {PEERS_VENV.relative_to(REPO)} with {interpreter}")
        run([interpreter, "-m", "venv", str(PEERS_VENV)])
    installed = json.loads(subprocess.run(query, capture_output=True, text=True, check=True).stdout)
    wrong = {name: have for name, have in installed.items() if have != pins[name]}
    if wrong:
        log(f"installing peers from {PEER_REQUIREMENTS.relative_to(REPO)} (not as pinned: {wrong})")
        run([str(python), "-m", "pip", "install", "-q", "-r", str(PEER_REQUIREMENTS)])
        installed = json.loads(subprocess.run(query, capture_output=True, text=True, check=True).stdout)
    run([str(python), "-c", "import tipg.main, uvicorn, uvloop, httptools, flask, pygeoapi.provider.sql, "
         "geoalchemy2, psycopg2, gunicorn"], cwd=OUT)
    return installed


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        log("installing wrk (apt-get install -y wrk)")
        if subprocess.run(["apt-get", "install", "-y", "wrk"], stdout=subprocess.DEVNULL).returncode != 0:
            run(["apt-get", "update"], stdout=subprocess.DEVNULL)
            run(["apt-get", "install", "-y", "wrk"], stdout=subprocess.DEVNULL)
    return subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0].strip()


def pygeoapi_config() -> dict:
    directory = OUT / "peers-pygeoapi"
    directory.mkdir(parents=True, exist_ok=True)
    template = string.Template((PEERS / "pygeoapi-config.template.yml").read_text(encoding="utf-8"))
    p = db_params()
    config = directory / "config.yml"
    config.write_text(template.substitute(port=SERVERS["pygeoapi"]["port"], host=p["host"], db_port=p["port"],
                                          dbname=p["dbname"], user=p["user"], password=p["password"],
                                          schema=SCHEMA, table=TABLE), encoding="utf-8")
    openapi = directory / "openapi.yml"
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    run([str(PEERS_VENV / "bin" / "pygeoapi"), "openapi", "generate", str(config), "--output-file", str(openapi)],
        env=env, cwd=directory, stdout=subprocess.DEVNULL)
    return env


def server_command(name: str) -> tuple[list[str], dict, Path]:
    port = SERVERS[name]["port"]
    bin_ = PEERS_VENV / "bin"
    p = db_params()
    dsn = f"postgresql://{p['user']}:{p['password']}@{p['host']}:{p['port']}/{p['dbname']}"
    if name == "ours":
        env = ours_env(SDI_WORKERS=str(WORKERS), SDI_IMPORT_WORKER="0", SDI_BIND=f"127.0.0.1:{port}",
                       SDI_LOG_LEVEL="warning")
        # deploy/gunicorn.conf.py without the access log, as the peers run
        return [str(REPO / ".venv" / "bin" / "gunicorn"), "-c", str(PEERS / "gunicorn-ours.conf.py")], env, REPO
    if name == "tipg":
        env = {**os.environ, "DATABASE_URL": dsn, "TIPG_DB_SCHEMAS": json.dumps([SCHEMA]),
               "TIPG_DB_TABLES": json.dumps([f"{SCHEMA}.{TABLE}"]),
               f"TIPG_TABLE_CONFIG__{SCHEMA}_{TABLE}__PK": "fid",
               f"TIPG_TABLE_CONFIG__{SCHEMA}_{TABLE}__GEOMCOL": "geom",
               "TIPG_MAX_FEATURES_PER_QUERY": "10000"}
        return [str(bin_ / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(WORKERS), "--loop", "uvloop", "--http", "httptools",  # uvicorn[standard]
                "--no-access-log", "--log-level", "warning"], env, OUT
    env = pygeoapi_config()
    return [str(bin_ / "gunicorn"), "pygeoapi.flask_app:APP", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
            "--no-control-socket", "--timeout", "300", "--log-level", "warning"], env, OUT / "peers-pygeoapi"


def start_server(name: str) -> subprocess.Popen:
    port = SERVERS[name]["port"]
    if not port_free(port):
        raise SystemExit(f"port {port} is already in use: stop whatever listens there first")
    command, env, cwd = server_command(name)
    LOGS.mkdir(parents=True, exist_ok=True)
    logfile = open(LOGS / f"{name}.log", "w")
    log(f"starting {name}: {' '.join(command)}")
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=logfile, stderr=subprocess.STDOUT,
                            start_new_session=True)
    _running.append(proc)
    url = base_url(name) + SERVERS[name]["items"] + "?limit=1"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with {proc.returncode}; see {LOGS / (name + '.log')}")
        try:
            status, _, body = http_get(url, timeout=30)
            if status == 200 and json.loads(body).get("type") == "FeatureCollection":
                log(f"{name} answers {url} (workers {worker_pids(proc.pid)})")
                return proc
        except (OSError, ValueError):
            pass
        time.sleep(1)
    raise SystemExit(f"{name} did not answer {url} within 180 s; see {LOGS / (name + '.log')}")


# -- requests -------------------------------------------------------------------------------------------

def base_url(name: str) -> str:
    return f"http://127.0.0.1:{SERVERS[name]['port']}"


def http_get(url: str, timeout: float = 60) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def random_box(rng: random.Random) -> tuple[float, float, float, float]:
    lon, lat = rng.uniform(105.70, 105.80), rng.uniform(10.00, 10.08)
    half = 0.0045
    return (round(lon - half, 5), round(lat - half, 5), round(lon + half, 5), round(lat + half, 5))


def query_for(kind: str, rng: random.Random) -> tuple[str, dict]:
    """(path suffix, expectations) for one request of a kind; the same sequence for every server."""
    if kind == "page1":
        return "?limit=1000", {"count": 1000}
    if kind == "deep_offset":
        return f"?limit=1000&offset={rng.randint(0, 999_000)}", {"count": 1000}
    if kind == "deep_cursor":
        return f"?limit=1000&cursor={rng.randint(0, 999_000)}", {"count": 1000}
    if kind == "bbox":
        box = random_box(rng)
        return "?" + urllib.parse.urlencode({"bbox": ",".join(map(str, box)), "limit": 100}), {"max": 100}
    if kind == "prop_filter":
        return "?ma_loai_dat=ODT&limit=100", {"count": 100, "odt": True}
    if kind == "cql_filter":
        return "?" + urllib.parse.urlencode({"filter": "ma_loai_dat='ODT'", "limit": 100}), {"count": 100, "odt": True}
    if kind == "item":
        fid = rng.randint(1, COUNT)
        return f"/{fid}", {"feature": fid}
    if kind == "crs":
        return "?" + urllib.parse.urlencode({"crs": EPSG5897, "limit": 1000}), {"count": 1000, "projected": True}
    raise ValueError(kind)


def request_paths(name: str, kind: str) -> list[tuple[str, dict]]:
    rng = random.Random(f"{kind}-482")
    return [(SERVERS[name]["items"] + suffix, expect)
            for suffix, expect in (query_for(kind, rng) for _ in range(PATHS_PER_KIND))]


def check_response(status: int, headers: dict, body: bytes, expect: dict) -> tuple[bool, str, dict]:
    """Is this a valid answer for the request? Returns (ok, note, facts)."""
    if status != 200:
        return False, f"HTTP {status}: {body[:160].decode(errors='replace')}", {}
    try:
        doc = json.loads(body)
    except ValueError:
        return False, "not JSON", {}
    if "feature" in expect:
        ok = doc.get("type") == "Feature" and str(doc.get("id")) == str(expect["feature"])
        return ok, "" if ok else f"not Feature {expect['feature']}: {str(doc)[:120]}", {}
    if doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        return False, f"not a FeatureCollection: {str(doc)[:160]}", {}
    features = doc["features"]
    facts = {"returned": len(features), "numberMatched": doc.get("numberMatched"),
             "numberReturned": doc.get("numberReturned"), "ids": [f.get("id") for f in features],
             "content_crs": headers.get("Content-Crs") or headers.get("content-crs")}
    if "count" in expect and len(features) != expect["count"]:
        return False, f"{len(features)} features, expected {expect['count']}", facts
    if "max" in expect and not 0 < len(features) <= expect["max"]:
        return False, f"{len(features)} features, expected 1..{expect['max']}", facts
    if expect.get("odt") and any(f["properties"].get("ma_loai_dat") != "ODT" for f in features):
        return False, "features with ma_loai_dat != ODT (filter ignored?)", facts
    if expect.get("projected"):
        first = features[0]["geometry"]["coordinates"][0][0]
        if abs(first[0]) < 1000:
            return False, f"not supported (coordinates still lon/lat: {first})", facts
    return True, "", facts


def verify(name: str, kind: str) -> dict:
    """Send the first few requests of a kind one by one; a kind that fails is not load-tested."""
    outcome = {"ok": True, "note": "", "single_ms": []}
    for path, expect in request_paths(name, kind)[:4]:
        start = time.perf_counter()
        try:
            status, headers, body = http_get(base_url(name) + path, timeout=120)
        except OSError as exc:
            return {"ok": False, "note": f"request failed: {exc}", "single_ms": []}
        outcome["single_ms"].append(round((time.perf_counter() - start) * 1000, 1))
        ok, note, facts = check_response(status, headers, body, expect)
        if not ok:
            return {"ok": False, "note": note, "single_ms": outcome["single_ms"], "path": path}
        if facts:
            outcome["numberMatched"] = facts["numberMatched"]
            outcome["content_crs"] = facts["content_crs"]
    return outcome


def run_wrk(name: str, kind: str, duration: int, warmup: int, concurrency: int, threads: int,
            server_pgid: int = 0) -> dict:
    paths_file = OUT / "peers-paths" / f"{name}-{kind}.txt"
    paths_file.parent.mkdir(parents=True, exist_ok=True)
    paths_file.write_text("\n".join(path for path, _ in request_paths(name, kind)) + "\n")
    command = ["wrk", f"-t{threads}", f"-c{concurrency}", "--timeout", "60s", "-s", str(PEERS / "paths.lua"),
               base_url(name), "--", str(paths_file)]
    if warmup:
        subprocess.run(command[:1] + [f"-d{warmup}s"] + command[1:], capture_output=True, text=True,
                       timeout=warmup + 120)
    load = os.getloadavg()[0]
    with ForeignLoad(server_pgid) as foreign:
        done = subprocess.run(command[:1] + [f"-d{duration}s"] + command[1:], capture_output=True, text=True,
                              timeout=duration + 180)
    line = next((l for l in done.stdout.splitlines() if l.startswith("WRK-RESULT")), None)
    if line is None:
        return {"error": f"wrk failed: {done.stdout[-300:]} {done.stderr[-300:]}"}
    values = dict(item.split("=") for item in line.split()[1:])
    v = {k: float(x) for k, x in values.items()}
    seconds = v["duration_us"] / 1e6
    errors = {k: int(v[k]) for k in ("connect", "read", "write", "status", "timeout") if v[k]}
    return {"req_s": round(v["requests"] / seconds, 2), "requests": int(v["requests"]),
            "p50_ms": round(v["p50_us"] / 1000, 1), "p90_ms": round(v["p90_us"] / 1000, 1),
            "p95_ms": round(v["p95_us"] / 1000, 1), "p99_ms": round(v["p99_us"] / 1000, 1),
            "max_ms": round(v["max_us"] / 1000, 1), "mb_s": round(v["bytes"] / seconds / 1e6, 1),
            "errors": errors, "loadavg_before": round(load, 2), "seconds": round(seconds, 1),
            "foreign_cpu": round(foreign.share, 3),
            # CPU per request of the server's processes and of the benchmark database: less sensitive than req/s
            # to other sessions' load on the same cores
            "server_cpu_ms": round(1000 * foreign.server_cpu / max(1, v["requests"]), 3),
            "database_cpu_ms": round(1000 * foreign.database_cpu / max(1, v["requests"]), 3)}


def bbox_ids(name: str, boxes: int = 5) -> list[dict]:
    """ids of the first boxes, as returned (limit=100) and as complete sets (limit=10000)."""
    rng = random.Random("bbox-482")
    out = []
    for _ in range(boxes):
        box = ",".join(map(str, random_box(rng)))
        entry = {"bbox": box}
        for key, extra in (("page", {"limit": 100}), ("all", {"limit": 10000}),
                           ("sorted", {"limit": 100, "sortby": "fid"})):
            url = base_url(name) + SERVERS[name]["items"] + "?" + urllib.parse.urlencode({"bbox": box, **extra})
            status, _, body = http_get(url, timeout=120)
            entry[key] = [int(f["id"]) for f in json.loads(body)["features"]] if status == 200 else f"HTTP {status}"
        out.append(entry)
    return out


def bbox_truth(results: dict) -> None:
    """Which parcels really intersect each test box (lon/lat box, geometries taken to WGS 84 through the pinned
    EPSG:6960 VN-2000 transformation, as our output does), and what each server missed or added."""
    runs = results.get("runs", {})
    boxes = next((runs[n]["bbox_ids"] for n in SERVERS if runs.get(n, {}).get("bbox_ids")), None)
    if not boxes:
        return
    truth = []
    for entry in boxes:
        box = [float(v) for v in entry["bbox"].split(",")]
        envelope = "ST_MakeEnvelope(%s, %s, %s, %s, 4326)"
        rows = sql(f'SELECT fid FROM "{SCHEMA}"."{TABLE}" t WHERE t.geom && ST_Expand(ST_SetSRID(ST_Transform('
                   f"{envelope}, 905897), 5897), 20) AND ST_Intersects(ST_Transform(ST_SetSRID(t.geom, 905897), 4326), "
                   f"{envelope})", *box, *box)
        truth.append({"bbox": entry["bbox"], "ids": sorted(r[0] for r in rows)})
    summary = {}
    for name in SERVERS:
        got = runs.get(name, {}).get("bbox_ids")
        if not got:
            continue
        missing = extra = 0
        for expected, answer in zip(truth, got):
            if isinstance(answer["all"], list):
                missing += len(set(expected["ids"]) - set(answer["all"]))
                extra += len(set(answer["all"]) - set(expected["ids"]))
        summary[name] = {"missing": missing, "extra": extra}
    results["bbox_truth"] = {"features": sum(len(t["ids"]) for t in truth), "servers": summary}


# -- whole-table walk -----------------------------------------------------------------------------------

def walk(name: str, proc: subprocess.Popen, cap_seconds: float) -> dict:
    """Follow `next` links from limit=10000 to the end (or the cap), timing pages and sampling worker RSS."""
    url = base_url(name) + SERVERS[name]["items"] + "?limit=10000&skipGeometry=false"
    workers = worker_pids(proc.pid)
    rss_start = {pid: rss_mb(pid) for pid in workers}
    rss_max = dict(rss_start)
    pages, seen, total, failed = [], set(), 0, None
    started = time.monotonic()
    while url:
        remaining = cap_seconds - (time.monotonic() - started)
        if remaining <= 0:
            failed = f"stopped at the {cap_seconds:.0f} s cap after page {len(pages)}"
            break
        t0 = time.perf_counter()
        try:
            status, _, body = http_get(url, timeout=min(300.0, remaining))
        except OSError as exc:
            failed = f"page {len(pages) + 1} failed after {time.perf_counter() - t0:.0f} s: {exc}"
            break
        seconds = time.perf_counter() - t0
        if status != 200:
            failed = f"page {len(pages) + 1}: HTTP {status} {body[:120]!r}"
            break
        doc = json.loads(body)
        features = doc["features"]
        total += len(features)
        seen.update(f["id"] for f in features)
        sample = {pid: rss_mb(pid) for pid in workers}
        for pid, value in sample.items():
            if value is not None:
                rss_max[pid] = max(rss_max.get(pid) or 0, value)
        pages.append({"seconds": round(seconds, 3), "returned": len(features), "rss": sample})
        if len(pages) % 10 == 0:
            log(f"  {name} walk: page {len(pages)}, {total} features, {seconds:.2f} s/page, "
                f"RSS {', '.join(f'{v:.0f}' for v in sample.values() if v)} MB")
        url = next((link["href"] for link in doc.get("links", []) if link.get("rel") == "next"), None)
        if not features:
            break
    rss_end = {pid: rss_mb(pid) for pid in workers}
    per_page = [p["seconds"] for p in pages if p["returned"]]
    return {
        "pages": len(pages), "features": total, "distinct_ids": len(seen), "complete": total == COUNT == len(seen),
        "failed": failed, "seconds": round(time.monotonic() - started, 1),
        "first5_s": round(sum(per_page[:5]) / max(1, len(per_page[:5])), 3),
        "last5_s": round(sum(per_page[-5:]) / max(1, len(per_page[-5:])), 3),
        "page_seconds": per_page,
        "workers": [{"pid": pid, "start_mb": round(rss_start[pid] or 0, 1), "max_mb": round(rss_max[pid] or 0, 1),
                     "end_mb": round(rss_end[pid] or 0, 1),
                     "after_page1_mb": round((pages[0]["rss"].get(pid) or 0) if pages else 0, 1),
                     "series_mb": [round(p["rss"].get(pid) or 0, 1) for p in pages]}
                    for pid in workers],
    }


# -- profile of one request of ours ---------------------------------------------------------------------

PROFILE_CODE = r"""
import cProfile, io, os, pstats, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdi.settings")
import django
django.setup()
from django.test import Client
client = Client()
path, rounds = sys.argv[1], int(sys.argv[2])
for _ in range(3):
    assert client.get(path, HTTP_HOST="127.0.0.1:8101").status_code == 200
start = time.perf_counter()
for _ in range(rounds):
    client.get(path, HTTP_HOST="127.0.0.1:8101")
wall = (time.perf_counter() - start) / rounds
profile = cProfile.Profile()
profile.enable()
for _ in range(rounds):
    client.get(path, HTTP_HOST="127.0.0.1:8101")
profile.disable()
print(f"PROFILE-WALL-MS {wall * 1000:.1f}")
out = io.StringIO()
pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(14)
print(out.getvalue())
"""


def profile_ours(kinds: list[str], rounds: int = 20) -> dict:
    """cProfile of our view for one request of each kind (in-process, Django test client), and the time the
    same SQL takes in PostgreSQL alone, to see what dominates."""
    out = {}
    for kind in kinds:
        path = request_paths("ours", kind)[0][0]
        done = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c", PROFILE_CODE, path, str(rounds)],
                              cwd=REPO, capture_output=True, text=True, timeout=600,
                              env=ours_env(SDI_LOG_LEVEL="warning"))
        wall = next((l.split()[1] for l in done.stdout.splitlines() if l.startswith("PROFILE-WALL-MS")), None)
        out[kind] = {"path": path, "wall_ms": float(wall) if wall else None,
                     "top": [l for l in done.stdout.splitlines() if l.strip()][:40], "stderr": done.stderr[-400:]}
        log(f"profiled {kind}: {wall} ms per request in-process")
    return out


def sql_timings() -> dict:
    """What the database alone needs for the SQL shapes behind the request types (median of 5, ms, one
    connection with JIT off like our provider's, JSON fetched as text)."""
    import psycopg
    table = f'"{SCHEMA}"."{TABLE}"'
    feature = ("json_build_object('type','Feature','id',t.fid,'geometry',ST_AsGeoJSON({geom},{digits},0)::json,"
               "'properties',(SELECT row_to_json(p) FROM (SELECT t.so_to,t.so_thua,t.ma_loai_dat,t.dien_tich,t.loai_chu,"
               "t.ma_huyen,t.ten_huyen,t.dia_chi,t.ngay_cap) p))")
    # the same pinned VN-2000 -> WGS 84 transformation as layers.crs.transform_sql (EPSG:6960)
    transformed = "ST_Transform(ST_SetSRID(t.geom, 905897), 4326)"
    page = "SELECT json_agg({f})::text FROM (SELECT * FROM {table} t ORDER BY fid LIMIT 1000{offset}) t"
    queries = {
        "count(*) WHERE ma_loai_dat='ODT' (363,045 rows)": f"SELECT count(*) FROM {table} t WHERE ma_loai_dat = 'ODT'",
        "first 1000 rows as GeoJSON, storage CRS": page.format(f=feature.format(geom="t.geom", digits=3), table=table,
                                                               offset=""),
        "first 1000 rows as GeoJSON, ST_Transform to CRS84": page.format(
            f=feature.format(geom=transformed, digits=8), table=table, offset=""),
        "1000 rows at OFFSET 500000, SELECT * then JSON (our provider's shape)": page.format(
            f=feature.format(geom=transformed, digits=8), table=table, offset=" OFFSET 500000"),
        "1000 ids at OFFSET 500000 (index-only scan)": f"SELECT fid FROM {table} ORDER BY fid LIMIT 1000 OFFSET 500000",
        "1000 ids after fid > 500000 (keyset)": f"SELECT fid FROM {table} WHERE fid > 500000 ORDER BY fid LIMIT 1000",
    }
    p = db_params()
    out = {}
    with psycopg.connect(host=p["host"], port=p["port"], dbname=p["dbname"], user=p["user"], password=p["password"],
                         autocommit=True, options="-c jit=off -c max_parallel_workers_per_gather=0") as conn:
        for label, query in queries.items():
            times = []
            for _ in range(5):
                start = time.perf_counter()
                conn.execute(query).fetchall()
                times.append((time.perf_counter() - start) * 1000)
            out[label] = round(sorted(times)[2], 1)
    return out


# -- the PostgreSQL floor: our items/{id} statement alone, no web server ------------------------------

STATEMENT_CODE = r"""
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdi.settings")
import django
django.setup()
from django.test import RequestFactory
from sdi.ogcapi import item_fast_path, views
request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:8101")
print(item_fast_path.take_collection(views.base_url(request), sys.argv[1]).statement)
"""


def pgbench_floor(duration: int, concurrency: int, threads: int) -> dict:
    """Requests/s of PostgreSQL alone running the statement our items/{id} answer runs (the feature as GeoJSON
    and the registry version, random ids), from pgbench with as many clients as wrk has connections: what no
    server on this database can beat."""
    done = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c", STATEMENT_CODE, SLUG], cwd=REPO,
                          capture_output=True, text=True, env=ours_env(SDI_LOG_LEVEL="warning"))
    if done.returncode != 0:
        return {"error": done.stderr[-400:]}
    statement = done.stdout.strip().replace("%s", ":id")
    script = OUT / "peers-paths" / "floor-item.sql"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(f"\\set id random(1, {COUNT})\n{statement};\n")
    pgbench = Path(os.environ.get("SDI_PGBIN", "/usr/lib/postgresql/15/bin")) / "pgbench"
    p = db_params()
    command = [str(pgbench), "-n", "-M", "prepared", "-c", str(concurrency), "-j", str(threads), "-f", str(script),
               "-h", p["host"], "-p", str(p["port"]), "-U", p["user"], p["dbname"]]
    env = {**os.environ, "PGPASSWORD": p["password"]}
    subprocess.run(command + ["-T", "3"], capture_output=True, env=env)  # warm-up
    with ForeignLoad(0) as foreign:
        done = subprocess.run(command + ["-T", str(duration)], capture_output=True, text=True, env=env)
    tps = next((float(l.split()[2]) for l in done.stdout.splitlines() if l.startswith("tps = ")), None)
    latency = next((float(l.split()[3]) for l in done.stdout.splitlines() if l.startswith("latency average")), None)
    if tps is None:
        return {"error": (done.stdout + done.stderr)[-400:]}
    # (no database CPU per request here: pgbench's backends have exited before it could be read)
    return {"req_s": round(tps, 1), "latency_ms": latency, "foreign_cpu": round(foreign.share, 3),
            "statement": statement, "mode": "pgbench -M prepared", "when": time.strftime("%Y-%m-%d %H:%M")}


# -- where one worker of ours spends a request, under load ----------------------------------------------

def py_spy_worker(kind: str, args) -> dict:
    """Start ours, load it with wrk on one request type and sample one worker with py-spy (wall clock, 200 Hz):
    each function's inclusive share of the samples, written to peers-logs/py-spy-<kind>.folded as well."""
    py_spy = PEERS_VENV / "bin" / "py-spy"
    proc = start_server("ours")
    try:
        worker = worker_pids(proc.pid)[0]
        paths_file = OUT / "peers-paths" / f"ours-{kind}.txt"
        paths_file.parent.mkdir(parents=True, exist_ok=True)
        paths_file.write_text("\n".join(path for path, _ in request_paths("ours", kind)) + "\n")
        load = subprocess.Popen(["wrk", f"-t{args.threads}", f"-c{args.concurrency}", f"-d{args.duration + 4}s",
                                 "-s", str(PEERS / "paths.lua"), base_url("ours"), "--", str(paths_file)],
                                stdout=subprocess.PIPE, text=True)
        time.sleep(2)
        folded = LOGS / f"py-spy-{kind}.folded"
        run([str(py_spy), "record", "-p", str(worker), "-d", str(args.duration), "-r", "200", "-f", "raw",
             "-o", str(folded), "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wrk_out = load.communicate()[0]
    finally:
        stop_process(proc)
    inclusive, total = {}, 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        for frame in {f.split(":")[0] for f in stack.split(";")}:  # "function (file" without the line number
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
    top = sorted(inclusive.items(), key=lambda kv: -kv[1])[:60]
    result = next((l for l in wrk_out.splitlines() if l.startswith("WRK-RESULT")), "")
    return {"samples": total, "wrk": result, "top": [f"{100 * n / total:5.1f}%  {frame})" for frame, n in top]}


# -- reporting ------------------------------------------------------------------------------------------

def machine_facts(peer_versions: dict, wrk_version: str) -> dict:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), "?")
    mem_kb = int(next(l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")))
    gdal = subprocess.run(["gdal-config", "--version"], capture_output=True, text=True).stdout.strip() or \
        subprocess.run(["ogrinfo", "--version"], capture_output=True, text=True).stdout.strip()
    pg = sql("SHOW server_version")[0][0]
    postgis = sql("SELECT postgis_lib_version()")[0][0]
    ours = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c",
                           "import importlib.metadata as m; print(m.version('pygeoapi'), m.version('Django'), m.version('gunicorn'), m.version('psycopg'))"],
                          capture_output=True, text=True).stdout.split()
    return {"cores": os.cpu_count(), "ram_gb": round(mem_kb / 1024 / 1024, 1), "cpu": cpu, "postgresql": pg,
            "postgis": postgis, "gdal": gdal, "python": platform.python_version(), "kernel": platform.release(),
            "ours": dict(zip(("pygeoapi", "Django", "gunicorn", "psycopg"), ours)), "peers": peer_versions,
            "wrk": wrk_version}


def fmt(value, digits=1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def ratio(a, b) -> str:
    if not a or not b:
        return "–"
    return f"{a / b:.2f}×"


def markdown(results: dict) -> str:
    lines = []
    m = results.get("machine", {})
    if m:
        lines += [f"Machine: {m['cores']} cores ({m['cpu']}), {m['ram_gb']} GB RAM; PostgreSQL {m['postgresql']}, "
                  f"PostGIS {m['postgis']}, GDAL {m['gdal']}, Python {m['python']}; {m['wrk']}.",
                  f"Ours: pygeoapi {m['ours'].get('pygeoapi')} + Django {m['ours'].get('Django')} + gunicorn "
                  f"{m['ours'].get('gunicorn')} (sync, {WORKERS} workers). tipg {m['peers'].get('tipg')} on uvicorn "
                  f"{m['peers'].get('uvicorn')} with uvloop {m['peers'].get('uvloop')} and httptools "
                  f"{m['peers'].get('httptools')} ({WORKERS} workers). Stock pygeoapi {m['peers'].get('pygeoapi')} "
                  f"(SQLAlchemy {m['peers'].get('SQLAlchemy')}, GeoAlchemy2 {m['peers'].get('GeoAlchemy2')}) on gunicorn "
                  f"{m['peers'].get('gunicorn')} (sync, {WORKERS} workers).", ""]
    if "load" in results:
        lines += [f"Load of the 1M GeoPackage ({results['load']['file_mb']} MB) with `manage.py import_dataset`: "
                  f"{results['load']['seconds']} s ({results['load']['when']}).", ""]
    runs = results.get("runs", {})
    if runs:
        lines += ["Runs (one server at a time; share of the 2 cores busy with other processes just before each "
                  "start): " + "; ".join(f"{SERVERS[n]['label']} {runs[n]['when']} at commit {runs[n].get('commit')}, "
                                         f"{runs[n].get('cpu_busy_before', 0):.0%} busy"
                                         for n in SERVERS if n in runs) + ".", ""]
    settings = results.get("settings", {})
    if settings:
        lines += [f"wrk -t{settings['threads']} -c{settings['concurrency']}, {settings['duration']} s per request type "
                  f"after a {settings['warmup']} s warm-up; latencies in ms.", ""]
    for kind, title in KINDS:
        ours_rps = runs.get("ours", {}).get("kinds", {}).get(kind, {}).get("wrk", {}).get("req_s")
        rows = []
        for name in SERVERS:
            entry = runs.get(name, {}).get("kinds", {}).get(kind)
            if entry is None:
                continue
            w = entry.get("wrk") or {}
            if not entry.get("ok"):
                rows.append(f"| {SERVERS[name]['label']} | not measured: {entry.get('note', '')[:100]} | | | | | | | | | |")
                continue
            matched = entry.get("numberMatched")
            errors = sum((w.get("errors") or {}).values())
            rel = "" if name == "ours" else ratio(ours_rps, w.get("req_s"))
            if name != "ours" and kind == "deep_offset":
                cursor = runs.get("ours", {}).get("kinds", {}).get("deep_cursor", {}).get("wrk", {}).get("req_s")
                rel = f"{rel} (our keyset: {ratio(cursor, w.get('req_s'))})"
            rows.append(f"| {SERVERS[name]['label']} | {fmt(w.get('req_s'))} | {fmt(w.get('p50_ms'))} | "
                        f"{fmt(w.get('p95_ms'))} | {fmt(w.get('p99_ms'))} | {fmt(w.get('server_cpu_ms'), 2)} | "
                        f"{fmt(w.get('database_cpu_ms'), 2)} | {errors or 0} | "
                        f"{'no' if matched is None else format(matched, ',')} | "
                        f"{'' if w.get('foreign_cpu') is None else format(w['foreign_cpu'], '.0%')} | {rel} |")
        floor = results.get("floor", {}).get(kind)
        if rows and floor and floor.get("req_s"):
            rows.append(f"| PostgreSQL alone ({floor['mode']}, our statement) | {fmt(floor['req_s'])} | "
                        f"{fmt(floor['latency_ms'], 2)} (mean) | | | | {fmt(floor.get('database_cpu_ms'), 3)} | 0 | | "
                        f"{format(floor['foreign_cpu'], '.0%')} | {ratio(ours_rps, floor['req_s'])} |")
        if rows:
            lines += [f"**{title}**", "",
                      "| server | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req | database CPU ms/req | errors "
                      "| numberMatched | other load | ours ÷ this |",
                      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", *rows, ""]
    walks = [(name, runs[name]["walk"]) for name in SERVERS if runs.get(name, {}).get("walk")]
    if walks:
        lines += ["Whole-table walk by `next` links, `limit=10000` (RSS of each worker in MB: before / after page 1 / "
                  "max / end):", "",
                  "| server | pages | features | total s | s/page first 5 | s/page last 5 | worker RSS | other load | outcome |",
                  "|---|---:|---:|---:|---:|---:|---|---:|---|"]
        for name, w in walks:
            rss = "; ".join(f"{x['start_mb']:.0f} / {x['after_page1_mb']:.0f} / {x['max_mb']:.0f} / {x['end_mb']:.0f}"
                            for x in w["workers"])
            outcome = "complete, all ids distinct" if w["complete"] else (w["failed"] or "incomplete")
            lines.append(f"| {SERVERS[name]['label']} | {w['pages']} | {w['features']:,} | {w['seconds']} | "
                         f"{w['first5_s']} | {w['last5_s']} | {rss} | {w.get('foreign_cpu', 0):.0%} | {outcome} |")
        lines.append("")
    comparison = bbox_comparison(results)
    if comparison:
        lines += comparison + [""]
    if runs.get("ours"):
        lines += ["Targets (issue 4):", ""] + targets(results) + [""]
    if results.get("sql_ms"):
        lines += ["The same SQL shapes in PostgreSQL alone (median of 5, ms): " + "; ".join(
            f"{label}: {ms}" for label, ms in results["sql_ms"].items()) + ".", ""]
    return "\n".join(lines)


def targets(results: dict) -> list[str]:
    """The issue's targets, each with met / not met."""
    runs = results.get("runs", {})

    def rps(name, kind):
        return runs.get(name, {}).get("kinds", {}).get(kind, {}).get("wrk", {}).get("req_s")

    def p95(kind):
        return runs.get("ours", {}).get("kinds", {}).get(kind, {}).get("wrk", {}).get("p95_ms")

    def verdict(ok):
        return "**met**" if ok else "**not met**"

    lines = ["| target | measured | verdict |", "|---|---|---|"]
    for peer, factor in (("tipg", 1.5), ("pygeoapi", 5.0)):
        for kind, label, ours_kind in (("page1", "first page", "page1"),
                                       ("deep_offset", "random deep page, offset in both", "deep_offset"),
                                       ("deep_offset", "random deep page, our keyset next links vs their offset", "deep_cursor"),
                                       ("crs", "`crs=EPSG:5897` page", "crs")):
            ours, theirs = rps("ours", ours_kind), rps(peer, kind)
            if not ours or not theirs:
                continue
            got = ours / theirs
            lines.append(f"| limit=1000, {label}: ≥ {factor}× {SERVERS[peer]['label']} | {got:.2f}× "
                         f"({ours:.1f} vs {theirs:.1f} req/s) | {verdict(got >= factor)}"
                         + ("" if got >= factor else f", {(1 - got / factor):.0%} short") + " |")
    for kind, label in (("bbox", "bbox"), ("prop_filter", "ma_loai_dat=ODT"), ("cql_filter", "filter=ma_loai_dat='ODT'")):
        value = p95(kind)
        if value is not None:
            lines.append(f"| p95 < 100 ms at concurrency 8, {label} | {value:.1f} ms | {verdict(value < 100)} |")
    walk = runs.get("ours", {}).get("walk")
    if walk:
        growth = []
        for worker in walk["workers"]:
            series = worker.get("series_mb") or []
            if len(series) > 20:  # the peak of the second half of the walk against the peak of the first half
                half = len(series) // 2
                growth.append(max(series[half:]) - max(series[:half]))
            else:
                growth.append(worker["end_mb"] - worker["max_mb"])
        slower = walk["last5_s"] / walk["first5_s"] if walk["first5_s"] else 0
        ok = walk["complete"] and max(growth) < 5 and slower < 1.5
        peaks = "; ".join(f"{w['start_mb']:.0f} → {w['max_mb']:.0f} → {w['end_mb']:.0f}" for w in walk["workers"])
        lines.append(f"| memory flat paging 1M rows (limit=10000, 100 pages) | RSS per worker start → max → end: "
                     f"{peaks} MB; peak of the 2nd half of the walk vs the 1st: "
                     f"{', '.join(f'{g:+.1f}' for g in growth)} MB; s/page last 5 ÷ first 5: {slower:.2f} "
                     f"| {verdict(ok)} |")
    return lines


def bbox_comparison(results: dict) -> list[str]:
    runs = results.get("runs", {})
    have = {name: runs[name]["bbox_ids"] for name in SERVERS if runs.get(name, {}).get("bbox_ids")}
    if len(have) < 2:
        return []
    lines = ["Same 5 bboxes on each server (ids compared with ours):", ""]
    reference = have.get("ours")
    for name, boxes in have.items():
        if name == "ours" or reference is None:
            continue
        same_sets = sum(1 for a, b in zip(reference, boxes) if isinstance(b["all"], list) and set(a["all"]) == set(b["all"]))
        same_pages = sum(1 for a, b in zip(reference, boxes) if a["page"] == b["page"])
        same_sorted = sum(1 for a, b in zip(reference, boxes) if a["page"] == b.get("sorted"))
        diffs = [len(set(a["all"]) ^ set(b["all"])) for a, b in zip(reference, boxes) if isinstance(b["all"], list)]
        lines.append(f"- {SERVERS[name]['label']}: complete id sets equal in {same_sets}/5 boxes (ids in one set "
                     f"only: {diffs}); first 100 in the same order {same_pages}/5; with sortby=fid {same_sorted}/5.")
    truth = results.get("bbox_truth")
    if truth:
        lines.append(f"- Against PostGIS ({truth['features']} parcels really intersect the 5 lon/lat boxes, geometries "
                     f"taken to WGS 84 with the pinned EPSG:6960 operation): " + "; ".join(
                         f"{SERVERS[n]['label']} misses {v['missing']}, adds {v['extra']}"
                         for n, v in truth["servers"].items()) + ".")
    return lines


def load_results() -> dict:
    if RESULTS_JSON.exists():
        return json.loads(RESULTS_JSON.read_text())
    return {}


def save_results(results: dict) -> None:
    RESULTS_JSON.write_text(json.dumps(results, indent=1, ensure_ascii=False))


# -- main -----------------------------------------------------------------------------------------------

def bench_server(name: str, args, results: dict) -> None:
    run_entry = {"kinds": {}, "when": time.strftime("%Y-%m-%d %H:%M"), "commit": results.get("commit")}
    prepare_table()
    busy = cpu_busy_fraction()
    run_entry["cpu_busy_before"] = round(busy, 2)
    if busy > 0.15:
        log(f"warning: the machine is {busy:.0%} busy before starting {name} (other processes); numbers will suffer")
    proc = start_server(name)
    try:
        kinds = [k for k, _ in KINDS if k != "deep_cursor" or name == "ours"]
        for kind in kinds:
            outcome = verify(name, kind)
            run_entry["kinds"][kind] = outcome
            if not outcome["ok"]:
                log(f"{name} {kind}: NOT measured: {outcome['note']}")
                continue
            log(f"{name} {kind}: valid ({outcome['single_ms']} ms one by one); wrk {args.duration} s ...")
            attempts = []
            for attempt in range(1 + args.retries):
                quiet = wait_for_quiet(proc.pid, args.noise_limit, args.quiet_wait)
                if quiet >= args.noise_limit:
                    log(f"  other processes still use {quiet:.0%} of the machine; measuring anyway")
                w = run_wrk(name, kind, args.duration, args.warmup, args.concurrency, args.threads, proc.pid)
                attempts.append(w)
                log(f"{name} {kind}: {w.get('req_s')} req/s, p50 {w.get('p50_ms')} p95 {w.get('p95_ms')} "
                    f"p99 {w.get('p99_ms')} ms, errors {w.get('errors')}, other load {w.get('foreign_cpu', 0):.0%}")
                if w.get("foreign_cpu", 0) < args.noise_limit:
                    break
            # keep the attempt least disturbed by other processes
            outcome["wrk"] = w = min(attempts, key=lambda a: a.get("foreign_cpu", 1))
            outcome["attempts"] = len(attempts)
            if w.get("errors", {}).get("status"):
                outcome["note"] = f"{w['errors']['status']} non-2xx responses under load"
        run_entry["bbox_ids"] = bbox_ids(name)
        if not args.no_walk:
            log(f"{name}: walking the whole table by next links (cap {args.walk_cap} s) ...")
            with ForeignLoad(proc.pid) as foreign:
                run_entry["walk"] = walk(name, proc, args.walk_cap)
            run_entry["walk"]["foreign_cpu"] = round(foreign.share, 3)
            w = run_entry["walk"]
            log(f"{name} walk: {w['pages']} pages, {w['features']} features in {w['seconds']} s; "
                f"{w['first5_s']} s/page first 5, {w['last5_s']} s/page last 5; {w['failed'] or 'complete'}")
        else:
            previous = results.get("runs", {}).get(name, {}).get("walk")
            if previous:
                run_entry["walk"] = previous
    finally:
        stop_process(proc)
        log(f"{name} stopped")
    results.setdefault("runs", {})[name] = run_entry
    save_results(results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=list(SERVERS), action="append",
                        help="benchmark only this server (repeatable); earlier results of the others are kept")
    parser.add_argument("--duration", type=int, default=20, help="seconds of wrk per request type (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up, not measured (default 3)")
    parser.add_argument("--concurrency", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--noise-limit", type=float, default=0.10,
                        help="share of the machine other processes may use during a run before it is repeated "
                             "(default 0.10)")
    parser.add_argument("--retries", type=int, default=2, help="repeats of a disturbed run (default 2)")
    parser.add_argument("--quiet-wait", type=int, default=120,
                        help="seconds to wait for other processes to calm down before each run (default 120)")
    parser.add_argument("--walk-cap", type=int, default=600, help="seconds allowed for each whole-table walk")
    parser.add_argument("--no-walk", action="store_true", help="skip the whole-table walk")
    parser.add_argument("--reload", action="store_true", help="re-import the 1M GeoPackage even if loaded (timed)")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one request of ours per request type and time the bare SQL")
    parser.add_argument("--report", action="store_true", help="only print the markdown of the saved results")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip the PostgreSQL floor (pgbench on our items/{id} statement), run after ours")
    parser.add_argument("--py-spy", metavar="KIND", choices=[k for k, _ in KINDS],
                        help="only sample one worker of ours with py-spy while wrk sends KIND requests (e.g. item)")
    args = parser.parse_args()

    if args.report:
        print(markdown(load_results()))
        return 0
    # Ctrl-C, kill, a closed terminal: stop the servers we started, then exit (also when SIGINT was inherited
    # as ignored, as for a job started in the background by a non-interactive shell)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    OUT.mkdir(parents=True, exist_ok=True)
    results = load_results()
    results["commit"] = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True,
                                       text=True).stdout.strip()
    try:
        wrk_version = ensure_wrk()
        ensure_dataset(results, args.reload)
        save_results(results)
        peer_versions = ensure_peers()
        results["machine"] = machine_facts(peer_versions, wrk_version)
        results["settings"] = {"duration": args.duration, "warmup": args.warmup, "concurrency": args.concurrency,
                               "threads": args.threads, "workers": WORKERS}
        if args.py_spy:
            prepare_table()
            profile = py_spy_worker(args.py_spy, args)
            results.setdefault("py_spy", {})[args.py_spy] = profile
            save_results(results)
            print(f"\npy-spy, one worker of ours, {args.py_spy} ({profile['samples']} samples; {profile['wrk']}):")
            print("\n".join(profile["top"]))
            return 0
        for name in args.only or list(SERVERS):
            bench_server(name, args, results)
        if "ours" in (args.only or SERVERS) and not args.no_floor:
            log("PostgreSQL floor: pgbench on our items/{id} statement ...")
            results["floor"] = {"item": pgbench_floor(args.duration, args.concurrency, args.threads)}
            log(f"floor: {results['floor']['item'].get('req_s')} req/s")
            save_results(results)
        bbox_truth(results)
        save_results(results)
        if args.profile:
            results["profile"] = profile_ours(["page1", "bbox", "prop_filter", "item"])
            results["sql_ms"] = sql_timings()
            save_results(results)
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({exc or 'SIGINT'}); servers stopped")
        return 128 + getattr(exc, "signum", signal.SIGINT)
    finally:
        stop_all()
    report = markdown(results)
    RESULTS_MD.write_text(report)
    print("\n" + report)
    if args.profile:
        for kind, entry in results["profile"].items():
            print(f"\nprofile of ours, {kind} ({entry['path']}): {entry['wall_ms']} ms per request in-process")
            print("\n".join(entry["top"]))
        print("\nbare SQL (median of 5, ms):", json.dumps(results["sql_ms"], ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
