"""The side-by-side OGC API benchmark against tipg and stock pygeoapi: their pinned versions (`requirements.txt`),
configs (`pygeoapi-config.template.yml`, `gunicorn-ours.conf.py`), venv (`venv`), servers (`servers`), one
server's turn (`per_server`) and the command (`python -m bench.peers`)."""
