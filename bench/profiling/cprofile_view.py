"""cProfile of our view for one request of a type, in-process (Django's test client): what dominates a request."""
import subprocess

from bench import REPO
from bench.load.shapes import request_paths
from bench.processes import log, ours_env


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
