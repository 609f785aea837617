"""Cached calls over HTTP: gunicorn as the benchmarks start ours (2 workers, no access log), wrk at concurrency 8
against the JSON/CSV endpoint and the OGC API process, with other sessions' load and the CPU per request."""
import json
import subprocess
import time
import urllib.request
from pathlib import Path

from bench import OUT, REPO
from bench.foreign_load import ForeignLoad
from bench.load.wrk import PATHS_LUA, ensure_wrk
from bench.processes import _running, log, ours_env, port_free

POST_LUA = Path(__file__).resolve().with_name("post.lua")
WORKERS = 2


def start_gunicorn(port: int) -> subprocess.Popen:
    if not port_free(port):
        raise SystemExit(f"port {port} is already in use (choose another with --port)")
    env = ours_env(SDI_WORKERS=str(WORKERS), SDI_IMPORT_WORKER="0", SDI_BIND=f"127.0.0.1:{port}",
                   SDI_LOG_LEVEL="warning")
    log_file = open(OUT / "summaries-gunicorn.log", "w")
    proc = subprocess.Popen([str(REPO / ".venv" / "bin" / "gunicorn"), "-c",
                             str(REPO / "bench" / "peers" / "gunicorn-ours.conf.py")], env=env, cwd=REPO,
                            stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    _running.append(proc)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}; see {log_file.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
                if answer.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer on port {port}")


def fetch(url: str, body: dict | None = None, timeout: float = 300, header: str | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    if header:
        name, _, value = header.partition(":")
        headers[name] = value.strip()
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return answer.status, answer.read()


def wrk(base: str, path: str, duration: int, concurrency: int, server_pgid: int, body: dict | None = None,
        header: str | None = None) -> dict:
    """`header`: one more request header of the POST ("Name: value")."""
    work = OUT / "summaries-wrk"
    work.mkdir(parents=True, exist_ok=True)
    if body is None:
        (work / "paths.txt").write_text(path + "\n")
        command = ["wrk", "-t2", f"-c{concurrency}", "--timeout", "60s", "-s", str(PATHS_LUA), base, "--",
                   str(work / "paths.txt")]
    else:
        (work / "body.json").write_text(json.dumps(body))
        command = ["wrk", "-t2", f"-c{concurrency}", "--timeout", "60s", "-s", str(POST_LUA), base, "--", path,
                   str(work / "body.json")] + ([header] if header else [])
    subprocess.run(command[:1] + ["-d2s"] + command[1:], capture_output=True, text=True, timeout=120)  # warm-up
    with ForeignLoad(server_pgid) as foreign:
        done = subprocess.run(command[:1] + [f"-d{duration}s"] + command[1:], capture_output=True, text=True,
                              timeout=duration + 120)
    line = next((l for l in done.stdout.splitlines() if l.startswith("WRK-RESULT")), None)
    if line is None:
        return {"error": f"wrk failed: {done.stdout[-300:]} {done.stderr[-300:]}"}
    v = {k: float(x) for k, x in (item.split("=") for item in line.split()[1:])}
    seconds = v["duration_us"] / 1e6
    return {"req_s": round(v["requests"] / seconds, 1), "p50_ms": round(v["p50_us"] / 1000, 1),
            "p99_ms": round(v["p99_us"] / 1000, 1), "errors": int(v["status"] + v["timeout"] + v["connect"]),
            "kb_per_answer": round(v["bytes"] / max(1, v["requests"]) / 1000, 1),
            "other_load": round(foreign.share, 2),
            "server_cpu_ms": round(1000 * foreign.server_cpu / max(1, v["requests"]), 3),
            "database_cpu_ms": round(1000 * foreign.database_cpu / max(1, v["requests"]), 3)}


def wrk_version() -> str:
    return ensure_wrk()
