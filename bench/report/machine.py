"""What the results were measured on: the machine, the database and every server's versions."""
import os
import platform
import subprocess
from pathlib import Path

from bench import REPO
from bench.database import sql


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
