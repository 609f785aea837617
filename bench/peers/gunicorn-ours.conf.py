"""gunicorn settings for ours in `python -m bench.peers`: deploy/gunicorn.conf.py as it is, without the access log.

The peers write none (tipg runs with --no-access-log; stock pygeoapi's gunicorn has no access log by default),
and formatting one line per request, even to /dev/null, was 6% of a worker's time on items/{id}. Behind nginx
(docs/deployment.md), nginx logs every request anyway.
"""
import runpy
from pathlib import Path

_deployed = runpy.run_path(str(Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"))
globals().update({name: value for name, value in _deployed.items() if not name.startswith("_")})
accesslog = None
