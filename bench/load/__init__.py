"""Load on an OGC API server: the request shapes, the checks of an answer, wrk, the whole-table walk, the same-box
comparison and the PostgreSQL floor."""
