"""Where the time of a request goes: cProfile in-process, py-spy on a loaded worker, the SQL in PostgreSQL alone."""
