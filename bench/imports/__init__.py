"""Loading a file: `python -m bench.imports FILE` times ours against a plain ogr2ogr (`job_timer` times the service
alone)."""
