"""Where one worker of ours spends a request under load: py-spy samples it while wrk sends one request type."""
import subprocess
import time

from bench import OUT
from bench.load.shapes import request_paths
from bench.load.wrk import PATHS_LUA
from bench.peers.servers import LOGS, base_url, start_server
from bench.peers.venv import PEERS_VENV
from bench.processes import run, stop_process, worker_pids


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
                                 "-s", str(PATHS_LUA), base_url("ours"), "--", str(paths_file)],
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
