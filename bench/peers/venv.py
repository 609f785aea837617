"""The peers (tipg, stock pygeoapi, py-spy) in their own venv, bench/out/peers-venv, never in the project's .venv,
at exactly the versions pinned in bench/peers/requirements.txt."""
import json
import os
import subprocess
from pathlib import Path

from bench import OUT, REPO
from bench.processes import log, run

PEERS = Path(__file__).resolve().parent
PEERS_VENV = OUT / "peers-venv"
PEER_REQUIREMENTS = PEERS / "requirements.txt"  # pinned: tipg on uvicorn[standard] (uvloop + httptools), ...


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
