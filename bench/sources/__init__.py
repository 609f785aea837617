"""Harvest benchmarks of the sources kept in sync (layers/sources/, issue 10): a PostgreSQL source against
`ogr2ogr` PG→PG and the COPY floor, a re-harvest after 1 % changed, and a remote OGC API against `ogr2ogr` OAPIF.

`sector` sets up the sector database the sources read, `movers` are the peers (floor, ogr2ogr) and ours
(the admin's commands), `remote` serves this SDI's own OGC API as the remote server, `__main__` is the command.
"""
