"""Cached calls over HTTP: gunicorn as the benchmarks start ours (2 workers, no access log), wrk at concurrency 8
against the JSON/CSV endpoint and the OGC API process, with other sessions' load and the CPU per request."""
import json
import subprocess
import time
import urllib.request
from pathlib import Path

from bench import OUT, REPO
from bench.load.wrk import PATHS_LUA, ensure_wrk, measure
from bench.processes import _running, ours_env, port_free

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
    m = measure(command, duration, warmup=2, server_pgid=server_pgid)
    if "error" in m:
        return m
    return {"req_s": round(m["req_s"], 1), "p50_ms": m["p50_ms"], "p99_ms": m["p99_ms"],
            "errors": sum(m["errors"].get(k, 0) for k in ("status", "timeout", "connect")),
            "kb_per_answer": round(m["bytes"] / max(1, m["requests"]) / 1000, 1), "other_load": round(m["foreign_cpu"], 2),
            "server_cpu_ms": m["server_cpu_ms"], "database_cpu_ms": m["database_cpu_ms"]}


def wrk_version() -> str:
    return ensure_wrk()
