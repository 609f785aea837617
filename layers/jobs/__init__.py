"""Import jobs: the queue in PostgreSQL (queue), which process owns a running job (owner), cleaning up after an
interrupted one (cleanup), the worker's heartbeat (health) and the gunicorn-side supervisor (supervisor)."""
