"""The task queue (procrastinate in PostgreSQL): its tasks (tasks), queueing harvests (deferral), the worker around
procrastinate's (worker), import jobs (queue), which process owns a running job (owner), stopping one at once
(stopping), cleaning up after an interrupted one (cleanup), the worker's heartbeat (health) and the gunicorn-side
supervisor (supervisor)."""
