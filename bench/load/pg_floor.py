"""The PostgreSQL floor: our items/{id} statement alone in pgbench, with no web server: what no server on this
database can beat."""
import os
import subprocess
import time
from pathlib import Path

from bench import OUT, REPO
from bench.data.parcels_1m import COUNT, SLUG
from bench.database import db_params
from bench.foreign_load import ForeignLoad
from bench.processes import ours_env


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
