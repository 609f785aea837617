"""The three OGC API servers compared (ours, tipg, stock pygeoapi): their ports, command lines and start-up, each
with 2 workers on the same table, on loopback only."""
import json
import os
import string
import subprocess
import time
from pathlib import Path

from bench import OUT, REPO
from bench.data.parcels_1m import SCHEMA, SLUG, TABLE
from bench.database import db_params
from bench.load.fetch import http_get
from bench.peers.venv import PEERS, PEERS_VENV
from bench.processes import _running, log, ours_env, port_free, run, worker_pids

LOGS = OUT / "peers-logs"
WORKERS = 2


SERVERS = {
    "ours": {"port": 8101, "items": f"/ogcapi/collections/{SLUG}/items", "label": "Cần Thơ SDI"},
    "tipg": {"port": 8102, "items": f"/collections/{SCHEMA}.{TABLE}/items", "label": "tipg"},
    "pygeoapi": {"port": 8103, "items": f"/collections/{TABLE}/items", "label": "stock pygeoapi"},
}


def base_url(name: str) -> str:
    return f"http://127.0.0.1:{SERVERS[name]['port']}"


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
