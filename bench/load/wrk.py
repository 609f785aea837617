"""Load generation with wrk (installed with apt when missing) and bench/load/paths.lua: one run of one request type
against one server, with the other processes' load and the CPU per request measured alongside."""
import os
import shutil
import subprocess
from pathlib import Path

from bench import OUT
from bench.foreign_load import ForeignLoad
from bench.load.shapes import request_paths
from bench.peers.servers import base_url
from bench.processes import log, run

PATHS_LUA = Path(__file__).resolve().with_name("paths.lua")


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        log("installing wrk (apt-get install -y wrk)")
        apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]  # wait for another session's apt-get, don't fail
        if subprocess.run([*apt, "install", "-y", "wrk"], stdout=subprocess.DEVNULL).returncode != 0:
            run([*apt, "update"], stdout=subprocess.DEVNULL)
            run([*apt, "install", "-y", "wrk"], stdout=subprocess.DEVNULL)
    return subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0].strip()


def run_wrk(name: str, kind: str, duration: int, warmup: int, concurrency: int, threads: int,
            server_pgid: int = 0) -> dict:
    paths_file = OUT / "peers-paths" / f"{name}-{kind}.txt"
    paths_file.parent.mkdir(parents=True, exist_ok=True)
    paths_file.write_text("\n".join(path for path, _ in request_paths(name, kind)) + "\n")
    return measure(["wrk", f"-t{threads}", f"-c{concurrency}", "--timeout", "60s", "-s", str(PATHS_LUA),
                    base_url(name), "--", str(paths_file)], duration, warmup, server_pgid)


def measure(command: list[str], duration: int, warmup: int, server_pgid: int = 0) -> dict:
    """Run a wrk command (no -d: a warm-up of `warmup` s first, then `duration` s timed) whose script prints
    report.lua's WRK-RESULT line, with the other processes' load and the CPU per request measured alongside."""
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
            "bytes": int(v["bytes"]), "errors": errors, "loadavg_before": round(load, 2), "seconds": round(seconds, 1),
            "foreign_cpu": round(foreign.share, 3),
            # CPU per request of the server's processes and of the benchmark database: less sensitive than req/s
            # to other sessions' load on the same cores
            "server_cpu_ms": round(1000 * foreign.server_cpu / max(1, v["requests"]), 3),
            "database_cpu_ms": round(1000 * foreign.database_cpu / max(1, v["requests"]), 3)}
